"""Fits the postal-address model's weights (``make postal-weights``): writes
``level5/safety/data/postal_weights.json``, never edited by hand.

Training lines: made-up program output from ``tests/corpora/postal_training.py`` (Faker, which the
operator's code may not import, so the lines come as a file: ``make postal-weights`` writes it first), one
planted address a line or none. Each line's candidates (``postal.candidates``, as the redactor finds
them) are labelled: an address when it lies within the planted address or is mostly made of it, not one
when it does not touch it; a candidate holding the address and much more is left out. Addresses and
non-addresses weigh half the loss each. An L2-regularised logistic regression over the hashed features
(``postal.features``) is fitted by full-batch Adam in numpy from zero weights, so the same lines give the
same file. The file records the sha256 of the lines: a unit test fails when their generator changes and
this tool was not run again.

``THRESHOLD`` was chosen on the redaction corpus's tuning halves (rules, then this model): the lowest
probability on a 0.05 grid that altered no more of their clean texts than the rules alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from level5.safety import postal

LINES = Path(__file__).resolve().parents[3] / "build" / "postal_lines.jsonl"
WEIGHTS = Path(__file__).resolve().parents[1] / "safety" / "data" / "postal_weights.json"
THRESHOLD = 0.9
REGULARISATION = 1e-6
"""The L2 penalty per weight, per training row."""
STEPS = 300
LEARNING_RATE = 0.05


def labelled(lines: list[dict[str, object]]) -> tuple[list[tuple[str, str, str]], npt.NDArray[np.float64]]:
    """Every line's candidates as (field, word before, word after), and 1 for an address, 0 for not."""
    fields: list[tuple[str, str, str]] = []
    labels: list[float] = []
    for line in lines:
        text = str(line["text"])
        planted = line["address"]
        low, high = (int(planted[0]), int(planted[1])) if isinstance(planted, list) else (0, 0)
        for candidate in postal.candidates(text):
            overlap = min(high, candidate.end) - max(low, candidate.start)
            width = candidate.end - candidate.start
            if overlap <= 0:
                label = 0.0
            elif overlap >= 0.8 * width:
                label = 1.0
            else:
                continue
            fields.append((text[candidate.start : candidate.end], candidate.before, candidate.after))
            labels.append(label)
    return fields, np.array(labels)


def fit(
    fields: list[tuple[str, str, str]], labels: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float32], float]:
    """Weights and bias of the logistic regression (full-batch Adam on the weighted log loss)."""
    slots, rows = postal.features(fields)
    count = len(fields)
    scale = 1 / np.sqrt(np.maximum(np.bincount(rows, minlength=count), 1))
    positives = labels.sum()
    row_weight = np.where(labels == 1.0, 0.5 / positives, 0.5 / (count - positives))
    weights = np.zeros(postal.DIMENSIONS + 1)  # the last one is the bias
    first, second = np.zeros_like(weights), np.zeros_like(weights)
    beta1, beta2 = 0.9, 0.999
    for step in range(1, STEPS + 1):
        z = np.bincount(rows, weights=weights[slots], minlength=count) * scale + weights[-1]
        residual = (1 / (1 + np.exp(-z)) - labels) * row_weight
        grad = np.bincount(slots, weights=(residual * scale)[rows], minlength=postal.DIMENSIONS + 1)
        grad = grad + np.append(REGULARISATION * weights[:-1], 0.0)
        grad[-1] = residual.sum()
        first = beta1 * first + (1 - beta1) * grad
        second = beta2 * second + (1 - beta2) * grad**2
        correction = np.sqrt(1 - beta2**step) / (1 - beta1**step)
        weights -= LEARNING_RATE * correction * first / (np.sqrt(second) + 1e-8)
    return weights[:-1].astype(np.float32), float(weights[-1])


def training_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=Path, default=LINES)
    parser.add_argument("--output", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    data = args.lines.read_bytes()
    lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    fields, labels = labelled(lines)
    slot_weights, bias = fit(fields, labels)
    encoded, scale = postal.encode(slot_weights)
    document = {
        "training_sha256": training_sha256(data),
        "training_candidates": {"address": int(labels.sum()), "other": int(len(labels) - labels.sum())},
        "threshold": THRESHOLD,
        "bias": bias,
        "scale": scale,
        "weights": encoded,
    }
    args.output.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {document['training_candidates']}")


if __name__ == "__main__":
    main()
