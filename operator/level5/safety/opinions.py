"""Layer 1's second opinions taken together: the embedded classifier and a classifier endpoint, when both
are configured, are asked at once and their findings added up.

One that fails (the endpoint timed out, say) does not take the other's findings with it: they stand, and
a finding records the failure, as ``check_input_with_second_opinion`` records a lone opinion's. Only when
every one fails does the failure reach that caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from level5.api.verdicts import Finding, Verdict
from level5.safety.injection import SECOND_OPINION_FAILED, SecondOpinion


class CombinedOpinion:
    """Several ``SecondOpinion``s as one; itself a ``SecondOpinion``."""

    def __init__(self, opinions: Sequence[SecondOpinion]) -> None:
        self._opinions = tuple(opinions)

    async def __call__(self, text: str, source: str) -> list[Finding]:
        answers = await asyncio.gather(*(ask(text, source) for ask in self._opinions), return_exceptions=True)
        failures = [a for a in answers if isinstance(a, BaseException)]
        for failure in failures:
            if not isinstance(failure, Exception):  # cancellation and exits are not an opinion's failure
                raise failure
        if len(failures) == len(answers):
            raise failures[0]
        findings = [f for answer in answers if not isinstance(answer, BaseException) for f in answer]
        if failures:
            message = f"{len(failures)} of {len(answers)} second-opinion classifiers failed: {failures[0]!r}"
            findings.append(
                Finding(rule=SECOND_OPINION_FAILED, line=1, message=message, verdict=Verdict.ALLOW)
            )
        return findings


def second_opinion(opinions: Sequence[SecondOpinion]) -> SecondOpinion | None:
    """The configured second opinions as one: none, the only one, or all of them combined."""
    if len(opinions) <= 1:
        return opinions[0] if opinions else None
    return CombinedOpinion(opinions)
