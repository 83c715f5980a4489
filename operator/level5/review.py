"""Layer 3: pre-execution review of model-written Python before it runs in the sandbox.

The review parses the exact UTF-8 bytes that will execute with ``ast`` (never string matching) and
returns a verdict (allow, block or escalate) with one finding per problem. Findings carry stable rule
ids and explanations so that ``ReviewResult.feedback()`` can be fed back to the model for a rewrite.
The module is pure and deterministic: no network, no Kubernetes, no execution of the reviewed code.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, Field


class Verdict(StrEnum):
    """Outcome of a safety layer; ordered allow < escalate < block."""

    ALLOW = "allow"
    ESCALATE = "escalate"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Verdict.ALLOW: 0, Verdict.ESCALATE: 1, Verdict.BLOCK: 2}


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    """The most severe verdict, allow if there is none."""
    return max(verdicts, key=lambda v: v.severity, default=Verdict.ALLOW)


class Finding(BaseModel):
    """One problem found by a safety layer."""

    rule: str
    line: int
    message: str
    verdict: Verdict


class ReviewResult(BaseModel):
    """The verdict on one piece of code, with the hash of the exact bytes reviewed."""

    verdict: Verdict
    findings: list[Finding] = Field(default_factory=list)
    code_sha256: str

    def feedback(self) -> str:
        """Text for the model explaining what to change; empty findings mean the code may run."""
        if not self.findings:
            return "The pre-execution review found no problems."
        lines = [
            f"The pre-execution review rejected this code (verdict: {self.verdict.value}). "
            "Rewrite it without the constructs below; do not try to disguise them."
        ]
        lines += [f"- line {f.line} [{f.rule}] {f.message}" for f in self.findings]
        return "\n".join(lines)


# Standard-library modules that cannot reach the filesystem, network, processes or the interpreter.
SAFE_STDLIB = frozenset(
    {
        "math",
        "cmath",
        "statistics",
        "json",
        "csv",
        "re",
        "collections",
        "itertools",
        "functools",
        "datetime",
        "decimal",
        "fractions",
        "random",
        "string",
        "textwrap",
        "dataclasses",
        "typing",
        "enum",
        "heapq",
        "bisect",
        "numbers",
        "operator",
        "copy",
        "pprint",
        "calendar",
        "zoneinfo",
        "abc",
        "contextlib",
        "array",
        "unicodedata",
        "difflib",
        "hashlib",
        "hmac",
        "base64",
        "binascii",
        "uuid",
        "time",
        "io",
        "sys",
        "warnings",
        "typing_extensions",
        "__future__",
    }
)

# Never importable, whatever the task allows: each reaches processes, files, network, native code,
# deserialisation or the interpreter's internals. Prefix match on dotted components.
DENIED_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "genericpath",
        "shutil",
        "pathlib",
        "subprocess",
        "_posixsubprocess",
        "pty",
        "tty",
        "termios",
        "fcntl",
        "signal",
        "resource",
        "mmap",
        "socket",
        "_socket",
        "ssl",
        "http",
        "urllib",
        "urllib3",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "poplib",
        "imaplib",
        "telnetlib",
        "xmlrpc",
        "webbrowser",
        "socketserver",
        "ctypes",
        "_ctypes",
        "cffi",
        "pickle",
        "cPickle",
        "_pickle",
        "marshal",
        "shelve",
        "dill",
        "cloudpickle",
        "copyreg",
        "importlib",
        "imp",
        "builtins",
        "__builtin__",
        "code",
        "codeop",
        "runpy",
        "pdb",
        "bdb",
        "site",
        "sysconfig",
        "zipimport",
        "pkgutil",
        "types",
        "inspect",
        "gc",
        "multiprocessing",
        "tempfile",
        "faulthandler",
        "tracemalloc",
        "atexit",
        "_io",
        "_thread",
        "threading",
        "concurrent",
        "asyncio",
        "selectors",
        "select",
        "sched",
        "ast",
        "dis",
        "traceback",
        "linecache",
        "tokenize",
        "platform",
        "zipfile",
        "tarfile",
        "glob",
        "fileinput",
        "sqlite3",
        "dbm",
        "winreg",
        "_winapi",
        "msvcrt",
        "numpy.ctypeslib",
        "numpy.distutils",
        "numpy.f2py",
        "numpy.testing",
        "pandas.io.pickle",
        "pandas.io.clipboard",
        "pandas.io.clipboards",
        "sklearn.externals",
        "joblib",
        "IPython",
        "sympy.parsing",
    }
)


def _module_status(module: str, allowed: frozenset[str]) -> str | None:
    """None when `module` may be imported, otherwise the reason it may not."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        if ".".join(parts[:i]) in DENIED_MODULES:
            return f"module '{module}' is denied: it reaches {'.'.join(parts[:i])}"
    if parts[0] in SAFE_STDLIB or parts[0] in allowed:
        return None
    return f"module '{module}' is not in the allowed libraries"


def review_code(source: str, *, allowed_libraries: Sequence[str], max_lines: int) -> ReviewResult:
    """Review `source` before execution; see the module docstring."""
    data = source.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(data).hexdigest()
    findings: list[Finding] = []
    non_blank = sum(1 for line in source.splitlines() if line.strip())
    if non_blank > max_lines:
        findings.append(
            Finding(
                rule="L5-SIZE-001",
                line=1,
                message=f"{non_blank} non-blank lines exceed the limit of {max_lines}",
                verdict=Verdict.BLOCK,
            )
        )
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        findings.append(
            Finding(
                rule="L5-SYNTAX-001",
                line=line,
                message=f"syntax error: {getattr(exc, 'msg', exc)}",
                verdict=Verdict.BLOCK,
            )
        )
        return ReviewResult(verdict=Verdict.BLOCK, findings=findings, code_sha256=digest)
    allowed = frozenset(allowed_libraries)
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                message = "relative imports are not allowed"
                findings.append(
                    Finding(rule="L5-IMPORT-003", line=node.lineno, message=message, verdict=Verdict.BLOCK)
                )
                continue
            base = node.module or ""
            modules = [base] + [f"{base}.{a.name}" for a in node.names if a.name != "*"]
        for module in modules:
            reason = _module_status(module, allowed)
            if reason:
                findings.append(
                    Finding(
                        rule="L5-IMPORT-001",
                        line=getattr(node, "lineno", 1),
                        message=reason,
                        verdict=Verdict.BLOCK,
                    )
                )
    return ReviewResult(verdict=worst([f.verdict for f in findings]), findings=findings, code_sha256=digest)
