"""Generate the CustomResourceDefinitions (AgentTask, Approval) from the pydantic models in spec.py,
status.py and approval.py.

Pydantic emits JSON Schema (draft 2020-12); the API server wants a structural OpenAPI v3 schema. This module
inlines $refs, collapses Optional (anyOf with null) into the plain type, rewrites numeric exclusive bounds to
the OpenAPI v3.0 form and drops keywords a structural schema rejects. Run `python -m level5.api.crdgen` to
rewrite crds/*.yaml; tests/unit/test_crdgen.py fails when a committed file drifts."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from level5.api.approval import ApprovalSpec, ApprovalStatus
from level5.api.spec import AgentTaskSpec
from level5.api.status import AgentTaskStatus

GROUP = "level5.dev"
VERSION = "v1alpha1"
KIND = "AgentTask"
PLURAL = "agenttasks"
APPROVAL_KIND = "Approval"
APPROVAL_PLURAL = "approvals"
CRD_DIR = Path(__file__).resolve().parents[3] / "crds"

Schema = dict[str, Any]


@dataclass(frozen=True)
class CrdDefinition:
    """What differs between level5's CRDs: names, models, printer columns and the top description."""

    kind: str
    plural: str
    short_names: list[str]
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: list[Schema]
    description: str

    @property
    def path(self) -> Path:
        return CRD_DIR / f"{self.plural}.{GROUP}.yaml"


def _column(name: str, type_: str, path: str, priority: int = 0) -> Schema:
    column: Schema = {"name": name, "type": type_, "jsonPath": path}
    if priority:
        column["priority"] = priority
    return column


CRDS = [
    CrdDefinition(
        kind=KIND,
        plural=PLURAL,
        short_names=["at", "ats"],
        spec=AgentTaskSpec,
        status=AgentTaskStatus,
        columns=[
            _column("Phase", "string", ".status.phase"),
            _column("Iteration", "integer", ".status.iteration"),
            _column("Language", "string", ".spec.capabilities.language", priority=1),
            _column("Autonomy", "string", ".spec.autonomy.level"),
            _column("Score", "number", ".status.score"),
            _column("Approval", "string", ".status.approval", priority=1),
            # "True" while the sandbox pod waits for a ResourceQuota (kubectl level5 queue lists them).
            _column("Queued", "string", '.status.conditions[?(@.type=="SandboxQueued")].status', priority=1),
            _column("Age", "date", ".metadata.creationTimestamp"),
        ],
        description="An AgentTask asks level5 to write a program with a model, review it, run it in a "
        "locked-down sandbox pod and refine it until the success criteria pass.",
    ),
    CrdDefinition(
        kind=APPROVAL_KIND,
        plural=APPROVAL_PLURAL,
        short_names=["apr"],
        spec=ApprovalSpec,
        status=ApprovalStatus,
        columns=[
            _column("Task", "string", ".spec.taskName"),
            _column("Iteration", "integer", ".spec.iteration"),
            _column("State", "string", ".status.state"),
            _column("Decision", "string", ".spec.decision"),
            _column("By", "string", ".spec.decidedBy"),
            _column("Triggers", "string", ".spec.triggers[*].type"),
            _column("Expires", "date", ".spec.expiresAt", priority=1),
            _column("Age", "date", ".metadata.creationTimestamp"),
        ],
        description="An Approval is one decision a person makes for an AgentTask: approve, reject, override "
        "the code, guide the next generation or add constraints, by patching spec.decision.",
    ),
]

# Keywords that carry no meaning for the API server or that a structural schema forbids.
_DROPPED_KEYS = {"title", "additionalProperties", "$defs", "examples"}

# Cross-field rules the OpenAPI keywords cannot express, keyed by the pydantic model title they attach to.
# Each message names the field and the fix, because it is what `kubectl apply` prints.
_CEL_RULES: dict[str, list[Schema]] = {
    "SuccessCriterion": [
        {
            "rule": "[has(self.exitCode), has(self.outputContains), has(self.outputMatches), "
            "has(self.testScript), has(self.judge)].filter(x, x).size() == 1",
            "message": "spec.goal.successCriteria[]: set exactly one of exitCode, outputContains, "
            "outputMatches, testScript or judge",
        }
    ],
    "FileAccess": [
        {
            "rule": "!(has(self.referenceData) && has(self.referenceDataClaim))",
            "message": "spec.capabilities.files: set at most one of referenceData and referenceDataClaim",
        }
    ],
    "ModelSettings": [
        {
            "rule": "!has(self.apiKeySecretRef) || has(self.baseURL)",
            "message": "spec.model.apiKeySecretRef: also set spec.model.baseURL, the key belongs to that "
            "endpoint",
        }
    ],
    "ApprovalSpec": [
        {
            "rule": "!has(oldSelf.decision) || self == oldSelf",
            "message": "spec: the decision is final once made (and the decision point never changes)",
        },
        {
            "rule": "!has(self.decision) || self.decision != 'Reject' || has(self.reason)",
            "message": "spec.reason: a Reject needs a reason the model is told",
        },
        {
            "rule": "!has(self.decision) || self.decision != 'Override' || has(self.overrideCode)",
            "message": "spec.overrideCode: an Override needs the replacement program",
        },
        {
            "rule": "!has(self.decision) || self.decision != 'Guide' || has(self.hint)",
            "message": "spec.hint: a Guide needs the hint for the next generation",
        },
        {
            "rule": "!has(self.decision) || self.decision != 'Constrain' || "
            "(has(self.constraints) && self.constraints.size() > 0)",
            "message": "spec.constraints: a Constrain needs at least one constraint",
        },
    ],
}


def _resolve(node: Any, defs: Schema) -> Any:
    """Return node with every $ref inlined, Optional collapsed and non-structural keywords removed."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    optional = "anyOf" in node
    if optional:
        variants = [v for v in node.pop("anyOf") if v != {"type": "null"}]
        if len(variants) != 1:
            raise ValueError(f"only Optional[X] unions are supported, got {variants}")
        node = {**variants[0], **node}
        if node.get("default", ...) is None:
            del node["default"]
    if "$ref" in node:
        target = node.pop("$ref").split("/")[-1]
        # The referring property's own description wins over the referenced model's docstring.
        node = {**defs[target], **node}
    title = node.get("title")
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key in ("exclusiveMinimum", "exclusiveMaximum"):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "description":
            out[key] = " ".join(value.split())  # docstrings wrap; the API server shows one paragraph
        elif key == "properties":
            out[key] = {name: _resolve(prop, defs) for name, prop in value.items()}
        else:
            out[key] = _resolve(value, defs)
    if out.get("type") == "object" and "properties" in out and not optional and not out.get("required"):
        # Non-nullable objects whose fields all have defaults default to {}, so the API server fills in
        # the inner defaults and `kubectl get` shows them.
        out.setdefault("default", {})
    if isinstance(title, str) and title in _CEL_RULES and "properties" in out:
        out["x-kubernetes-validations"] = _CEL_RULES[title]
    return out


def structural_schema(model: type[BaseModel]) -> Schema:
    """The structural OpenAPI v3 schema of a pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    resolved: Schema = _resolve(raw, defs)
    resolved.pop("default", None)
    return resolved


def build_crd(crd: CrdDefinition = CRDS[0]) -> Schema:
    """The complete CustomResourceDefinition document."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{crd.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": crd.kind,
                "listKind": f"{crd.kind}List",
                "plural": crd.plural,
                "singular": crd.kind.lower(),
                "shortNames": crd.short_names,
                "categories": ["level5"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": crd.columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": crd.description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {
                                    "type": "string",
                                    "description": f"Versioned schema of this object ({GROUP}/{VERSION}).",
                                },
                                "kind": {"type": "string", "description": f"{crd.kind}."},
                                "metadata": {"type": "object"},
                                "spec": structural_schema(crd.spec),
                                "status": structural_schema(crd.status),
                            },
                        }
                    },
                }
            ],
        },
    }


def render(crd: CrdDefinition = CRDS[0]) -> str:
    """The CRD as the YAML text committed under crds/."""
    header = "# Generated by `python -m level5.api.crdgen` from the pydantic models; do not edit.\n"
    return header + yaml.safe_dump(build_crd(crd), sort_keys=False, width=110)


def main(argv: list[str] | None = None) -> int:
    """Write the CRD files, or with --check exit 1 when a committed file differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output-dir", type=Path, default=CRD_DIR, help="directory (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = parser.parse_args(argv)
    stale = 0
    for crd in CRDS:
        path = args.output_dir / crd.path.name
        text = render(crd)
        if not args.check:
            path.write_text(text)
        elif (path.read_text() if path.exists() else "") != text:
            print(f"{path} is out of date: run python -m level5.api.crdgen", file=sys.stderr)
            stale = 1
    return stale


if __name__ == "__main__":
    sys.exit(main())
