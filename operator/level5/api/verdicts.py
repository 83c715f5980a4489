"""Verdicts and findings shared by every text-level safety layer (review, injection, redaction).

Kept in one small module so layers can depend on it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel


class Verdict(StrEnum):
    """Outcome of a safety layer, ordered allow < escalate < block."""

    ALLOW = "allow"
    ESCALATE = "escalate"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Verdict.ALLOW: 0, Verdict.ESCALATE: 1, Verdict.BLOCK: 2}


class Finding(BaseModel):
    """One problem found by a safety layer: a stable rule id, where, why, and what it implies."""

    rule: str
    line: int
    message: str
    verdict: Verdict


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe verdict; allow when there is none."""
    return max(verdicts, key=lambda v: v.severity, default=Verdict.ALLOW)


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Drop repeats of the same rule on the same line (nested expressions report the same thing)."""
    seen: set[tuple[str, int]] = set()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.rule, finding.line)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
