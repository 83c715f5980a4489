"""Operator configuration, read once from the environment at startup."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class PoolClass(BaseModel):
    """One warm pool of sandbox pods (LEVEL5_SANDBOX_POOLS, a JSON list; the chart's `sandboxPools`): `size`
    pre-started pods in `namespace`, each with the resources of one task class. A task is run warm only when
    its capabilities ask for exactly these resources and no reference data, and the pool's image is the one
    a cold pod of the task would get."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$")
    """The pool's name, part of its pods' names (at most 20 characters of a DNS label)."""
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    """Namespace whose tasks use the pool; its pods run there, under its sandbox guards."""
    size: int = Field(default=2, ge=1, le=50)
    """Pods kept ready."""
    cpu: str = Field(default="500m", max_length=32)
    """spec.capabilities.cpu of the tasks it serves (compared as quantities: "0.5" is "500m")."""
    memory: str = Field(default="256Mi", max_length=32)
    """spec.capabilities.memory of the tasks it serves."""
    ephemeral_storage: str = Field(default="64Mi", alias="ephemeralStorage", max_length=32)
    """spec.capabilities.ephemeralStorage of the tasks it serves."""
    image: str | None = None
    """Sandbox image of the pool's pods; unset: the operator's sandbox image (LEVEL5_SANDBOX_IMAGE)."""


class OperatorConfig(BaseModel):
    """Settings shared by every AgentTask this operator runs."""

    model_base_url: str = "http://127.0.0.1:8000/v1"
    """Default OpenAI-compatible endpoint (LEVEL5_MODEL_BASE_URL)."""
    model_name: str = "level5-default"
    """Default model name (LEVEL5_MODEL_NAME)."""
    model_api_key: str = Field(default="unused", repr=False)
    """Default API key (LEVEL5_MODEL_API_KEY); never logged."""
    runtime_class: str | None = "gvisor"
    """RuntimeClass of sandbox pods (LEVEL5_RUNTIME_CLASS; empty for the node default)."""
    sandbox_image: str = "level5.local/sandbox:dev"
    """Image with the runner at /opt/level5/runner.py that runs Python tasks (LEVEL5_SANDBOX_IMAGE)."""
    sandbox_image_javascript: str = "level5.local/sandbox-js:dev"
    """Image with the runner and Node.js that runs JavaScript tasks (LEVEL5_SANDBOX_IMAGE_JAVASCRIPT)."""
    max_concurrent_model_calls: int = 64
    """Model requests in flight at once across all tasks (LEVEL5_MAX_MODEL_CALLS)."""
    max_model_calls_per_endpoint: int = Field(default=4, ge=1)
    """Model requests in flight at once to one endpoint (LEVEL5_MAX_MODEL_CALLS_PER_ENDPOINT): a local
    server answers one request at a time; more only queue there, where they time out. Requests wait in the
    operator instead, and waiting does not count against a request's timeout."""
    model_timeout_seconds: float = Field(default=300.0, gt=0)
    """Seconds one model request may take (LEVEL5_MODEL_TIMEOUT_SECONDS): a local model writing a long
    program on a CPU takes minutes; a hanging endpoint is given up on after this."""
    model_retries: int = Field(default=3, ge=0)
    """Retries of a model call after a timeout, 429, 5xx, closed connection or malformed reply
    (LEVEL5_MODEL_RETRIES); each is an Event and sets the ModelRetrying condition. Then the task fails with
    reason ModelUnavailable."""
    model_backoff_seconds: float = Field(default=2.0, ge=0)
    """First wait before a retry (LEVEL5_MODEL_BACKOFF_SECONDS), doubled each time up to a minute; a longer
    Retry-After from the server wins."""
    audit_path: str = "/var/lib/level5/audit.jsonl"
    """Append-only hash-chained audit log (LEVEL5_AUDIT_PATH); also mirrored to the operator log."""
    redaction_secret: str = Field(default="", repr=False)
    """Mixed into each task's redaction key (LEVEL5_REDACTION_SECRET), so placeholders cannot be
    recomputed from a guessed value without it; never logged."""
    redaction_workers: int = Field(default=0, ge=0, le=64)
    """Processes that share the redaction of each large output (LEVEL5_REDACTION_WORKERS; the chart's
    `redaction.workers`): a text's detectors are split among them (``safety/workers.py``), so redaction
    uses that many cores and leaves the event loop's interpreter free. 0: in the operator process, in a
    worker thread."""

    operator_namespace: str = "level5-system"
    """Namespace of the operator (LEVEL5_OPERATOR_NAMESPACE), where the level5-emergency-stop ConfigMap
    lives."""
    allow_self_approval: bool = False
    """Whether the person who created a task may decide its Approvals (LEVEL5_ALLOW_SELF_APPROVAL)."""
    webhook_port: int = 9443
    """Port of the admission webhook server (LEVEL5_WEBHOOK_PORT)."""
    webhook_cert_dir: str | None = None
    """Directory with tls.crt and tls.key of the admission webhook (LEVEL5_WEBHOOK_CERT_DIR); unset: no
    webhook server (approvals then cannot be decided, the API server refuses them)."""
    webhook_addr: str = "0.0.0.0"  # noqa: S104  # in a pod the API server reaches it through a Service
    """Address the admission webhook server listens on (LEVEL5_WEBHOOK_ADDR)."""
    peering_name: str | None = None
    """Name of the ClusterKopfPeering object this operator and its standby share (LEVEL5_PEERING_NAME); unset
    or empty: standalone, one operator only. With it, the operator started first is active and every later
    one waits paused until the active one's keep-alive lapses."""
    peering_lifetime_seconds: int = Field(default=20, ge=5)
    """How long an operator's keep-alive holds (LEVEL5_PEERING_LIFETIME_SECONDS): a standby takes over this
    long after the active operator stopped renewing it."""
    metrics_port: int = 9090
    """Port of the Prometheus metrics endpoint (LEVEL5_METRICS_PORT)."""
    syscall_monitor_url: str | None = None
    """Base URL of the node's system-call collector (LEVEL5_SYSCALL_MONITOR_URL), a template where
    `{hostIP}` stands for the sandbox pod's `status.hostIP`, e.g. `http://{hostIP}:18090`; unset or empty:
    system-call monitoring is off (see level5.observability.syscalls)."""
    injection_classifier_url: str | None = None
    """OpenAI-compatible endpoint of a prompt-injection classifier giving layer 1 a second opinion on
    each goal and each run's redacted output (LEVEL5_INJECTION_CLASSIFIER_URL); unset or empty: the
    built-in check alone."""
    injection_classifier_model: str = "prompt-guard"
    """Model name sent to the classifier endpoint (LEVEL5_INJECTION_CLASSIFIER_MODEL)."""
    injection_classifier_timeout: float = 5.0
    """Seconds to wait for the classifier (LEVEL5_INJECTION_CLASSIFIER_TIMEOUT); then the built-in verdict
    stands and the failure is recorded."""
    injection_classifier_embedded: bool = True
    """Whether layer 1 also asks its embedded classifier (LEVEL5_INJECTION_CLASSIFIER_EMBEDDED; see
    level5.model.semantic): a sentence-embedding model in the operator's process that escalates, never
    blocks. Its model is loaded and checked at startup, and one that cannot be stops the operator: it was
    asked for. On by default since 2026-12-02: on the tenth blind round (round 13, before anything was
    fitted on it) it raised layer 1's detection from 152 to 177 of 200 attacks, for 4 more of 48 benign
    texts flagged; it escalates 4 of the 74 goals of the repository's cluster tests, samples and benchmarks
    (scrambled or enciphered words, "Print a line once a person agrees (e2e-approve).")."""

    queue_recheck_seconds: float = Field(default=120.0, gt=0)
    """How long a task waiting for quota waits at most before it tries again without a wake-up
    (LEVEL5_QUEUE_RECHECK_SECONDS). Wake-ups come from the ResourceQuota and sandbox pod watches; this
    fallback only covers a watch event lost while a watch reconnects, and an API server whose quota admission
    had not yet seen the change when the woken task tried."""

    sandbox_pools: list[PoolClass] = Field(default_factory=list)
    """Warm pools of pre-started sandbox pods (LEVEL5_SANDBOX_POOLS, a JSON list of PoolClass; see
    level5.sandbox.pool); empty: every iteration starts a cold pod."""
    streamed_cold_namespaces: list[str] | None = None
    """Where a cold iteration may run in a streamed pod, fed over attach streams
    (LEVEL5_STREAMED_COLD_NAMESPACES, a JSON list; the operator must be allowed pods/attach there): None
    (unset) for every namespace, [] for none. Elsewhere cold pods are ConfigMap-fed. The chart sets it to
    the namespaces it grants attach in."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OperatorConfig:
        """Read the LEVEL5_* variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        names = {
            "model_base_url": "LEVEL5_MODEL_BASE_URL",
            "model_name": "LEVEL5_MODEL_NAME",
            "model_api_key": "LEVEL5_MODEL_API_KEY",
            "runtime_class": "LEVEL5_RUNTIME_CLASS",
            "sandbox_image": "LEVEL5_SANDBOX_IMAGE",
            "sandbox_image_javascript": "LEVEL5_SANDBOX_IMAGE_JAVASCRIPT",
            "max_concurrent_model_calls": "LEVEL5_MAX_MODEL_CALLS",
            "max_model_calls_per_endpoint": "LEVEL5_MAX_MODEL_CALLS_PER_ENDPOINT",
            "model_timeout_seconds": "LEVEL5_MODEL_TIMEOUT_SECONDS",
            "model_retries": "LEVEL5_MODEL_RETRIES",
            "model_backoff_seconds": "LEVEL5_MODEL_BACKOFF_SECONDS",
            "audit_path": "LEVEL5_AUDIT_PATH",
            "redaction_secret": "LEVEL5_REDACTION_SECRET",
            "redaction_workers": "LEVEL5_REDACTION_WORKERS",
            "operator_namespace": "LEVEL5_OPERATOR_NAMESPACE",
            "allow_self_approval": "LEVEL5_ALLOW_SELF_APPROVAL",
            "webhook_port": "LEVEL5_WEBHOOK_PORT",
            "webhook_cert_dir": "LEVEL5_WEBHOOK_CERT_DIR",
            "webhook_addr": "LEVEL5_WEBHOOK_ADDR",
            "peering_name": "LEVEL5_PEERING_NAME",
            "peering_lifetime_seconds": "LEVEL5_PEERING_LIFETIME_SECONDS",
            "metrics_port": "LEVEL5_METRICS_PORT",
            "syscall_monitor_url": "LEVEL5_SYSCALL_MONITOR_URL",
            "injection_classifier_url": "LEVEL5_INJECTION_CLASSIFIER_URL",
            "injection_classifier_model": "LEVEL5_INJECTION_CLASSIFIER_MODEL",
            "injection_classifier_timeout": "LEVEL5_INJECTION_CLASSIFIER_TIMEOUT",
            "injection_classifier_embedded": "LEVEL5_INJECTION_CLASSIFIER_EMBEDDED",
            "sandbox_pools": "LEVEL5_SANDBOX_POOLS",
            "streamed_cold_namespaces": "LEVEL5_STREAMED_COLD_NAMESPACES",
            "queue_recheck_seconds": "LEVEL5_QUEUE_RECHECK_SECONDS",
        }
        values: dict[str, object] = {field: env[var] for field, var in names.items() if var in env}
        for optional in (
            "runtime_class",
            "webhook_cert_dir",
            "peering_name",
            "syscall_monitor_url",
            "injection_classifier_url",
        ):
            if values.get(optional) == "":
                values[optional] = None
        if "sandbox_pools" in values:
            try:
                values["sandbox_pools"] = json.loads(str(values["sandbox_pools"]) or "[]")
            except json.JSONDecodeError as exc:
                raise ValueError(f"LEVEL5_SANDBOX_POOLS is not a JSON list of pools: {exc}") from None
        if "streamed_cold_namespaces" in values:
            try:
                values["streamed_cold_namespaces"] = json.loads(str(values["streamed_cold_namespaces"]))
            except json.JSONDecodeError as exc:
                raise ValueError(
                    "LEVEL5_STREAMED_COLD_NAMESPACES is not a JSON list of namespaces "
                    f'(e.g. ["team-a"]): {exc}'
                ) from None
        return cls.model_validate(values)
