"""The Helm chart charts/level5, checked without a cluster: helm lint --strict, helm template with the default
and with non-default values, least-privilege RBAC, the CRD copies, the webhook wiring, the sandbox namespace
defaults against the operator's own manifests, and kube-score (a third-party Kubernetes security linter) on
the rendered manifests.

helm and kube-score are the ones cluster/build.sh builds into ~/.cache/level5/bin/tools (make chart-tools;
make unit and make test build them first)."""

from __future__ import annotations

import base64
import functools
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from level5.core.config import OperatorConfig
from level5.people import admission
from level5.sandbox import manifests as sandbox_manifests

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "level5"
NONDEFAULT_VALUES = CHART / "ci" / "nondefault-values.yaml"
NAMESPACE = "level5-system"
KUBE_VERSION = "1.34.4"  # the local cluster's (cluster/lib.sh K8S_VERSION)

Manifest = dict[str, Any]


@functools.cache
def tool(name: str) -> str:
    """Path of a tool built by cluster/build.sh, from the versions and cache directory in cluster/lib.sh."""
    var = {"helm": "HELM_VERSION", "kube-score": "KUBE_SCORE_VERSION"}[name]
    script = f'source cluster/lib.sh && echo "$TOOLS_DIR/{name}-${var}/{name}"'
    path = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    if not Path(path).is_file():
        pytest.fail(f"{name} not found at {path}. Fix: make chart-tools (bash cluster/build.sh chart-tools)")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=120)


def render_text(*extra: str) -> str:
    result = run(
        tool("helm"),
        "template",
        "rel",
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@functools.cache
def render(values: str | None = None, *sets: str) -> tuple[Manifest, ...]:
    extra = ["--values", values] if values else []
    for s in sets:
        extra += ["--set", s]
    return tuple(doc for doc in yaml.safe_load_all(render_text(*extra)) if doc)


def default() -> tuple[Manifest, ...]:
    return render()


def nondefault() -> tuple[Manifest, ...]:
    return render(str(NONDEFAULT_VALUES))


RENDERS = {"default": default, "nondefault": nondefault}


def find(docs: tuple[Manifest, ...], kind: str, name: str | None = None) -> list[Manifest]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: tuple[Manifest, ...], kind: str, name: str | None = None) -> Manifest:
    found = find(docs, kind, name)
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def operator_container(docs: tuple[Manifest, ...]) -> Manifest:
    container: Manifest = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return container


def env_of(docs: tuple[Manifest, ...]) -> dict[str, Manifest]:
    return {e["name"]: e for e in operator_container(docs)["env"]}


# --- helm lint and template ---------------------------------------------------------------------------


@pytest.mark.parametrize("values", [None, NONDEFAULT_VALUES], ids=["default", "nondefault"])
def test_helm_lint_strict(values: Path | None) -> None:
    extra = ["--values", str(values)] if values else []
    result = run(tool("helm"), "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION, *extra)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_rejects_unknown_and_invalid_values() -> None:
    for bad in [
        "foo=1",
        "image.foo=1",
        "webhook.port=80",
        "sandbox.namespaces[0]=Not_A_Name",
        "extraEnv[0].name=LEVEL5_AUDIT_PATH",
        "webhook.failurePolicy=Sometimes",
    ]:
        result = run(
            tool("helm"), "template", "rel", str(CHART), "--kube-version", KUBE_VERSION, "--set", bad
        )
        assert result.returncode != 0 and "schema" in result.stderr, bad


def _leaf_paths(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaf_paths(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


def _schema_has(schema: Manifest, path: str) -> bool:
    node = schema
    for part in path.split("."):
        props = node.get("properties", {})
        if part not in props:
            # Only a free-form map (labels, annotations, ...) may hold keys the schema does not name.
            return isinstance(node.get("additionalProperties"), dict)
        node = props[part]
    return True


def test_schema_covers_every_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    for source in (CHART / "values.yaml", NONDEFAULT_VALUES):
        values = yaml.safe_load(source.read_text())
        missing = [p for p in _leaf_paths(values) if not _schema_has(schema, p)]
        assert not missing, f"{source.name}: not in values.schema.json: {missing}"
    assert set(schema["properties"]) == set(yaml.safe_load((CHART / "values.yaml").read_text()))


# --- CRDs ---------------------------------------------------------------------------------------------


KOPF_PEERING_CRD = "kopf-peering.yaml"
"""kopf's ClusterKopfPeering CRD (for the standby operator): not generated, kept in the chart only."""


def test_chart_crds_are_byte_identical_to_repo_crds() -> None:
    """Every file in crds/ (AgentTask, Approval, ...) has a byte-identical copy in the chart, and the chart
    has no other but kopf's peering CRD. `make crds` regenerates crds/ and copies them."""
    repo = {p.name: p.read_bytes() for p in sorted((ROOT / "crds").glob("*.yaml"))}
    chart = {
        p.name: p.read_bytes() for p in sorted((CHART / "crds").glob("*.yaml")) if p.name != KOPF_PEERING_CRD
    }
    assert repo, "no CRDs in crds/"
    assert sorted(chart) == sorted(repo), "run: make crds (copies crds/*.yaml into charts/level5/crds/)"
    for name, content in repo.items():
        assert chart[name] == content, f"charts/level5/crds/{name} differs from crds/{name}: run make crds"


def test_crds_are_not_templated() -> None:
    """Helm installs crds/ as-is; nothing else in the chart may create or own a CRD."""
    for render_fn in RENDERS.values():
        assert not find(render_fn(), "CustomResourceDefinition")


# --- the operator Deployment --------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERS)
def test_deployment_is_locked_down(name: str) -> None:
    docs = RENDERS[name]()
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    c = operator_container(docs)
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65532
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert {"name": "health", "containerPort": 8080, "protocol": "TCP"} in c["ports"]
    assert (
        set(c["resources"]["requests"])
        == set(c["resources"]["limits"])
        == {"cpu", "memory", "ephemeral-storage"}
    )
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert mounts["/tmp"] == "tmp"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["tmp"]
    audit_path = env_of(docs)["LEVEL5_AUDIT_PATH"]["value"]
    assert mounts[str(Path(audit_path).parent)] == "audit"


def test_deployment_defaults() -> None:
    docs = default()
    c = operator_container(docs)
    assert c["image"] == "level5.local/operator:dev"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["args"] == ["--all-namespaces"]
    assert (
        "command" not in c
    )  # the image's entrypoint: kopf run --standalone --liveness=... -m level5.handlers
    volumes = {v["name"]: v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    # The audit trail outlives the pod by default: a claim (of the default StorageClass), kept on uninstall.
    claim = one(docs, "PersistentVolumeClaim")
    assert volumes["audit"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert "storageClassName" not in claim["spec"]
    env = env_of(docs)
    plain = {k: v.get("value") for k, v in env.items() if "value" in v}
    assert plain == {
        "LEVEL5_MAX_MODEL_CALLS": "64",
        "LEVEL5_MAX_MODEL_CALLS_PER_ENDPOINT": "4",
        "LEVEL5_MODEL_TIMEOUT_SECONDS": "300",
        "LEVEL5_MODEL_RETRIES": "3",
        "LEVEL5_MODEL_BACKOFF_SECONDS": "2",
        "LEVEL5_RUNTIME_CLASS": "gvisor",
        "LEVEL5_SANDBOX_IMAGE": "level5.local/sandbox:dev",
        "LEVEL5_SANDBOX_IMAGE_JAVASCRIPT": "level5.local/sandbox-js:dev",
        "LEVEL5_AUDIT_PATH": "/var/lib/level5/audit.jsonl",
        "LEVEL5_METRICS_PORT": "9090",
        "LEVEL5_WEBHOOK_PORT": "9443",
        "LEVEL5_WEBHOOK_CERT_DIR": "/etc/level5/webhook",
        "LEVEL5_ALLOW_SELF_APPROVAL": "false",
        "LEVEL5_INJECTION_CLASSIFIER_EMBEDDED": "true",
        "LEVEL5_STREAMED_COLD_NAMESPACES": "[]",
        "LEVEL5_REDACTION_WORKERS": "2",
    }
    assert "LEVEL5_MODEL_API_KEY" not in env  # no default key unless a Secret is named
    assert env["LEVEL5_OPERATOR_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    redaction = env["LEVEL5_REDACTION_SECRET"]["valueFrom"]["secretKeyRef"]
    secret = one(docs, "Secret", redaction["name"])
    assert len(base64.b64decode(secret["data"][redaction["key"]])) >= 32


def test_deployment_nondefault_values() -> None:
    docs = nondefault()
    c = operator_container(docs)
    env = env_of(docs)
    assert c["image"] == "registry.example.com/level5/operator:0.1.0"
    assert env["LEVEL5_MODEL_BASE_URL"]["value"] == "https://api.openai.com/v1"
    assert env["LEVEL5_MODEL_NAME"]["value"] == "gpt-4o-mini"
    assert env["LEVEL5_MODEL_API_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "openai", "key": "OPENAI_API_KEY"}
    }
    assert env["LEVEL5_REDACTION_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "level5-redaction", "key": "secret"}
    }
    assert not find(docs, "Secret", "l5-redaction")  # an existing Secret is used, none is created
    assert env["LEVEL5_WEBHOOK_PORT"]["value"] == "10443"
    assert {"name": "webhook", "containerPort": 10443, "protocol": "TCP"} in c["ports"]
    assert {"mountPath": "/etc/level5/tls", "name": "webhook-tls", "readOnly": True} in c["volumeMounts"]
    volumes = {v["name"]: v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["audit"] == {"name": "audit", "persistentVolumeClaim": {"claimName": "l5-audit"}}
    assert volumes["webhook-tls"]["secret"]["secretName"] == "l5-webhook-cert"
    assert one(docs, "PersistentVolumeClaim", "l5-audit")["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert one(docs, "RuntimeClass", "gvisor")["handler"] == "runsc"
    assert env["PYTHONUNBUFFERED"]["value"] == "1"


# --- RBAC ---------------------------------------------------------------------------------------------

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "*"}

# What the operator's code and kopf need (see the comments in templates/rbac.yaml). The ClusterRole must
# grant at least this and nothing beyond it.
OPERATOR_NEEDS: dict[tuple[str, str], set[str]] = {
    ("level5.dev", "agenttasks"): {"get", "list", "watch", "patch"},
    ("level5.dev", "agenttasks/status"): {"get", "patch"},
    ("level5.dev", "approvals"): {"get", "list", "watch", "create", "patch"},
    ("level5.dev", "approvals/status"): {"get", "patch"},
    ("", "pods"): {"create", "get", "list", "watch", "delete"},
    ("", "pods/log"): {"get"},
    ("", "configmaps"): {"create", "get", "list", "watch"},
    ("", "events"): {"create", "list"},
    ("networking.k8s.io", "networkpolicies"): {"create"},
    ("", "resourcequotas"): {"create", "list", "watch"},
    ("", "limitranges"): {"create"},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},
    ("", "secrets"): {"get"},
}


def grants(role: Manifest) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for rule in role.get("rules", []):
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


@pytest.mark.parametrize("name", RENDERS)
def test_rbac_has_no_wildcards_crd_writes_or_escalation(name: str) -> None:
    docs = RENDERS[name]()
    roles = find(docs, "ClusterRole") + find(docs, "Role")
    assert roles
    for role in roles:
        for rule in role.get("rules", []):
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert "*" not in rule.get(field, []), f"wildcard in {role['metadata']['name']}: {rule}"
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), rule
            if "apiextensions.k8s.io" in rule["apiGroups"]:
                assert not WRITE_VERBS & set(rule["verbs"]), f"CRD write in {role['metadata']['name']}"
            if (
                "rbac.authorization.k8s.io" in rule["apiGroups"]
                or "admissionregistration.k8s.io" in rule["apiGroups"]
            ):
                pytest.fail(f"{role['metadata']['name']} grants access to {rule['apiGroups']}")
    for binding in find(docs, "ClusterRoleBinding") + find(docs, "RoleBinding"):
        assert binding["roleRef"]["name"] not in {"cluster-admin", "admin", "edit"}, binding


def test_operator_role_is_exactly_what_the_operator_uses() -> None:
    role = one(default(), "ClusterRole", "rel-level5-operator")
    assert grants(role) == OPERATOR_NEEDS
    binding = one(default(), "ClusterRoleBinding", "rel-level5-operator")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "rel-level5", "namespace": NAMESPACE}]


def test_secrets_can_be_limited_to_sandbox_namespaces() -> None:
    docs = nondefault()
    role = one(docs, "ClusterRole", "l5-operator")
    assert ("", "secrets") not in grants(role)
    for ns in ("team-a", "team-b"):
        reader = [r for r in find(docs, "Role") if r["metadata"]["namespace"] == ns]
        assert {("", "secrets"): {"get"}} in [grants(r) for r in reader]
        assert [g for g in (grants(r) for r in reader) if ("", "secrets") in g] == [
            {("", "secrets"): {"get"}}
        ]


def test_approver_role() -> None:
    role = one(default(), "ClusterRole", "level5-approver")
    assert role["metadata"]["labels"]["level5.dev/role"] == "approver"
    assert grants(role) == {
        ("level5.dev", "approvals"): {"get", "list", "watch", "patch", "update"},
        ("level5.dev", "agenttasks"): {"get", "list", "watch", "patch"},
    }
    assert "rbac.authorization.k8s.io/aggregate-to-edit" not in role["metadata"]["labels"]
    labels = one(nondefault(), "ClusterRole", "level5-approver")["metadata"]["labels"]
    assert labels["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    viewer = one(nondefault(), "ClusterRole", "level5-viewer")
    assert viewer["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert all(verbs == {"get", "list", "watch"} for verbs in grants(viewer).values())


# --- admission webhook --------------------------------------------------------------------------------

WEBHOOK_PATHS = {
    "MutatingWebhookConfiguration": {"/mutate-agenttask": "agenttasks", "/mutate-approval": "approvals"},
    "ValidatingWebhookConfiguration": {
        "/validate-agenttask": "agenttasks",
        "/validate-approval": "approvals",
    },
}


@pytest.mark.parametrize("name", RENDERS)
def test_webhook_configurations(name: str) -> None:
    docs = RENDERS[name]()
    prefix = "rel-level5" if name == "default" else "l5"
    service = one(docs, "Service", f"{prefix}-webhook")
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "targetPort": "webhook", "protocol": "TCP"}
    ]
    for kind, paths in WEBHOOK_PATHS.items():
        config = one(docs, kind)
        seen = {}
        for hook in config["webhooks"]:
            assert hook["failurePolicy"] == "Fail" and hook["sideEffects"] == "None"
            assert hook["admissionReviewVersions"] == ["v1"] and hook["matchPolicy"] == "Equivalent"
            assert hook["timeoutSeconds"] == (10 if name == "default" else 5)
            svc = hook["clientConfig"]["service"]
            assert (svc["name"], svc["namespace"], svc["port"]) == (f"{prefix}-webhook", NAMESPACE, 443)
            [rule] = hook["rules"]
            assert rule["apiGroups"] == ["level5.dev"] and rule["apiVersions"] == ["v1alpha1"]
            seen[svc["path"]] = rule["resources"][0]
        assert seen == paths


@pytest.mark.parametrize("name", RENDERS)
def test_webhooks_equal_the_operators_own_definition(name: str) -> None:
    """The chart's webhooks are the ones operator/level5/admission.py defines (paths, resources, operations,
    policies), apart from where they send requests and how they learn the CA."""
    docs = RENDERS[name]()
    selector = yaml.safe_load(NONDEFAULT_VALUES.read_text())["webhook"]["namespaceSelector"]
    expected = admission.webhook_configurations(
        "unused",
        lambda path: {"service": {"path": f"/{path}"}},
        namespace_selector=selector if name == "nondefault" else None,
    )

    def routed(hooks: list[Manifest]) -> list[Manifest]:
        """Each webhook with its clientConfig reduced to the URL path."""
        return [{**h, "clientConfig": h["clientConfig"]["service"]["path"]} for h in hooks]

    for config in expected:
        rendered = one(docs, config["kind"])
        if name == "nondefault":  # webhook.timeoutSeconds is 5 there
            config["webhooks"] = [{**h, "timeoutSeconds": 5} for h in config["webhooks"]]
        assert routed(rendered["webhooks"]) == routed(config["webhooks"])


def test_generated_certificate_is_shared_and_names_the_service() -> None:
    docs = default()
    secret = one(docs, "Secret", "rel-level5-webhook-tls")
    assert secret["type"] == "kubernetes.io/tls"
    ca = secret["data"]["ca.crt"]
    for kind in WEBHOOK_PATHS:
        assert all(h["clientConfig"]["caBundle"] == ca for h in one(docs, kind)["webhooks"])
    cert = base64.b64decode(secret["data"]["tls.crt"])
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=cert, capture_output=True, check=True
    ).stdout.decode()
    for dns in (
        "rel-level5-webhook",
        f"rel-level5-webhook.{NAMESPACE}.svc",
        f"rel-level5-webhook.{NAMESPACE}.svc.cluster.local",
    ):
        assert f"DNS:{dns}" in text


def test_cert_manager_mode() -> None:
    docs = nondefault()
    for kind in WEBHOOK_PATHS:
        config = one(docs, kind)
        assert config["metadata"]["annotations"] == {
            "cert-manager.io/inject-ca-from": f"{NAMESPACE}/l5-webhook"
        }
        assert all("caBundle" not in h["clientConfig"] for h in config["webhooks"])
    certificate = one(docs, "Certificate", "l5-webhook")
    assert certificate["spec"]["secretName"] == "l5-webhook-cert"
    assert f"l5-webhook.{NAMESPACE}.svc" in certificate["spec"]["dnsNames"]
    assert certificate["spec"]["issuerRef"] == {
        "name": "l5-selfsigned",
        "kind": "Issuer",
        "group": "cert-manager.io",
    }
    assert not find(docs, "Secret", "l5-webhook-cert")  # cert-manager writes it


def test_webhook_can_be_disabled() -> None:
    docs = render(None, "webhook.enabled=false")
    assert not find(docs, "MutatingWebhookConfiguration") and not find(docs, "ValidatingWebhookConfiguration")
    assert "webhook" not in {p["name"] for p in operator_container(docs)["ports"]}
    assert "LEVEL5_WEBHOOK_CERT_DIR" not in env_of(docs)  # the operator then starts no webhook server


# --- sandbox namespaces, metrics, dashboard, test ------------------------------------------------------


def test_sandbox_namespace_defaults_match_the_operators_own() -> None:
    """Same names and specs as operator/level5/sandbox_manifests.py, so the operator's create-if-missing
    finds the chart's objects and leaves them alone."""
    docs = render(None, "sandbox.namespaces={team-a}")
    namespace = one(docs, "Namespace", "team-a")
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    for kind, expected in [
        ("NetworkPolicy", sandbox_manifests.deny_all_network_policy("team-a")),
        ("ResourceQuota", sandbox_manifests.sandbox_resource_quota("team-a")),
        ("LimitRange", sandbox_manifests.sandbox_limit_range("team-a")),
    ]:
        rendered = one(docs, kind, expected["metadata"]["name"])
        assert rendered["metadata"]["namespace"] == "team-a"
        assert rendered["spec"] == expected["spec"], kind


def test_metrics_service_monitor_and_dashboard() -> None:
    docs = default()
    service = one(docs, "Service", "rel-level5-metrics")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert not find(docs, "ServiceMonitor")
    dashboard = one(docs, "ConfigMap", "rel-level5-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["level5.json"]) == json.loads(
        (CHART / "dashboards" / "level5.json").read_text()
    )
    monitor = one(nondefault(), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    service_labels = one(nondefault(), "Service", "l5-metrics")["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service_labels.items()
    assert one(nondefault(), "ConfigMap", "l5-dashboard")["metadata"]["namespace"] == "monitoring"


@pytest.mark.parametrize("name", RENDERS)
def test_helm_test_pod_scrapes_metrics_with_the_operator_image(name: str) -> None:
    docs = RENDERS[name]()
    pods = [d for d in find(docs, "Pod") if d["metadata"]["annotations"].get("helm.sh/hook") == "test"]
    assert len(pods) == 1
    container = pods[0]["spec"]["containers"][0]
    assert container["image"] == operator_container(docs)["image"]
    port = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["ports"][1]["containerPort"]
    script = container["command"][-1]
    service = next(s for s in find(docs, "Service") if s["metadata"]["name"].endswith("-metrics"))
    # The Service's address from service links (no cluster DNS needed), its DNS name as the fallback.
    env = service["metadata"]["name"].upper().replace("-", "_") + "_SERVICE_HOST"
    assert pods[0]["spec"]["enableServiceLinks"] is True
    assert f'os.environ.get("{env}", "{service["metadata"]["name"]}.{NAMESPACE}.svc")' in script
    assert f":{port}/metrics" in script
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # Allowed by the NetworkPolicies: the test pod's own egress policy and the operator's ingress policy.
    policy = one(docs, "NetworkPolicy", pods[0]["metadata"]["name"])
    assert {"port": port, "protocol": "TCP"} in policy["spec"]["egress"][1]["ports"]
    operator_policy = [p for p in find(docs, "NetworkPolicy") if p["metadata"]["name"].endswith("-operator")]
    metrics_rule = operator_policy[0]["spec"]["ingress"][1]
    assert {"podSelector": {}} in metrics_rule["from"] and metrics_rule["ports"][0]["port"] == "metrics"


@pytest.mark.parametrize("name", RENDERS)
def test_services_and_policies_select_the_right_pods(name: str) -> None:
    docs = RENDERS[name]()
    operator_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    test_pod_labels = one(docs, "Pod")["metadata"]["labels"]
    daemon_labels = [d["spec"]["template"]["metadata"]["labels"] for d in find(docs, "DaemonSet")]
    for service in find(docs, "Service"):
        selector = service["spec"]["selector"]
        assert selector.items() <= operator_labels.items(), service["metadata"]["name"]
        assert not selector.items() <= test_pod_labels.items(), service["metadata"]["name"]
        port_names = {p["name"] for p in operator_container(docs)["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    policies = [p for p in find(docs, "NetworkPolicy") if p["metadata"]["namespace"] == NAMESPACE]
    selected = {
        p["metadata"]["name"]: [
            labels
            for labels in (operator_labels, test_pod_labels, *daemon_labels)
            if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        ]
        for p in policies
    }
    assert all(len(pods) == 1 for pods in selected.values()), selected


def test_syscall_monitor_is_off_by_default() -> None:
    docs = default()
    assert not find(docs, "DaemonSet")
    assert "LEVEL5_SYSCALL_MONITOR_URL" not in env_of(docs)
    external = render(None, "syscallMonitor.url=http://{hostIP}:18090")
    assert not find(external, "DaemonSet")
    assert env_of(external)["LEVEL5_SYSCALL_MONITOR_URL"]["value"] == "http://{hostIP}:18090"


def test_syscall_monitor_daemonset() -> None:
    docs = nondefault()
    assert env_of(docs)["LEVEL5_SYSCALL_MONITOR_URL"]["value"] == "http://{hostIP}:18091"
    pod = one(docs, "DaemonSet")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["nodeSelector"] == {"sandbox.example.com/gvisor": "true"}
    (container,) = pod["containers"]
    assert container["image"] == operator_container(docs)["image"]
    assert container["command"] == [
        "level5",
        "syscall-monitor",
        "--socket=/run/l5/syscall-monitor.sock",
        "--listen=0.0.0.0:18091",
        "--ttl=600",
    ]
    assert container["ports"] == [
        {"name": "http", "containerPort": 18091, "hostPort": 18091, "protocol": "TCP"}
    ]
    sc = container["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert pod["volumes"] == [{"name": "sink", "hostPath": {"path": "/run/l5", "type": "DirectoryOrCreate"}}]
    policy = one(docs, "NetworkPolicy", "l5-syscall-monitor")["spec"]
    assert policy["egress"] == [] and policy["policyTypes"] == ["Ingress", "Egress"]
    operator_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    (peer,) = policy["ingress"][0]["from"]
    assert peer["podSelector"]["matchLabels"].items() <= operator_labels.items()


# --- kube-score --------------------------------------------------------------------------------------

# kube-score runs with every optional check on. These findings are accepted, each for the stated reason;
# anything else below grade OK fails the test. Keys: (kind, name prefix or "*", check id).
ACCEPTED: dict[tuple[str, str, str], str] = {
    ("*", "*", "container-image-pull-policy"): (
        "IfNotPresent by default: the local cluster imports images into containerd and has no registry to "
        "pull from; image.pullPolicy=Always is available where a registry is used"
    ),
    ("*", "*", "container-resource-requests-equal-limits"): (
        "covered by the memory and ephemeral-storage variants below, which pass; CPU is allowed to burst"
    ),
    ("*", "*", "container-cpu-requests-equal-limits"): (
        "the operator is I/O-bound and idle most of the time; a CPU limit is set, so bursting to it cannot "
        "starve other pods, and reserving the whole limit would waste a core"
    ),
    ("Deployment", "*", "deployment-replicas"): (
        "exactly one replica by design: kopf runs --standalone without peering, and two operators must never "
        "drive the same task (a sandbox iteration must never run twice)"
    ),
    ("Deployment", "*", "deployment-strategy"): (
        "Recreate by design, for the same reason: the old operator is gone before the new one starts"
    ),
    ("Deployment", "*", "pod-probes-identical"): (
        "kopf serves one health endpoint (/healthz); the probes differ in timing, and readiness only gates "
        "the webhook and metrics Services"
    ),
    ("Deployment", "*", "pod-networkpolicy"): (
        "the operator's ingress is restricted; its egress is left open because it must reach the API server "
        "and the configured model endpoint, whose addresses and ports the chart cannot know"
    ),
    ("DaemonSet", "*", "container-security-context-user-group-id"): (
        "the syscall monitor runs as uid 0 only to create its socket in the root-owned host directory that "
        "runsc connects to; it has no capabilities, no privilege escalation, a read-only root and no "
        "service-account token, and that directory is the only host path it mounts"
    ),
    ("NetworkPolicy", "level5-sandbox-deny-all", "networkpolicy-targets-pod"): (
        "selects the sandbox pods the operator creates at run time (label level5.dev/sandbox=true), which "
        "are not part of the chart"
    ),
}


def accepted(kind: str, name: str, check: str) -> bool:
    return any(k in ("*", kind) and (n == "*" or name.startswith(n)) and c == check for k, n, c in ACCEPTED)


@pytest.mark.parametrize("values", [None, NONDEFAULT_VALUES], ids=["default", "nondefault"])
def test_kube_score(values: Path | None, tmp_path: Path) -> None:
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(render_text(*(["--values", str(values)] if values else [])))
    result = run(
        tool("kube-score"),
        "score",
        "--all-default-optional",
        "--kubernetes-version",
        "v1.34",
        "--output-format",
        "json",
        str(manifests),
    )
    assert result.returncode in (0, 1), result.stderr
    scored = json.loads(result.stdout)
    kinds = {o["type_meta"]["kind"] for o in scored}
    assert {"Deployment", "Pod", "Service", "NetworkPolicy"} <= kinds
    findings = []
    for obj in scored:
        kind, name = obj["type_meta"]["kind"], obj["object_meta"]["name"]
        for check in obj["checks"]:
            if check["skipped"] or check["grade"] >= 10:
                continue
            check_id = check["check"]["id"]
            if not accepted(kind, name, check_id):
                comments = "; ".join(c.get("summary", "") for c in check.get("comments") or [])
                findings.append(f"{kind}/{name}: {check_id}: {comments}")
    assert not findings, "\n".join(findings)


def test_injection_classifier_is_off_by_default() -> None:
    assert "LEVEL5_INJECTION_CLASSIFIER_URL" not in env_of(default())
    env = env_of(render(None, "injectionClassifier.url=http://guard:8000/v1"))
    assert env["LEVEL5_INJECTION_CLASSIFIER_URL"]["value"] == "http://guard:8000/v1"
    assert env["LEVEL5_INJECTION_CLASSIFIER_MODEL"]["value"] == "prompt-guard"
    assert env["LEVEL5_INJECTION_CLASSIFIER_TIMEOUT"]["value"] == "5"


def test_embedded_injection_classifier_is_on_by_default_and_can_be_turned_off() -> None:
    variable = "LEVEL5_INJECTION_CLASSIFIER_EMBEDDED"
    on = env_of(default())[variable]["value"]
    assert OperatorConfig.from_env({variable: on}).injection_classifier_embedded is True
    off = env_of(render(None, "injectionClassifier.embedded=false"))[variable]["value"]
    assert OperatorConfig.from_env({variable: off}).injection_classifier_embedded is False
    assert OperatorConfig.from_env({}).injection_classifier_embedded is True


def test_warm_pools_set_the_operators_pools_and_attach_only_in_their_namespaces() -> None:
    docs = render(
        None,
        "sandbox.pools[0].name=small",
        "sandbox.pools[0].namespace=team-a",
        "sandbox.pools[0].size=2",
        "sandbox.pools[1].name=big",
        "sandbox.pools[1].namespace=team-a",
        "sandbox.pools[1].memory=1Gi",
    )
    pools = OperatorConfig.from_env({"LEVEL5_SANDBOX_POOLS": env_of(docs)["LEVEL5_SANDBOX_POOLS"]["value"]})
    assert [(p.name, p.namespace, p.size, p.memory) for p in pools.sandbox_pools] == [
        ("small", "team-a", 2, "256Mi"),
        ("big", "team-a", 2, "1Gi"),
    ]
    attach = [r for r in find(docs, "Role") if grants(r).get(("", "pods/attach"))]
    assert [(r["metadata"]["namespace"], grants(r)) for r in attach] == [
        ("team-a", {("", "pods/attach"): {"create", "get"}})
    ]
    assert ("", "pods/attach") not in grants(one(docs, "ClusterRole", "rel-level5-operator"))
    binding = one(docs, "RoleBinding", "rel-level5-pool-attach")
    assert (
        binding["subjects"][0]["name"] == "rel-level5"
        and binding["roleRef"]["name"] == "rel-level5-pool-attach"
    )
    assert "LEVEL5_SANDBOX_POOLS" not in env_of(default())
    assert not [r for r in find(default(), "Role") if grants(r).get(("", "pods/attach"))]


def test_streamed_cold_pods_only_where_the_chart_grants_attach() -> None:
    """The operator is told exactly the namespaces it may attach in: its pools' and sandbox.namespaces."""

    def streamed(docs: list[dict[str, Any]]) -> list[str] | None:
        value = env_of(docs)["LEVEL5_STREAMED_COLD_NAMESPACES"]["value"]
        return OperatorConfig.from_env({"LEVEL5_STREAMED_COLD_NAMESPACES": value}).streamed_cold_namespaces

    assert streamed(default()) == []
    docs = render(
        None,
        "sandbox.pools[0].name=small",
        "sandbox.pools[0].namespace=team-a",
        "sandbox.namespaces[0]=team-a",
        "sandbox.namespaces[1]=team-b",
    )
    assert streamed(docs) == ["team-a", "team-b"]
    attach = [r for r in find(docs, "Role") if grants(r).get(("", "pods/attach"))]
    assert sorted(r["metadata"]["namespace"] for r in attach) == ["team-a", "team-b"]


def test_standby_runs_two_operators_that_share_a_peering_object() -> None:
    assert one(default(), "Deployment")["spec"]["replicas"] == 1
    assert not find(default(), "ClusterKopfPeering")
    docs = render(None, "standby.enabled=true", "standby.lifetimeSeconds=15")
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2 and deployment["spec"]["strategy"]["type"] == "Recreate"
    peering = one(docs, "ClusterKopfPeering")
    env = env_of(docs)
    assert env["LEVEL5_PEERING_NAME"]["value"] == peering["metadata"]["name"] == f"{NAMESPACE}-rel-level5"
    assert env["LEVEL5_PEERING_LIFETIME_SECONDS"]["value"] == "15"
    rules = one(docs, "ClusterRole", "rel-level5-operator")["rules"]
    assert {"apiGroups": ["kopf.dev"], "resources": ["clusterkopfpeerings"],
            "verbs": ["get", "list", "watch", "patch"]} in rules  # fmt: skip
