"""The safety layers as libraries, free of Kubernetes: input checks (layer 1), the pre-execution review
(layer 3, `review/`), the runtime policy's document, redaction (layer 5) and the audit trail (layer 6).

Layer 5's modules run compiled (setup.py). In a checkout their extension modules are built in place,
beside their sources, and Python imports an extension module before the source of the same name: one
built before its source last changed would run the old code, silently. This package refuses that."""

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path


def stale_builds(here: Path) -> list[str]:
    """The sources in `here` that changed after their extension module was built (none in an installed
    wheel, which carries no sources of its compiled modules)."""
    stale = []
    for built in here.iterdir():
        suffix = next((s for s in EXTENSION_SUFFIXES if built.name.endswith(s)), None)
        source = here / f"{built.name.removesuffix(suffix)}.py" if suffix else None
        if source is not None and source.exists() and source.stat().st_mtime > built.stat().st_mtime:
            stale.append(source.name)
    return sorted(stale)


if stale := stale_builds(Path(__file__).parent):
    raise ImportError(
        f"level5.safety: {', '.join(stale)} changed after being compiled. Fix: make compiled "
        "(or .venv/bin/python setup.py build_ext --inplace)"
    )
