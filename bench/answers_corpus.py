"""Turn answers recorded by `make bench-agent` (bench/recording_proxy.py) into labelled corpus records for
tests/unit/test_recorded_answers.py: each record gets a half (tuning or held-out, by a hash of the answer,
fixed before the parser is tuned) and PROPOSED labels, which a person then checks and corrects by reading
the answer (`--show` prints them side by side).

    python bench/answers_corpus.py ~/.cache/level5/bench-agent/answers-*.jsonl \
        > tests/corpora/model-answers/qwen2.5-coder-0.5b.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))

from level5.loop.prompts import JUDGE_SYSTEM  # noqa: E402
from level5.model.answers import parse_answer, parse_judgement  # noqa: E402


def record(raw: dict[str, Any]) -> dict[str, Any]:
    answer: str = raw["answer"]
    digest = hashlib.sha256(answer.encode()).hexdigest()
    judge = any(m.get("content") == JUDGE_SYSTEM for m in raw["messages"])
    label: dict[str, Any]
    if judge:
        label = {"passed": parse_judgement(answer).passed}
    else:
        parsed = parse_answer(answer)
        lines = [line for line in (parsed.code or "").splitlines() if line.strip()]
        label = {"program": parsed.code is not None, "contains": lines[0].strip() if lines else ""}
        if raw.get("finish_reason") == "length":
            label["cut_off"] = True
    return {
        "id": digest[:12],
        "half": "tuning" if int(digest[:2], 16) % 2 == 0 else "held-out",
        "kind": "judge" if judge else "code",
        "finish_reason": raw.get("finish_reason"),
        "completion_tokens": (raw.get("usage") or {}).get("completion_tokens"),
        "label": label,
        "answer": answer,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--show", action="store_true", help="print answers and proposed labels to check")
    args = parser.parse_args()
    seen: set[str] = set()
    for path in args.files:
        for line in path.read_text().splitlines():
            rec = record(json.loads(line))
            if rec["id"] in seen:
                continue
            seen.add(rec["id"])
            if args.show:
                head = f"===== {rec['id']} {rec['kind']} {rec['finish_reason']} {rec['label']}"
                print(f"{head}\n{rec['answer']}\n")
            else:
                print(json.dumps(rec))


if __name__ == "__main__":
    main()
