"""Fits the embedded classifier's weights (``make semantic-weights``): writes
``level5/model/data/semantic_weights.json``, never edited by hand.

Training rows: tuning halves only (splits starting with ``tuning``), so ``level5 eval-safety`` can score
the classifier on the held-out halves. From the injection corpus, attacks (``expect: stop``) against
benign texts (``expect: allow``); quoted attacks (``expect: escalate``) are neither. From the redaction
corpus, its clean texts as more benign ones: logs, tables, tracebacks and configs, the program output
layer 1 screens. Without them one clean program output in six scored as an attack in cross-validation
(the injection corpus's benign outputs are few and mostly look-alikes), and its ordinary goals and
outputs (rounds 13b and 14g) teach that a terse imperative ("Print ok.", "Run the linters and report.")
or a bare "ok" is no attack. Each row's first window is read (``SentenceEncoder.features``: its vector and
its shortness); an L2-regularised logistic regression is fitted by Newton's method (iteratively
reweighted least squares) in numpy, so the same rows give the same file. Its row weights
(``sample_weights``): attacks and benign texts weigh half each, and the redaction corpus's clean texts
``REDACTION_SHARE`` of the benign half. The file records the sha256 of the rows: a unit test fails when
the corpora's tuning rows change and this tool was not run again.

The threshold rules, one per channel (``level5.api.sources``): the lowest threshold (on a 0.01 grid from
0.5) at which the classifier alone, in 5-fold cross-validation on the training rows, flags at most
``MAX_BENIGN_FLAGGED[channel]`` of that channel's benign rows. A goal's finding escalates to a person once
per task (under the ``Anomaly`` trigger) and marks it ``InputFlagged``: one benign goal in twenty is what
we let that cost be (one in ten, tried first, escalated 7 of the repository's own 74 test, sample and
benchmark goals; one in twenty, 4). Program output is screened on every iteration and a flag withholds it
from the model (the refinement goes on without it), so its budget is one clean output in fifty: the benign
outputs and reference data of the injection corpus and the redaction corpus's clean texts. Each fold holds
out whole corpus rounds (a round's tuning half is all in one fold), as the next real round will be unseen:
folds of shuffled rows see every round in training and flag fewer benign texts at each threshold than an
unseen round does (0.65 met the rule then, 0.72 with rounds held out), so they choose too low a threshold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from level5.api.sources import GOAL, SANDBOX_OUTPUT
from level5.model.semantic import DATA_CHANNEL, WEIGHTS_PATH, SentenceEncoder
from level5.tools.safety_eval import DEFAULT_CORPORA, injection_rows

REGULARISATION_C = 1.0
"""Inverse strength of the L2 penalty (scikit-learn's C): the penalty is ||w||^2 / (2 C)."""
REDACTION_SHARE = 0.35
"""The share of the benign texts' weight that the redaction corpus's clean texts carry (``sample_weights``).
It and C were chosen on the tuning rows' cross-validation, on the grid C in {0.5, 1, 2, 4, 16} x share in
{0, 0.1, 0.25, 0.35, 0.5, 0.65 (their share by number)}: the most attacks detected less benign texts
flagged (injection corpus and redaction corpus together), 612 and 110 of 911 and 1,408 here."""
MAX_BENIGN_FLAGGED = {GOAL: 0.05, DATA_CHANNEL: 0.02}
"""Each channel's budget of benign rows flagged in cross-validation (the threshold rules)."""
FOLDS = 5
_LABELS = {"stop": 1.0, "allow": 0.0}

Matrix = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TrainingRow:
    """One training text: its corpus (``injection`` or ``redaction``), half, label, source and text."""

    corpus: str
    split: str
    expect: str
    source: str
    text: str

    @property
    def channel(self) -> str:
        """Whose threshold scores it: ``GOAL`` or ``DATA_CHANNEL`` (program output, reference data)."""
        return GOAL if self.source == GOAL else DATA_CHANNEL

    @property
    def round(self) -> str:
        """The cross-validation group: the corpora number their rounds alike, but they are not one round."""
        return f"{self.corpus}:{self.split}"


def training_rows(corpora: Path = DEFAULT_CORPORA) -> list[TrainingRow]:
    """The tuning halves' attacks and benign texts of the injection corpus, then the redaction corpus's
    tuning clean texts (benign), each in corpus order."""
    injection = [
        TrainingRow("injection", r.split, r.expect, r.source, r.text)
        for r in injection_rows(corpora)
        if r.split.startswith("tuning") and r.expect in _LABELS
    ]
    lines = (corpora / "redaction" / "benign.jsonl").read_text(encoding="utf-8").splitlines()
    clean = [json.loads(line) for line in lines if line.strip()]
    redaction = [
        TrainingRow("redaction", str(r["split"]), "allow", SANDBOX_OUTPUT, str(r["text"]))
        for r in clean
        if str(r["split"]).startswith("tuning")
    ]
    return injection + redaction


def training_sha256(rows: Sequence[TrainingRow]) -> str:
    """sha256 of what the weights depend on: each row's corpus, half, label, source and text, in order."""
    fields = [[r.corpus, r.split, r.expect, r.source, r.text] for r in rows]
    canonical = json.dumps(fields, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sample_weights(labels: Matrix, redaction: Mask) -> Matrix:
    """Each row's weight in the loss: the attacks weigh half of it, the benign texts the other half, of
    which the redaction corpus's clean texts carry REDACTION_SHARE, whatever each group's number of rows.
    Weighted by their number (65 %), the easy clean texts drowned the injection corpus's look-alikes and the
    rule then chose a threshold that flagged more of those (55 of 348 in cross-validation, 33 before)."""
    n = len(labels)
    groups = (
        (labels == 1.0, 0.5),
        ((labels == 0.0) & ~redaction, 0.5 * (1.0 - REDACTION_SHARE)),
        (redaction, 0.5 * REDACTION_SHARE),
    )
    weights = np.zeros(n)
    for members, share in groups:
        if members.any():
            weights[members] = share * n / members.sum()
    return weights


def fit(
    vectors: Matrix, labels: Matrix, weights: Matrix, c: float = REGULARISATION_C
) -> tuple[Matrix, float]:
    """Coefficients and intercept of the L2-regularised logistic regression with these row weights
    (Newton)."""
    dims = vectors.shape[1]
    x = np.hstack([vectors, np.ones((len(labels), 1))])
    penalty = np.full(dims + 1, 1.0 / c)
    penalty[-1] = 0.0  # the intercept is not shrunk
    theta = np.zeros(dims + 1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        gradient = x.T @ (weights * (p - labels)) + penalty * theta
        hessian = (x.T * (weights * p * (1.0 - p))) @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return theta[:-1], float(theta[-1])


def _probabilities(vectors: Matrix, coefficients: Matrix, intercept: float) -> Matrix:
    return np.asarray(1.0 / (1.0 + np.exp(-(vectors @ coefficients + intercept))), dtype=np.float64)


def cross_validated(
    vectors: Matrix, labels: Matrix, redaction: Mask, rounds: Sequence[str], folds: int = FOLDS
) -> Matrix:
    """Each row's probability from the regression fitted on the other folds; a round's rows are all in
    one fold (the rounds in name order, dealt round the folds)."""
    dealt = {name: i % folds for i, name in enumerate(sorted(set(rounds)))}
    fold = np.array([dealt[name] for name in rounds])
    out = np.zeros(len(labels))
    for k in range(folds):
        kept = fold != k
        weights = sample_weights(labels[kept], redaction[kept])
        coefficients, intercept = fit(vectors[kept], labels[kept], weights)
        out[fold == k] = _probabilities(vectors[fold == k], coefficients, intercept)
    return out


def choose_threshold(benign: Matrix, budget: float) -> float:
    """The lowest threshold at which at most ``budget`` of the benign rows score at or above it."""
    for hundredths in range(50, 100):
        threshold = hundredths / 100
        if (benign >= threshold).mean() <= budget:
            return threshold
    return 0.99


def train(corpora: Path = DEFAULT_CORPORA) -> dict[str, object]:
    """The weights file's content, from the corpus's tuning rows."""
    rows = training_rows(corpora)
    encoder = SentenceEncoder.packaged()
    vectors = encoder.features(encoder.first_windows([r.text for r in rows])).astype(np.float64)
    labels = np.array([_LABELS[r.expect] for r in rows])
    redaction = np.array([r.corpus == "redaction" for r in rows])
    channel = np.array([r.channel for r in rows])
    held_back = cross_validated(vectors, labels, redaction, [r.round for r in rows])
    thresholds = {
        name: choose_threshold(held_back[(channel == name) & (labels == 0.0)], budget)
        for name, budget in MAX_BENIGN_FLAGGED.items()
    }
    coefficients, intercept = fit(vectors, labels, sample_weights(labels, redaction))

    # Per channel: its attacks and benign rows, and how many of each the held-back fits flag.
    held_back_counts: dict[str, int] = {}
    for name in MAX_BENIGN_FLAGGED:
        for group, label, flagged in (("attacks", 1.0, "detected"), ("benign", 0.0, "flagged")):
            members = (channel == name) & (labels == label)
            held_back_counts[f"{name}_{group}"] = int(members.sum())
            hits = held_back[members] >= thresholds[name]
            held_back_counts[f"{name}_{group}_{flagged}"] = int(hits.sum())

    return {
        "about": "written by level5.tools.semantic_train (make semantic-weights); never edit by hand",
        "model_sha256": encoder.sha256,
        "training_sha256": training_sha256(rows),
        "training_rows": {
            "attacks": int(labels.sum()),
            "benign": int(((labels == 0) & ~redaction).sum()),
            "redaction_clean_texts": int(redaction.sum()),
        },
        "regularisation_c": REGULARISATION_C,
        "redaction_share": REDACTION_SHARE,
        "threshold_rule": "per channel, the lowest at which at most "
        + ", ".join(f"{budget:.0%} of the {name} channel's" for name, budget in MAX_BENIGN_FLAGGED.items())
        + f" tuning benign rows are flagged in {FOLDS}-fold cross-validation, a round's rows in one fold",
        "thresholds": thresholds,
        "cross_validated": held_back_counts,
        "intercept": round(intercept, 6),
        "coefficients": [round(float(w), 6) for w in coefficients],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--output", type=Path, default=WEIGHTS_PATH)
    args = parser.parse_args(argv)
    weights = train(args.corpora)
    args.output.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    print(
        f"{args.output}: thresholds {weights['thresholds']}, cross-validated {weights['cross_validated']} "
        f"of {weights['training_rows']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
