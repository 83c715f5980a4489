"""Layer 5's held-out figures without the label words that were chosen with the held-out templates in view.

The label and role word lists in ``level5.safety.redaction`` were written by the same person who wrote the
second held-out round's templates and had read the first round's. The words below occur in held-out
templates and in no tuning one (``contact`` stays: the tuning half has ``contact=``). This script loads a
scratch copy of the redaction module (and of the injection module, for the one borrowed word that occurs
only in a held-out attack) with exactly those words taken out, and prints the figures the README quotes in
brackets. The corpora are not changed.

Run: ``.venv/bin/python tests/corpora/label_ablation.py``
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

SAFETY = Path(__file__).resolve().parents[2] / "operator" / "level5" / "safety"
REDACTION_EDITS = (
    (
        "contact|owner|recipient|patient|attn|author|assignee|assigned|manager|",
        "contact|author|assignee|manager|",
    ),
    ("signed|approved by|prepared by|reviewed by|", "signed|approved by|reviewed by|"),
    ("nombre|cliente|destinatario|contatto|naam|", "nombre|destinatario|naam|"),
    ("(?:[_-][\\w-]*| person)?", "(?:[_-][\\w-]*)?"),
    ('r"dear|hello|hi|good morning|good afternoon|good evening|thanks|thank you|cher|', 'r"dear|hi|cher|'),
    ("?regards|best wishes|sincerely|cheers|thanks|thank you|", "?regards|best wishes|sincerely|cheers|"),
    ("[,!.]?[ \\t]*\\n(?:[ \\t]*\\n)?[ \\t]*", "[,!.]?[ \\t]*\\n[ \\t]*"),
    ("|home |street |post)?address[e]?|", "|home |street )?address[e]?|"),
    ("rechnungsadresse|postadresse|", "rechnungsadresse|"),
    ('wohnt in|"\n    r"location|indirizzo|', 'wohnt in|"\n    r"'),
    ("|fax|cell", "|fax"),
    ('r"(?:regards|wishes|sincerely|cheers|thanks|thank you|', 'r"(?:regards|wishes|sincerely|cheers|'),
    ("wohnt in|location|indirizzo|", "wohnt in|"),
)
INJECTION_EDITS = (("|sudo|env|ssh|password|passwort|kubeconfig", "|sudo|env|ssh|kubeconfig"),)


def load(name: str, path: Path, edits: tuple[tuple[str, str], ...]) -> None:
    """Executes `path` with `edits` applied as the module `name` (every edit must apply)."""
    source = path.read_text(encoding="utf-8")
    for old, new in edits:
        if old not in source:
            raise SystemExit(f"{path.name} changed: {old!r} is no longer in it; update the edits")
        source = source.replace(old, new)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)


def main() -> int:
    import level5.safety.prefilter  # noqa: F401 (loaded first: the scratch copies import it)

    load("level5.safety.redaction", SAFETY / "redaction.py", REDACTION_EDITS)
    load("level5.safety.injection", SAFETY / "injection.py", INJECTION_EDITS)
    from level5.tools.safety_eval import injection_figures, redaction_figures

    for figure in injection_figures() + redaction_figures():
        if figure.name in ("PERSON", "ADDRESS", "PHONE", "clean text", "other_languages", "benign_lookalike"):
            print(f"{figure.split:9} {figure.name:18} {figure.right}/{figure.total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
