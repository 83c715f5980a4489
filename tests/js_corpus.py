"""The JavaScript review corpus (tests/corpora/javascript): payloads by family and half, with verdicts."""

from __future__ import annotations

import tomllib
from pathlib import Path

from level5.safety.review.javascript import review_javascript

CORPUS = Path(__file__).resolve().parent / "corpora" / "javascript"
ALLOWED_LIBRARIES = ("lodash", "moment")
SEPARATOR = "// ==="


def payloads(kind: str, half: str) -> list[tuple[str, str, str]]:
    """(family, payload title, source) of every payload of `kind` (escapes, benign) in `half`."""
    families = tomllib.loads((CORPUS / "families.toml").read_text())[kind][half]
    found = []
    for family, file in families.items():
        text = (CORPUS / kind / file).read_text()
        for chunk in text.split(SEPARATOR)[1:]:
            title, _, source = chunk.partition("\n")
            found.append((family, title.strip(), source))
    return found


def verdicts(kind: str, half: str) -> list[tuple[str, str, str]]:
    """(family, title, verdict) of each payload."""
    return [
        (family, title, review_javascript(source, allowed_libraries=ALLOWED_LIBRARIES, max_lines=200).verdict)
        for family, title, source in payloads(kind, half)
    ]
