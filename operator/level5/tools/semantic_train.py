"""Fits the embedded classifier's weights (``make semantic-weights``): writes
``level5/model/data/semantic_weights.json``, never edited by hand.

Training rows: tuning halves only (splits starting with ``tuning``), so ``level5 eval-safety`` can score
the classifier on the held-out halves. From the injection corpus, attacks (``expect: stop``) against
benign texts (``expect: allow``); quoted attacks (``expect: escalate``) are neither. From the redaction
corpus, its clean texts as more benign ones: logs, tables, tracebacks and configs, the program output
layer 1 screens. Without them one clean program output in six scored as an attack in cross-validation
(the injection corpus's benign outputs are few and mostly look-alikes), and its ordinary goals and
outputs (round 13b) teach that a terse imperative ("Print ok.") or a bare "ok" is no attack.
Each row's first window is embedded (``level5.model.semantic``); an L2-regularised logistic regression is
fitted by Newton's method (iteratively reweighted least squares) in numpy, so the same rows give the same
file. Its row weights (``sample_weights``): attacks and benign texts weigh half each, and the redaction
corpus's clean texts ``REDACTION_SHARE`` of the benign half. The file records the sha256 of the rows: a
unit test fails when the corpora's tuning rows change and this tool was not run again.

The threshold rule: the lowest threshold (on a 0.01 grid from 0.5) at which the classifier alone, in
5-fold cross-validation on the training rows, flags at most ``MAX_BENIGN_FLAGGED`` of the injection
corpus's benign ones. Its findings escalate to a person, so a false positive costs a person's look, not a
stopped task; one benign text in ten is what we let that cost be. The redaction corpus's clean texts train
but do not set the threshold: easy and many (910 against 498), they would buy a lower one that flags more
of the injection corpus's look-alikes. Each fold holds out whole corpus rounds (a round's tuning half is
all in one fold), as the next real round will be unseen: folds of shuffled rows see every round in
training and flag fewer benign texts at each threshold than an unseen round does (0.65 met the rule
then, 0.72 with rounds held out), so they choose too low a threshold.
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

from level5.model.semantic import WEIGHTS_PATH, SentenceEncoder
from level5.tools.safety_eval import DEFAULT_CORPORA, injection_rows

REGULARISATION_C = 1.0
"""Inverse strength of the L2 penalty (scikit-learn's C): the penalty is ||w||^2 / (2 C)."""
REDACTION_SHARE = 0.35
"""The share of the benign texts' weight that the redaction corpus's clean texts carry (``sample_weights``).
It and C were chosen on the tuning rows' cross-validation, on the grid C in {0.5, 1, 2, 4, 16} x share in
{0, 0.1, 0.25, 0.35, 0.5, 0.65 (their share by number)}: the most attacks detected less benign texts
flagged (injection corpus and redaction corpus together), 612 and 110 of 911 and 1,408 here."""
MAX_BENIGN_FLAGGED = 0.10
FOLDS = 5
_LABELS = {"stop": 1.0, "allow": 0.0}

Matrix = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TrainingRow:
    """One training text: its corpus (``injection`` or ``redaction``), half, label and text."""

    corpus: str
    split: str
    expect: str
    text: str

    @property
    def round(self) -> str:
        """The cross-validation group: the corpora number their rounds alike, but they are not one round."""
        return f"{self.corpus}:{self.split}"


def training_rows(corpora: Path = DEFAULT_CORPORA) -> list[TrainingRow]:
    """The tuning halves' attacks and benign texts of the injection corpus, then the redaction corpus's
    tuning clean texts (benign), each in corpus order."""
    injection = [
        TrainingRow("injection", r.split, r.expect, r.text)
        for r in injection_rows(corpora)
        if r.split.startswith("tuning") and r.expect in _LABELS
    ]
    lines = (corpora / "redaction" / "benign.jsonl").read_text(encoding="utf-8").splitlines()
    clean = [json.loads(line) for line in lines if line.strip()]
    redaction = [
        TrainingRow("redaction", str(r["split"]), "allow", str(r["text"]))
        for r in clean
        if str(r["split"]).startswith("tuning")
    ]
    return injection + redaction


def training_sha256(rows: Sequence[TrainingRow]) -> str:
    """sha256 of what the weights depend on: each row's corpus, half, label and text, in order."""
    canonical = json.dumps([[r.corpus, r.split, r.expect, r.text] for r in rows], ensure_ascii=False)
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


def choose_threshold(probabilities: Matrix, labels: Matrix) -> float:
    """The lowest threshold at which at most MAX_BENIGN_FLAGGED of the benign rows score at or above it."""
    benign = probabilities[labels == 0.0]
    for hundredths in range(50, 100):
        threshold = hundredths / 100
        if (benign >= threshold).mean() <= MAX_BENIGN_FLAGGED:
            return threshold
    return 0.99


def train(corpora: Path = DEFAULT_CORPORA) -> dict[str, object]:
    """The weights file's content, from the corpus's tuning rows."""
    rows = training_rows(corpora)
    encoder = SentenceEncoder.packaged()
    vectors = encoder.embed(encoder.first_windows([r.text for r in rows])).astype(np.float64)
    labels = np.array([_LABELS[r.expect] for r in rows])
    corpus = np.array([r.corpus for r in rows])
    redaction = corpus == "redaction"
    held_back = cross_validated(vectors, labels, redaction, [r.round for r in rows])
    # The rule reads the injection corpus's rows only: the many easy clean texts would buy a lower
    # threshold that flags more of its look-alikes.
    threshold = choose_threshold(held_back[~redaction], labels[~redaction])
    coefficients, intercept = fit(vectors, labels, sample_weights(labels, redaction))
    return {
        "about": "written by level5.tools.semantic_train (make semantic-weights); never edit by hand",
        "model_sha256": encoder.sha256,
        "training_sha256": training_sha256(rows),
        "training_rows": {
            "attacks": int(labels.sum()),
            "benign": int(((labels == 0) & (corpus == "injection")).sum()),
            "redaction_clean_texts": int((corpus == "redaction").sum()),
        },
        "regularisation_c": REGULARISATION_C,
        "redaction_share": REDACTION_SHARE,
        "threshold_rule": f"lowest at which at most {MAX_BENIGN_FLAGGED:.0%} of the tuning benign texts are "
        f"flagged in {FOLDS}-fold cross-validation (the injection corpus's; the redaction corpus's only "
        "train), a round's rows in one fold",
        "threshold": threshold,
        "cross_validated": {
            "attacks_detected": int((held_back[labels == 1.0] >= threshold).sum()),
            "benign_flagged": int((held_back[(labels == 0.0) & (corpus == "injection")] >= threshold).sum()),
            "redaction_clean_texts_flagged": int((held_back[corpus == "redaction"] >= threshold).sum()),
        },
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
        f"{args.output}: threshold {weights['threshold']}, cross-validated {weights['cross_validated']} "
        f"of {weights['training_rows']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
