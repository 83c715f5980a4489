"""Bandit as a second opinion for the pre-execution review (layer 3), run in-process.

Only HIGH-confidence findings count: HIGH severity blocks, MEDIUM severity escalates. ``# nosec``
comments are ignored because the reviewed code is written by the model we are guarding against.
Bandit failures never break the review: the deterministic AST review is the primary layer.
"""

from __future__ import annotations

import io
import logging

from level5.api.verdicts import Finding, Verdict

_LOG = logging.getLogger(__name__)
# Bandit warns on every in-memory file that it cannot derive a module name from its path.
logging.getLogger("bandit.core.node_visitor").setLevel(logging.ERROR)

# Weak hashes (md5/sha1 checksums) are common in data work and are no sandbox risk.
_IGNORED_TESTS = frozenset({"B324"})
_SEVERITY_VERDICT = {"HIGH": Verdict.BLOCK, "MEDIUM": Verdict.ESCALATE}


def bandit_findings(data: bytes) -> list[Finding]:
    """Bandit's HIGH-confidence HIGH/MEDIUM findings for `data`, as review findings."""
    try:
        from bandit.core import config, manager

        bandit = manager.BanditManager(config.BanditConfig(), "file", ignore_nosec=True, quiet=True)
        # _parse_file is the per-file entry point behind run_tests(); using it keeps the review
        # in-process and away from the filesystem.
        bandit._parse_file("reviewed_code.py", io.BytesIO(data), ["reviewed_code.py"])
        issues = list(bandit.results)
    except Exception:  # bandit is a second opinion: its failure must not fail the review
        _LOG.warning("bandit second opinion failed", exc_info=True)
        return []
    findings = []
    for issue in issues:
        verdict = _SEVERITY_VERDICT.get(str(issue.severity))
        if verdict and str(issue.confidence) == "HIGH" and issue.test_id not in _IGNORED_TESTS:
            findings.append(
                Finding(
                    rule=f"BANDIT-{issue.test_id}",
                    line=int(issue.lineno),
                    message=str(issue.text),
                    verdict=verdict,
                )
            )
    return findings
