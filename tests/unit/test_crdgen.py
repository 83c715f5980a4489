"""The committed CRD must equal the one generated from the pydantic models, and be structural."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from level5.api import crdgen


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found.extend(_walk(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_walk(value, f"{path}[{i}]"))
    return found


@pytest.mark.parametrize("crd", crdgen.CRDS, ids=lambda c: c.kind)
def test_committed_crd_matches_generated(crd: crdgen.CrdDefinition) -> None:
    assert crd.path.read_text() == crdgen.render(crd), "run: python -m level5.api.crdgen"


def test_every_committed_crd_is_generated() -> None:
    assert sorted(p.name for p in crdgen.CRD_DIR.glob("*.yaml")) == sorted(c.path.name for c in crdgen.CRDS)


def test_check_mode_detects_drift(tmp_path: Any) -> None:
    assert crdgen.main(["--check", "--output-dir", str(tmp_path)]) == 1
    assert crdgen.main(["--output-dir", str(tmp_path)]) == 0
    assert crdgen.main(["--check", "--output-dir", str(tmp_path)]) == 0
    (tmp_path / crdgen.CRDS[1].path.name).write_text("stale")
    assert crdgen.main(["--check", "--output-dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("crd", crdgen.CRDS, ids=lambda c: c.kind)
def test_schema_is_structural(crd: crdgen.CrdDefinition) -> None:
    schema = crdgen.build_crd(crd)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        for banned in ("$ref", "$defs", "anyOf", "title", "additionalProperties"):
            assert banned not in node, f"{banned} at {path}"
        if "exclusiveMinimum" in node:
            assert node["exclusiveMinimum"] is True


@pytest.mark.parametrize("crd", crdgen.CRDS, ids=lambda c: c.kind)
def test_every_spec_and_status_field_has_a_description(crd: crdgen.CrdDefinition) -> None:
    schema = crdgen.build_crd(crd)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for part in ("spec", "status"):
        for path, node in _walk(schema["properties"][part], part):
            for name, prop in node.get("properties", {}).items():
                assert prop.get("description"), f"{path}.{name} has no description"


def test_crd_shape() -> None:
    crd = yaml.safe_load(crdgen.render())
    version = crd["spec"]["versions"][0]
    assert crd["spec"]["group"] == "level5.dev" and version["name"] == "v1alpha1"
    assert crd["spec"]["names"]["shortNames"] == ["at", "ats"]
    assert crd["spec"]["names"]["categories"] == ["level5"]
    assert version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Phase",
        "Iteration",
        "Language",
        "Autonomy",
        "Score",
        "Approval",
        "Queued",
        "Age",
    ]
    criterion = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["goal"][
        "properties"
    ]["successCriteria"]["items"]
    assert "exactly one" in criterion["x-kubernetes-validations"][0]["message"]
