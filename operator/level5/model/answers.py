"""Parse model answers: the program out of a code-writing answer, the verdict out of a judging answer.

Models are sloppy about format: several fences, other language tags, a fence cut off by the token limit, no
fence at all, or only prose. Parsing never raises; an answer without usable code yields code=None and a
problem the loop feeds back to the model as the iteration's failure."""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel

_FENCE = re.compile(
    r"^(?P<fence>```+|~~~+)[ \t]*(?P<tag>[\w+.-]*)[^\n]*\n(?P<body>.*?)(?:^(?P=fence)[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_PYTHON_TAGS = {"python", "python3", "py", "py3"}
FENCE_TAGS = {"python": _PYTHON_TAGS, "javascript": {"javascript", "js", "node", "nodejs", "cjs"}}
"""Fence tags that mark a program, by the task's language (spec.capabilities.language)."""
_NAMES = {"python": "Python", "javascript": "JavaScript"}
_CONFIDENCE = re.compile(r"^\W*confidence\W*[:=]\s*(?P<value>[0-9]*\.?[0-9]+)\s*(?P<pct>%?)", re.I | re.M)
_UNCERTAINTY = re.compile(r"^\W*uncertainty\W*[:=]\s*(?P<text>.+)$", re.I | re.M)
_VERDICT = re.compile(r"\bVERDICT\W*[:=]?\s*\**\s*(?P<verdict>PASS|FAIL)\b", re.I)
_RATIONALE = re.compile(r"\bRATIONALE\W*[:=]\s*(?P<text>.+)", re.I | re.S)


class ParsedAnswer(BaseModel):
    """What a code-writing answer contained."""

    code: str | None
    """The program, or None when the answer had no usable code."""
    confidence: float | None = None
    """CONFIDENCE the model stated, clamped to 0..1."""
    uncertainty: str | None = None
    """UNCERTAINTY the model stated."""
    problem: str | None = None
    """Why no code could be taken from the answer."""


class Judgement(BaseModel):
    """A model's verdict on one judge criterion."""

    passed: bool
    rationale: str


def _is_program(text: str) -> bool:
    """True when text parses as Python and is more than a lone name or literal (which prose can be)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    trivial = (ast.Name, ast.Constant)
    return bool(tree.body) and not (
        len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, trivial)
    )


def extract_code(text: str, language: str = "python") -> str | None:
    """The program in an answer: the longest fence tagged with the language, else the longest untagged fence
    that parses (JavaScript: any untagged non-empty one), else for Python the whole answer (minus the
    CONFIDENCE/UNCERTAINTY lines) when it parses as a program."""
    blocks = [(m.group("tag").lower(), m.group("body")) for m in _FENCE.finditer(text)]
    tagged = [body for tag, body in blocks if tag in FENCE_TAGS[language] and body.strip()]
    parses = _is_program if language == "python" else str.strip
    untagged = [body for tag, body in blocks if not tag and parses(body)]
    for candidates in (tagged, untagged):
        if candidates:
            return max(candidates, key=len).strip("\n") + "\n"
    if blocks:
        return None  # fences in other languages only: not a program in the task's language
    if language != "python":
        return None
    bare = _UNCERTAINTY.sub("", _CONFIDENCE.sub("", text)).strip()
    return bare + "\n" if _is_program(bare) else None


def parse_answer(text: str, language: str = "python") -> ParsedAnswer:
    """Parse a code-writing answer for a program in `language` (a spec.capabilities.language value)."""
    confidence_match = _CONFIDENCE.search(text)
    confidence = None
    if confidence_match:
        value = float(confidence_match.group("value"))
        if confidence_match.group("pct") or value > 1:
            value /= 100
        confidence = min(max(value, 0.0), 1.0)
    uncertainty_match = _UNCERTAINTY.search(text)
    uncertainty = uncertainty_match.group("text").strip()[:2048] if uncertainty_match else None
    code = extract_code(text, language)
    problem = None
    if code is None:
        problem = (
            f"The answer contained no usable {_NAMES[language]} program. Reply with the complete program "
            f"in one ```{language} fenced block."
        )
    return ParsedAnswer(code=code, confidence=confidence, uncertainty=uncertainty, problem=problem)


def parse_judgement(text: str) -> Judgement:
    """Parse a judging answer; anything without a clear PASS counts as FAIL."""
    verdict = _VERDICT.search(text)
    rationale_match = _RATIONALE.search(text)
    rationale = (rationale_match.group("text") if rationale_match else text).strip()
    if verdict is None:
        return Judgement(passed=False, rationale=f"no VERDICT in the judge's answer: {rationale[:1000]}")
    return Judgement(passed=verdict.group("verdict").upper() == "PASS", rationale=rationale[:4000])
