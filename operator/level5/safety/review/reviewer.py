"""Layer 3: pre-execution review of model-written Python before it runs in the sandbox.

``review_code`` reviews the exact UTF-8 bytes that will execute: source-level tricks first
(encoding cookies, bidi controls, null bytes, disguised identifiers), then the ``ast`` analysis in
``analyser`` with the API allow-list of ``api``. Bandit is no longer run here: on the tuning
corpus it caught nothing the analysis missed, for two thirds of the time (``level5 eval-safety``
keeps measuring what it would add, see ``safety_eval.bandit_additions``). The verdict is the worst
finding; each finding has a stable rule id and an explanation, and ``ReviewResult.feedback()``
turns them into text the model can act on. Pure and deterministic: no network, no Kubernetes, the
code is never executed.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
import traceback
import unicodedata
from collections.abc import Sequence

from pydantic import BaseModel, Field

from level5.api.verdicts import Finding, Verdict, dedupe, worst
from level5.safety.review.analyser import analyze
from level5.safety.review.policy import MAX_LINE_LENGTH

__all__ = ["Finding", "ReviewResult", "Verdict", "review_code"]

# PEP 263: the cookie is honoured on either of the first two lines.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_NOT_PRINTABLE_ASCII = re.compile(r"[^\t\n\r\x20-\x7e]")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "utf_8", "u8", "utf", "cp65001"})
# Trojan Source (CVE-2021-42574): these reorder how code is displayed without changing how it runs.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class ReviewResult(BaseModel):
    """The verdict on one piece of code, with the hash of the exact bytes reviewed."""

    verdict: Verdict
    findings: list[Finding] = Field(default_factory=list)
    code_sha256: str
    compile_error: str | None = None
    """Python's own report when the code does not compile (file, line, the line with a caret, the error)."""

    @property
    def only_a_syntax_error(self) -> bool:
        """Stopped for not compiling and nothing else: a bug to debug, not a construct to avoid."""
        blocking = {f.rule for f in self.findings if f.verdict is not Verdict.ALLOW}
        return self.compile_error is not None and blocking == {SYNTAX_RULE}

    def feedback(self) -> str:
        """Text for the model explaining what to change."""
        if not self.findings:
            return "The pre-execution review found no problems."
        if self.verdict is Verdict.ALLOW:
            notes = [f"- line {f.line} [{f.rule}] {f.message}" for f in self.findings]
            return "\n".join(["The pre-execution review allowed this code, with notes:", *notes])
        lines = [
            f"The pre-execution review rejected this code (verdict: {self.verdict.value}). "
            "Rewrite it without the constructs below; do not try to disguise them."
        ]
        lines += [f"- line {f.line} [{f.rule}] {f.message}" for f in self.findings]
        return "\n".join(lines)


SYNTAX_RULE = "L5-SYNTAX-001"
PROGRAM_FILE = "main.py"
"""The name Python's compile errors give the program, as the sandbox runs it (/code/main.py)."""


def _line_of(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


def source_findings(source: str, data: bytes, *, python: bool = True) -> list[Finding]:
    """Problems visible in the raw text, before parsing (for Python also encoding cookies and disguised
    identifiers, which Python's tokenizer and NFKC normalisation of names make possible)."""
    findings: list[Finding] = []

    def add(rule: str, line: int, message: str, verdict: Verdict = Verdict.BLOCK) -> None:
        findings.append(Finding(rule=rule, line=line, message=message, verdict=verdict))

    head = b"\n".join(data.splitlines()[:2]) if python else b""
    for match in _COOKIE.finditer(head):
        if match.group(1).decode("ascii", "replace").lower() not in _UTF8_NAMES:
            add(
                "L5-SRC-001",
                1,
                f"encoding declaration '{match.group(1).decode('ascii', 'replace')}'; use UTF-8",
            )
    # Only characters outside printable ASCII can be any of these; scanning just them keeps this fast.
    for suspect in _NOT_PRINTABLE_ASCII.finditer(source):
        index, char = suspect.start(), suspect.group()
        if char == "\x00":
            add("L5-SRC-002", _line_of(source, index), "null byte in source")
        elif char in _BIDI:
            add("L5-SRC-003", _line_of(source, index), f"bidirectional control character U+{ord(char):04X}")
        elif char == "\ufeff":
            add("L5-SRC-004", _line_of(source, index), "byte order mark inside the source")
        elif "\ud800" <= char <= "\udfff":
            add("L5-SRC-002", _line_of(source, index), "unpaired surrogate: the source is not valid UTF-8")
        elif unicodedata.category(char) == "Cf":
            add(
                "L5-SRC-005",
                _line_of(source, index),
                f"invisible format character U+{ord(char):04X}",
                Verdict.ESCALATE,
            )
    for number, line in enumerate(source.splitlines(), 1):
        if len(line) > MAX_LINE_LENGTH:
            add("L5-SRC-006", number, f"line of {len(line)} characters hides code", Verdict.ESCALATE)
    if source.isascii() or not python:
        return dedupe(findings)  # ASCII identifiers cannot disguise other names
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.NAME and not token.string.isascii():
                normal = unicodedata.normalize("NFKC", token.string)
                if normal != token.string:
                    add(
                        "L5-SRC-007", token.start[0], f"identifier '{token.string}' is a disguised '{normal}'"
                    )
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        pass  # the parser reports the same problem with a better message
    return dedupe(findings)


def size_findings(source: str, max_lines: int) -> list[Finding]:
    """The program is longer than capabilities.maxLines (non-blank lines), in any language."""
    non_blank = sum(1 for line in source.splitlines() if line.strip())
    if non_blank <= max_lines:
        return []
    message = f"{non_blank} non-blank lines exceed the limit of {max_lines}"
    return [Finding(rule="L5-SIZE-001", line=max_lines + 1, message=message, verdict=Verdict.BLOCK)]


def review_result(findings: list[Finding], data: bytes, compile_error: str | None) -> ReviewResult:
    """The verdict of a review: its findings in order of line, the worst one's verdict, the bytes' hash."""
    findings = sorted(dedupe(findings), key=lambda f: (f.line, f.rule))
    return ReviewResult(
        verdict=worst(f.verdict for f in findings),
        findings=findings,
        code_sha256=hashlib.sha256(data).hexdigest(),
        compile_error=compile_error,
    )


def review_code(source: str, *, allowed_libraries: Sequence[str], max_lines: int) -> ReviewResult:
    """Review `source` (exactly what will run) and return the verdict with its findings."""
    data = source.encode("utf-8", "surrogatepass")
    findings = source_findings(source, data) + size_findings(source, max_lines)
    compile_error = None
    try:
        tree = ast.parse(data, filename=PROGRAM_FILE)
        findings += analyze(tree, frozenset(allowed_libraries))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        message = f"syntax error: {getattr(exc, 'msg', exc)}"
        findings.append(Finding(rule=SYNTAX_RULE, line=line, message=message, verdict=Verdict.BLOCK))
        compile_error = "".join(traceback.format_exception_only(exc)).rstrip()[:4000]
    except (RecursionError, MemoryError):
        message = "code is nested too deeply to review"
        findings.append(Finding(rule="L5-SYNTAX-002", line=1, message=message, verdict=Verdict.BLOCK))
    return review_result(findings, data, compile_error)
