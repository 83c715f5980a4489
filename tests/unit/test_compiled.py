"""Layer 5's compiled modules: a checkout's extension module older than its source is refused."""

from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import level5.safety.redaction
from level5.safety import stale_builds


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
