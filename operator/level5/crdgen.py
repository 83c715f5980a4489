"""Generate the AgentTask CustomResourceDefinition from the pydantic models in spec.py and status.py.

Pydantic emits JSON Schema (draft 2020-12); the API server wants a structural OpenAPI v3 schema. This module
inlines $refs, collapses Optional (anyOf with null) into the plain type, rewrites numeric exclusive bounds to
the OpenAPI v3.0 form and drops keywords a structural schema rejects. Run `python -m level5.crdgen` to
rewrite crds/agenttasks.level5.dev.yaml; tests/unit/test_crdgen.py fails when the committed file drifts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from level5.spec import AgentTaskSpec
from level5.status import AgentTaskStatus

GROUP = "level5.dev"
VERSION = "v1alpha1"
KIND = "AgentTask"
PLURAL = "agenttasks"
SINGULAR = "agenttask"
CRD_PATH = Path(__file__).resolve().parents[2] / "crds" / f"{PLURAL}.{GROUP}.yaml"

Schema = dict[str, Any]

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


def structural_schema(model: type[AgentTaskSpec] | type[AgentTaskStatus]) -> Schema:
    """The structural OpenAPI v3 schema of a pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    resolved: Schema = _resolve(raw, defs)
    resolved.pop("default", None)
    return resolved


def build_crd() -> Schema:
    """The complete CustomResourceDefinition document."""
    spec_schema = structural_schema(AgentTaskSpec)
    status_schema = structural_schema(AgentTaskStatus)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": ["at", "ats"],
                "categories": ["level5"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                        {"name": "Iteration", "type": "integer", "jsonPath": ".status.iteration"},
                        {"name": "Autonomy", "type": "string", "jsonPath": ".spec.autonomy.level"},
                        {"name": "Score", "type": "number", "jsonPath": ".status.score"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": "An AgentTask asks level5 to write a program with a model, review "
                            "it, run it in a locked-down sandbox pod and refine it until the success "
                            "criteria pass.",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {
                                    "type": "string",
                                    "description": "Versioned schema of this object (level5.dev/v1alpha1).",
                                },
                                "kind": {"type": "string", "description": "AgentTask."},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def render() -> str:
    """The CRD as the YAML text committed under crds/."""
    header = "# Generated by `python -m level5.crdgen` from spec.py and status.py; do not edit.\n"
    return header + yaml.safe_dump(build_crd(), sort_keys=False, width=110)


def main(argv: list[str] | None = None) -> int:
    """Write the CRD file, or with --check exit 1 when the committed file differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=CRD_PATH, help="file to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only compare with the committed file")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m level5.crdgen", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
