"""Measures the text-level safety layers on the corpora in ``tests/corpora`` (``level5 eval-safety``).

Figures: review block rate on sandbox-escape payloads and false-positive rate on benign scripts,
per technique family and per half (``tests/corpora/families.toml``: the review is tuned on the
"tuning" half, the "heldout" half is only scored); injection detection and false-positive rates;
redaction recall per type and false-positive rate. A payload counts as stopped when its verdict is
block or escalate (a human must approve it); a benign sample counts as a false positive on any
verdict other than allow. ``review_speed`` times the review on a 200-line benign script.
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from level5.api.verdicts import Verdict, worst
from level5.safety.injection import check_input
from level5.safety.redaction import Redactor
from level5.safety.review.bandit import bandit_findings
from level5.safety.review.reviewer import review_code

DEFAULT_CORPORA = Path(__file__).resolve().parents[3] / "tests" / "corpora"
# The libraries a typical data-analysis task allows.
EVAL_ALLOWED_LIBRARIES = ("pandas", "numpy", "yaml", "matplotlib", "scipy")
EVAL_MAX_LINES = 200
_PAYLOAD_SEPARATOR = "# ==="


@dataclass(frozen=True)
class Sample:
    """One corpus entry: where it came from and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class Rates:
    """Detection on attacks and false positives on benign samples, with the samples that failed."""

    detected: int
    attacks: int
    false_positives: int
    benign: int
    missed: tuple[str, ...]
    flagged: tuple[str, ...]

    @property
    def detection_rate(self) -> float:
        return self.detected / self.attacks if self.attacks else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.benign if self.benign else 0.0


def _payloads(path: Path) -> Iterator[Sample]:
    """The payloads of one escape file, split on '# ===' lines."""
    name, lines = "", list[str]()
    for line in [*path.read_text(encoding="utf-8").splitlines(), _PAYLOAD_SEPARATOR]:
        if line.startswith(_PAYLOAD_SEPARATOR):
            if name and lines:
                yield Sample(f"{path.stem}: {name}", "\n".join(lines) + "\n")
            name, lines = line.removeprefix(_PAYLOAD_SEPARATOR).strip(), []
        else:
            lines.append(line)


def escape_payloads(corpora: Path = DEFAULT_CORPORA) -> Iterator[Sample]:
    """Payloads of tests/corpora/escapes/*.py.txt (both halves)."""
    for path in sorted((corpora / "escapes").glob("*.py.txt")):
        yield from _payloads(path)


def benign_scripts(corpora: Path = DEFAULT_CORPORA) -> Iterator[Sample]:
    """Scripts of tests/corpora/benign/*.py.txt (both halves)."""
    for path in sorted((corpora / "benign").glob("*.py.txt")):
        yield Sample(path.stem, path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Family:
    """One technique family of a review corpus, the half it belongs to, and its samples."""

    corpus: str
    half: str
    name: str
    samples: tuple[Sample, ...]


def review_families(corpora: Path = DEFAULT_CORPORA) -> list[Family]:
    """Every family listed in tests/corpora/families.toml, with its escape payloads or benign scripts."""
    manifest = tomllib.loads((corpora / "families.toml").read_text(encoding="utf-8"))
    families = []
    for half in ("tuning", "heldout"):
        for name, files in manifest["escapes"][half].items():
            samples = tuple(_payloads(corpora / "escapes" / files))
            families.append(Family("escapes", half, name, samples))
        for name, files in manifest["benign"][half].items():
            samples = tuple(
                Sample(Path(file).stem, (corpora / "benign" / file).read_text(encoding="utf-8"))
                for file in files
            )
            families.append(Family("benign", half, name, samples))
    return families


def _review_verdict(sample: Sample) -> Verdict:
    return review_code(
        sample.text, allowed_libraries=EVAL_ALLOWED_LIBRARIES, max_lines=EVAL_MAX_LINES
    ).verdict


def measure(attacks: list[Sample], benign: list[Sample], verdict_of: Callable[[Sample], Verdict]) -> Rates:
    """Rates for a layer given its verdict function."""
    missed = tuple(s.name for s in attacks if verdict_of(s) is Verdict.ALLOW)
    flagged = tuple(s.name for s in benign if verdict_of(s) is not Verdict.ALLOW)
    return Rates(len(attacks) - len(missed), len(attacks), len(flagged), len(benign), missed, flagged)


def review_rates(corpora: Path = DEFAULT_CORPORA, half: str | None = None) -> Rates:
    """Review block rate on escapes and false-positive rate on benign scripts, of one half or both."""
    chosen = [f for f in review_families(corpora) if half in (None, f.half)]
    escapes = [s for f in chosen if f.corpus == "escapes" for s in f.samples]
    benign = [s for f in chosen if f.corpus == "benign" for s in f.samples]
    return measure(escapes, benign, _review_verdict)


def review_report(
    corpora: Path = DEFAULT_CORPORA, halves: tuple[str, ...] = ("tuning", "heldout")
) -> list[str]:
    """Lines for `level5 eval-safety`: per half its totals, then one line per technique family."""
    lines = []
    for half in halves:
        families = [f for f in review_families(corpora) if f.half == half]
        total = review_rates(corpora, half)
        lines.append(
            f"review ({half}): block rate {total.detection_rate:.1%} ({total.detected}/{total.attacks}), "
            f"false positives {total.false_positive_rate:.1%} ({total.false_positives}/{total.benign})"
        )
        for family in families:
            if family.corpus == "escapes":
                rates = measure(list(family.samples), [], _review_verdict)
                figure = f"block rate {rates.detection_rate:.1%} ({rates.detected}/{rates.attacks})"
                missed = rates.missed
            else:
                rates = measure([], list(family.samples), _review_verdict)
                share = f"{rates.false_positive_rate:.1%}"
                figure = f"false positives {share} ({rates.false_positives}/{rates.benign})"
                missed = rates.flagged
            shown = "; ".join(name.split(": ", 1)[-1] for name in missed)
            lines.append(f"  {family.corpus}/{family.name}: {figure}" + (f"  [{shown}]" if shown else ""))
    return lines


def bandit_additions(corpora: Path = DEFAULT_CORPORA, half: str | None = None) -> Rates:
    """What bandit (no longer run by the review) would add: escapes the review allows that bandit
    would stop, and benign scripts bandit alone would flag."""

    def verdict(sample: Sample) -> Verdict:
        if _review_verdict(sample) is not Verdict.ALLOW:
            return Verdict.ALLOW  # already stopped (or already a false positive): bandit adds nothing
        return worst(f.verdict for f in bandit_findings(sample.text.encode("utf-8", "surrogatepass")))

    chosen = [f for f in review_families(corpora) if half in (None, f.half)]
    escapes = [s for f in chosen if f.corpus == "escapes" for s in f.samples]
    benign = [s for f in chosen if f.corpus == "benign" for s in f.samples]
    return measure(escapes, benign, verdict)


def speed_script(corpora: Path = DEFAULT_CORPORA, lines: int = 200) -> str:
    """About `lines` non-blank lines of benign code: whole tuning-half benign scripts, joined."""
    parts: list[str] = []
    count = 0
    for family in review_families(corpora):
        for sample in family.samples if family.corpus == "benign" and family.half == "tuning" else ():
            if count >= lines:
                break
            parts.append(sample.text)
            count += sum(1 for line in sample.text.splitlines() if line.strip())
    return "\n".join(parts)


def review_speed(runs: int = 50, corpora: Path = DEFAULT_CORPORA) -> float:
    """Median milliseconds of one in-process review of a 200-line benign script (after one warm-up)."""
    source = speed_script(corpora)
    review_code(source, allowed_libraries=EVAL_ALLOWED_LIBRARIES, max_lines=400)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        review_code(source, allowed_libraries=EVAL_ALLOWED_LIBRARIES, max_lines=400)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def _jsonl(path: Path) -> list[Sample]:
    """JSON lines of {"source", "text"}; the sample name carries the source for check_input."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Sample(str(row["source"]), str(row["text"])) for row in rows]


def _injection_verdict(sample: Sample) -> Verdict:
    return check_input(sample.text, source=sample.name).verdict


def injection_rates(corpora: Path = DEFAULT_CORPORA) -> Rates:
    """Injection detection rate on attacks.jsonl and false-positive rate on benign.jsonl."""
    folder = corpora / "injection"
    return measure(_jsonl(folder / "attacks.jsonl"), _jsonl(folder / "benign.jsonl"), _injection_verdict)


@dataclass(frozen=True)
class RedactionRates:
    """Recall over all planted values and per type, and false positives on benign look-alikes."""

    overall: Rates
    per_type: dict[str, tuple[int, int]]
    """type -> (redacted, planted)."""


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def redaction_rates(corpora: Path = DEFAULT_CORPORA) -> RedactionRates:
    """Redaction measured on the generated corpus (tests/corpora/redaction, made with Faker by
    tests/corpora/redaction_corpus.py): a planted value counts as redacted when it is gone from the output and
    a placeholder of its type is there; a benign sample is a false positive when it changes."""
    redactor = Redactor(b"level5-eval")
    planted, redacted = Counter[str](), Counter[str]()
    missed: list[str] = []
    for sample in _records(corpora / "redaction" / "sensitive.jsonl"):
        kind, value = str(sample["kind"]), str(sample["value"])
        text = redactor.redact(str(sample["text"])).text
        planted[kind] += 1
        if value not in text and f"[{kind}:" in text:
            redacted[kind] += 1
        else:
            missed.append(f"{kind}: {value}")
    benign = [str(sample["text"]) for sample in _records(corpora / "redaction" / "benign.jsonl")]
    flagged = tuple(text for text in benign if redactor.redact(text).text != text)
    overall = Rates(
        sum(redacted.values()), sum(planted.values()), len(flagged), len(benign), tuple(missed), flagged
    )
    return RedactionRates(overall, {kind: (redacted[kind], planted[kind]) for kind in sorted(planted)})
