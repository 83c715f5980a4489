"""Layer 5's compiled modules: a checkout's extension module older than its source is refused, and the
compiled modules redact as their source does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import level5
import level5.safety.redaction
from level5.safety import stale_builds
from level5.safety.redaction import Redactor


def test_an_extension_module_older_than_its_source_is_stale(tmp_path: Path) -> None:
    source, built = tmp_path / "lines.py", tmp_path / f"lines{EXTENSION_SUFFIXES[0]}"
    source.write_text("")
    built.write_bytes(b"")
    (tmp_path / "other.py").write_text("")  # a module that is not compiled
    os.utime(source, (1_000, 1_000))
    os.utime(built, (2_000, 2_000))
    assert stale_builds(tmp_path) == []
    os.utime(source, (3_000, 3_000))
    assert stale_builds(tmp_path) == ["lines.py"]


def test_a_built_module_without_its_source_is_not_stale(tmp_path: Path) -> None:
    (tmp_path / f"lines{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    assert stale_builds(tmp_path) == []


def test_redaction_runs_compiled() -> None:
    # `make venv` builds it in place (setup.py); the pure-Python source alone would be slower, not wrong.
    assert level5.safety.redaction.__file__.endswith(tuple(EXTENSION_SUFFIXES)), "not compiled: make venv"


_PURE_REDACTION = """
import json, sys
from level5.safety import redaction
assert redaction.__file__.endswith(".py"), redaction.__file__
redactor = redaction.Redactor(b"k")
print(json.dumps([redactor.redact(text).text for text in json.load(sys.stdin)]))
"""


def test_the_compiled_modules_redact_as_their_source_does(tmp_path: Path) -> None:
    """Cython compiles the modules with their type hints, and a hint can change what the code does (compiled,
    ``.get`` of a missing key of ``postal._VERDICTS``, a ``dict[..., bool]``, gave ``False`` rather than
    ``None``, so the model was never asked): the compiled modules and their pure-Python source must redact
    a sample of the corpus alike."""
    package = Path(level5.__file__).parent
    suffixes = [f"*{suffix}" for suffix in EXTENSION_SUFFIXES]
    shutil.copytree(package, tmp_path / "level5", ignore=shutil.ignore_patterns(*suffixes))
    corpus = Path(__file__).parents[1] / "corpora" / "redaction"
    lines = [
        line
        for name in ("sensitive.jsonl", "benign.jsonl")
        for line in (corpus / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    # Every sixth text (about a thousand): the pure-Python source takes about 15 s for them.
    texts = [str(json.loads(line)["text"]) for line in lines[::6]]
    pure = subprocess.run(
        [sys.executable, "-c", _PURE_REDACTION],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    redactor = Redactor(b"k")
    assert json.loads(pure.stdout) == [redactor.redact(text).text for text in texts]
