"""Layer 3 by language: the one entry point the loop calls, choosing Python's review (``reviewer``) or
JavaScript's (``javascript``) by spec.capabilities.language."""

from __future__ import annotations

from collections.abc import Sequence

from level5.api.spec import Language
from level5.safety.review.javascript import review_javascript
from level5.safety.review.reviewer import ReviewResult, review_code

REVIEWERS = {Language.PYTHON: review_code, Language.JAVASCRIPT: review_javascript}


def review_program(
    source: str, *, language: Language, allowed_libraries: Sequence[str], max_lines: int
) -> ReviewResult:
    """Review `source` with the review of its language."""
    return REVIEWERS[language](source, allowed_libraries=allowed_libraries, max_lines=max_lines)
