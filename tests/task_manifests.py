"""Builders shared by the operator's cluster tests: AgentTask manifests and scripted model answers."""

from __future__ import annotations

UNSUPERVISED = {"level": "D", "escalation": {"triggers": []}}
"""spec.autonomy of tasks whose test is not about people: nothing waits for an Approval."""


def task(name: str, goal: str, criteria: list[dict[str, object]], **spec: object) -> dict[str, object]:
    """An AgentTask with the given goal and criteria; other spec sections as keyword arguments (autonomy
    defaults to UNSUPERVISED)."""
    return {
        "apiVersion": "level5.dev/v1alpha1",
        "kind": "AgentTask",
        "metadata": {"name": name},
        "spec": {"goal": {"primary": goal, "successCriteria": criteria}, "autonomy": UNSUPERVISED, **spec},
    }


def code(source: str, confidence: float = 0.7, uncertainty: str = "none") -> str:
    """A model answer carrying `source` the way the operator's answer parser expects it."""
    return f"```python\n{source}\n```\nCONFIDENCE: {confidence}\nUNCERTAINTY: {uncertainty}"
