"""Parse model answers: the program out of a code-writing answer, the verdict out of a judging answer.

Models are sloppy about format, small local ones most of all (tests/corpora/model-answers holds recorded
real answers): several fences, other language tags, a fence cut off by the token limit, no fence at all,
prose before and after the code, the CONFIDENCE line inside the fence, or only prose. Parsing never raises;
an answer without usable code yields code=None and a problem the loop feeds back to the model as the
iteration's failure.

Each language the sandbox runs has a ``CodeFormat`` in ``CODE_FORMATS``: its fence tags and how to tell a
program from prose. Adding a language is adding an entry there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter_javascript
from pydantic import BaseModel
from tree_sitter import Language as TreeSitterLanguage
from tree_sitter import Parser

from level5.api.spec import Language

_FENCE = re.compile(
    r"^[ \t]*(?P<fence>```+|~~~+)[ \t]*(?P<tag>[\w+.-]*)[^\n]*\n(?P<body>.*?)"
    r"(?:^[ \t]*(?P<close>(?P=fence))[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_CONFIDENCE = re.compile(r"^\W*confidence\W*[:=]\s*(?P<value>[0-9]*\.?[0-9]+)\s*(?P<pct>%?)", re.I | re.M)
_UNCERTAINTY = re.compile(r"^\W*uncertainty\W*[:=]\s*(?P<text>.+)$", re.I | re.M)
_CONFIDENCE_LINE = re.compile(r"^[ \t#*]*CONFIDENCE\s*:\s*(?P<value>[0-9]*\.?[0-9]+)\s*(?P<pct>%?)", re.M)
_UNCERTAINTY_LINE = re.compile(r"^[ \t#*]*UNCERTAINTY\s*:\s*(?P<text>.+)$", re.M)
# The answer-format lines as the prompt spells them, when a model writes them inside its code block (upper
# case and a colon: a program's own `confidence = ...` is left alone).
_FORMAT_LINE = re.compile(r"^[ \t#*]*(?:CONFIDENCE|UNCERTAINTY)\s*:.*$", re.M)
_VERDICT = re.compile(r"\bVERDICT\W*[:=]?\s*\**\s*(?P<verdict>PASS|FAIL)\b", re.I)
_RATIONALE = re.compile(r"\bRATIONALE\W*[:=]\s*(?P<text>.+)", re.I | re.S)
# Judge answers without a VERDICT line: a line that is only PASS/FAIL (maybe bold or with a full stop),
# or "the verdict is pass"/"Verdict - Fail" in a sentence.
_BARE_VERDICT = re.compile(r"^\W*(?P<verdict>PASS(?:ED)?|FAIL(?:ED)?)\W*$", re.I | re.M)
_VERDICT_PHRASE = re.compile(r"\bverdict\b[^.\n]{0,30}?\b(?P<verdict>pass|fail)", re.I)
# Prose lines a bare (unfenced) answer may start or end with; at most this many are trimmed on each side.
_MAX_TRIMMED_LINES = 12
NO_CODE_PROBLEM = (
    "The answer contained no usable {language} program. Reply with the complete program in one "
    "```{tag} fenced block."
)
TRUNCATED_PROBLEM = (
    "The answer was cut off before the program ended (it reached the answer's length limit), so the "
    "program is incomplete. Send a shorter complete program in one ```{tag} fenced block, without "
    "explanations."
)


def _is_python_program(text: str) -> bool:
    """True when text parses as Python and is more than a lone name or literal (which prose can be)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    trivial = (ast.Name, ast.Constant)
    return bool(tree.body) and not (
        len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, trivial)
    )


_JAVASCRIPT = Parser(TreeSitterLanguage(tree_sitter_javascript.language()))
# A lone identifier or literal parses as JavaScript too: prose can be one.
_TRIVIAL_JS = frozenset({"identifier", "string", "number", "true", "false", "null", "undefined"})


def _is_javascript_program(text: str) -> bool:
    """True when text parses as JavaScript without errors and is more than a lone name or literal."""
    root = _JAVASCRIPT.parse(text.encode()).root_node
    statements = [n for n in root.named_children if n.type != "comment"]
    if root.has_error or not statements:
        return False
    lone = statements[0]
    return not (
        len(statements) == 1
        and lone.type == "expression_statement"
        and lone.named_child_count == 1
        and lone.named_children[0].type in _TRIVIAL_JS
    )


@dataclass(frozen=True)
class CodeFormat:
    """How programs of one language appear in answers."""

    name: str
    """The language's name, as problems name it."""
    tag: str
    """The fence tag the prompts ask for."""
    tags: frozenset[str]
    """Fence tags that mark this language (lower case)."""
    is_program: Callable[[str], bool]
    """True for text that is a program of this language (rather than prose or output)."""


CODE_FORMATS: dict[Language, CodeFormat] = {
    Language.PYTHON: CodeFormat(
        name="Python",
        tag="python",
        tags=frozenset({"python", "python3", "py", "py3"}),
        is_program=_is_python_program,
    ),
    Language.JAVASCRIPT: CodeFormat(
        name="JavaScript",
        tag="javascript",
        tags=frozenset({"javascript", "js", "node", "nodejs", "cjs"}),
        is_program=_is_javascript_program,
    ),
}


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


@dataclass(frozen=True)
class _Block:
    tag: str
    body: str
    closed: bool


def _blocks(text: str) -> list[_Block]:
    return [
        _Block(m.group("tag").lower(), _without_format_lines(m.group("body")), m.group("close") is not None)
        for m in _FENCE.finditer(text)
    ]


def _without_format_lines(body: str) -> str:
    return _FORMAT_LINE.sub("", body).rstrip() + "\n" if body.strip() else ""


def _defined_and_used(code: str) -> tuple[set[str], set[str]]:
    """Names a Python program defines at top level (functions, classes, assignments, imports), and names
    it reads anywhere."""
    tree = ast.parse(code)
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return defined, used


def _choose(bodies: list[str], fmt: CodeFormat) -> str:
    """One program out of several blocks of the language. Parts of one program (definitions, then blocks
    that use them) are joined; alternative versions (the same functions defined again, as in "the
    corrected code") give the last one; otherwise the longest."""
    programs = [b for b in bodies if fmt.is_program(b)]
    if len(programs) > 1 and fmt.tag == "python":
        names = [_defined_and_used(p) for p in programs]
        defs = [_function_names(p) for p in programs]
        if any(defs[i] & defs[j] for i in range(len(defs)) for j in range(i + 1, len(defs))):
            return programs[-1]
        continues = all(
            (names[i][1] - names[i][0]) & set().union(*(d for d, _ in names[:i]))
            for i in range(1, len(names))
        )
        if continues:
            return "\n".join(programs)
    return max(programs or bodies, key=len)


def _function_names(code: str) -> set[str]:
    tree = ast.parse(code)
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def _bare_program(text: str, fmt: CodeFormat) -> str | None:
    """The program in an answer without fences: the whole text minus the answer-format lines, or the
    longest span left after trimming a few prose lines at the start and the end."""
    lines = _without_format_lines(text).splitlines()
    best: str | None = None
    for start in range(min(_MAX_TRIMMED_LINES, len(lines)) + 1):
        for end in range(len(lines), max(start, len(lines) - _MAX_TRIMMED_LINES) - 1, -1):
            candidate = "\n".join(lines[start:end]).strip("\n")
            if best is not None and len(candidate) <= len(best):
                break
            if fmt.is_program(candidate):
                best = candidate
    return best + "\n" if best else None


def extract_code(text: str, language: Language = Language.PYTHON) -> str | None:
    """The program in an answer (see ``_choose`` for several blocks); untagged fences count when no block
    is tagged with the language; without fences, the bare program (``_bare_program``)."""
    return _extract(text, CODE_FORMATS[language])[0]


def _extract(text: str, fmt: CodeFormat) -> tuple[str | None, bool]:
    """(code, cut off): cut off is True when the answer ends inside an unfinished block."""
    blocks = _blocks(text)
    tagged = [b for b in blocks if b.tag in fmt.tags and b.body.strip()]
    untagged = [b for b in blocks if not b.tag and fmt.is_program(b.body)]
    for candidates in (tagged, untagged):
        if candidates:
            code = _choose([b.body for b in candidates], fmt).strip("\n") + "\n"
            cut_off = not candidates[-1].closed and not fmt.is_program(code)
            return (None if cut_off else code), cut_off
    if any(b.tag for b in blocks):
        return None, False  # fences in other languages only: not a program of this one
    unclosed = bool(blocks) and not blocks[-1].closed
    return _bare_program(text, fmt), unclosed and bool(blocks[-1].body.strip())


def parse_answer(text: str, language: Language = Language.PYTHON) -> ParsedAnswer:
    """Parse a code-writing answer."""
    fmt = CODE_FORMATS[language]
    # Stated outside the code, or as the upper-case format line inside it (a program's own
    # `confidence = 0.5` is not the model's confidence).
    outside = _FENCE.sub("", text)
    confidence_match = _CONFIDENCE.search(outside) or _CONFIDENCE_LINE.search(text)
    confidence = None
    if confidence_match:
        value = float(confidence_match.group("value"))
        if confidence_match.group("pct") or value > 1:
            value /= 100
        confidence = min(max(value, 0.0), 1.0)
    uncertainty_match = _UNCERTAINTY.search(outside) or _UNCERTAINTY_LINE.search(text)
    uncertainty = uncertainty_match.group("text").strip()[:2048] if uncertainty_match else None
    code, cut_off = _extract(text, fmt)
    problem = None
    if code is None:
        template = TRUNCATED_PROBLEM if cut_off else NO_CODE_PROBLEM
        problem = template.format(language=fmt.name, tag=fmt.tag)
    return ParsedAnswer(code=code, confidence=confidence, uncertainty=uncertainty, problem=problem)


def parse_judgement(text: str) -> Judgement:
    """Parse a judging answer: a VERDICT line, else a line that is only PASS or FAIL, else a sentence
    naming the verdict; anything without a clear PASS counts as FAIL."""
    verdict = _VERDICT.search(text) or _BARE_VERDICT.search(text) or _VERDICT_PHRASE.search(text)
    rationale_match = _RATIONALE.search(text)
    rationale = (rationale_match.group("text") if rationale_match else text).strip()
    if verdict is None:
        return Judgement(passed=False, rationale=f"no VERDICT in the judge's answer: {rationale[:1000]}")
    return Judgement(passed=verdict.group("verdict").upper().startswith("PASS"), rationale=rationale[:4000])
