"""Whether a change to layer 5 leaves its output exactly as it was: a fingerprint of every redaction.

For every row of the redaction corpus (tests/corpora/redaction, both files, every split) and for the 4 MB of
mixed program output that ``level5.tools.safety_eval.redaction_speed()`` times, the SHA-256 of the redacted
text and its counts per type. Held-out rows are compared by hash only: no held-out text or output is
printed. A speed-up should change no fingerprint; a detector change shows which rows moved.

Run before the change, ``.venv/bin/python tests/corpora/redaction_fingerprint.py /tmp/before.json``
(records), and after it with the same path (compares, and exits 1 when any fingerprint differs).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from level5.safety.redaction import Redaction, Redactor
from level5.tools.safety_eval import DEFAULT_CORPORA, mixed_text


def _digest(result: Redaction) -> str:
    return hashlib.sha256((result.text + json.dumps(result.counts, sort_keys=True)).encode()).hexdigest()


def fingerprints(corpora: Path = DEFAULT_CORPORA) -> dict[str, str]:
    """Row id ("file:line:split", and "mixed") -> fingerprint of its redaction."""
    redactor = Redactor(b"level5-eval")
    found: dict[str, str] = {}
    for name in ("sensitive.jsonl", "benign.jsonl"):
        lines = (corpora / "redaction" / name).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip():
                row = json.loads(line)
                found[f"{name}:{number}:{row['split']}"] = _digest(redactor.redact(str(row["text"])))
    found["mixed"] = _digest(redactor.redact(mixed_text(corpora, 4_000_000)))
    return found


def main(path: Path) -> int:
    now = fingerprints()
    if not path.exists():
        path.write_text(json.dumps(now), encoding="utf-8")
        print(f"recorded {len(now)} fingerprints in {path}")
        return 0
    before = json.loads(path.read_text(encoding="utf-8"))
    moved = sorted(key for key in before.keys() | now.keys() if before.get(key) != now.get(key))
    by_split = Counter(key.rsplit(":", 1)[-1] for key in moved)
    print(f"{len(before)} fingerprints, {len(moved)} differ" + (f": {dict(by_split)}" if moved else ""))
    tuning = [key for key in moved if key.rsplit(":", 1)[-1].startswith("tuning") or key == "mixed"]
    if tuning:
        print("tuning rows (and the mixed text) that differ:", ", ".join(tuning))
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
