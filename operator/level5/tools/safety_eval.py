"""Measures the text-level safety layers on the corpora in ``tests/corpora`` (``level5 eval-safety``).

Figures: review block rate on sandbox-escape payloads and false-positive rate on benign scripts,
per technique family and per half (``tests/corpora/families.toml``: the review is tuned on the
"tuning" half, the "heldout" half is only scored); injection detection and false-positive rates;
redaction recall per type and false-positive rate. A payload counts as stopped when its verdict is
block or escalate (a human must approve it); a benign sample counts as a false positive on any
verdict other than allow. ``review_speed`` times the review on a 200-line benign script.

The injection and redaction corpora are split into a ``tuning`` and a ``heldout`` half too (each row's
``split``), per technique family and per kind: ``injection_figures`` and ``redaction_figures`` report
both halves separately, so a figure on data the detectors were tuned on is never mistaken for one on
data they have not seen. ``injection_speed`` and ``redaction_speed`` are what a benchmark calls.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from level5.api.spec import Language
from level5.api.verdicts import Verdict, worst
from level5.model.semantic import SemanticScorer
from level5.safety.injection import (
    SECOND_OPINION_FAILED,
    SecondOpinion,
    check_input,
    check_input_with_second_opinion,
)
from level5.safety.redaction import Redactor, find_spans
from level5.safety.review.bandit import bandit_findings
from level5.safety.review.javascript import review_javascript
from level5.safety.review.reviewer import review_code
from level5.safety.workers import DetectorPool

DEFAULT_CORPORA = Path(__file__).resolve().parents[3] / "tests" / "corpora"
# The libraries a typical data-analysis task allows.
EVAL_ALLOWED_LIBRARIES = ("pandas", "numpy", "yaml", "matplotlib", "scipy")
EVAL_MAX_LINES = 200
_PAYLOAD_SEPARATOR = "# ==="
_JS_PAYLOAD_SEPARATOR = "// ==="
JAVASCRIPT_ALLOWED_LIBRARIES = ("lodash", "moment")


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


def _payloads(path: Path, separator: str = _PAYLOAD_SEPARATOR) -> Iterator[Sample]:
    """The payloads of one corpus file, split on lines that start with the separator ('# ===')."""
    name, lines = "", list[str]()
    for line in [*path.read_text(encoding="utf-8").splitlines(), separator]:
        if line.startswith(separator):
            if name and lines:
                yield Sample(f"{path.stem}: {name}", "\n".join(lines) + "\n")
            name, lines = line.removeprefix(separator).strip(), []
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


def javascript_families(corpora: Path = DEFAULT_CORPORA) -> list[Family]:
    """Every family of tests/corpora/javascript/families.toml, with its payloads ('// ===' separated)."""
    folder = corpora / "javascript"
    manifest = tomllib.loads((folder / "families.toml").read_text(encoding="utf-8"))
    return [
        Family(kind, half, name, tuple(_payloads(folder / kind / file, _JS_PAYLOAD_SEPARATOR)))
        for half in ("tuning", "heldout")
        for kind in ("escapes", "benign")
        for name, file in manifest[kind][half].items()
    ]


def _javascript_verdict(sample: Sample) -> Verdict:
    return review_javascript(
        sample.text, allowed_libraries=JAVASCRIPT_ALLOWED_LIBRARIES, max_lines=EVAL_MAX_LINES
    ).verdict


def review_report(
    corpora: Path = DEFAULT_CORPORA,
    halves: tuple[str, ...] = ("tuning", "heldout"),
    language: Language = Language.PYTHON,
) -> list[str]:
    """Lines for `level5 eval-safety`: per half its totals, then one line per technique family (the
    Python review on tests/corpora, or the JavaScript one on tests/corpora/javascript)."""
    python = language is Language.PYTHON
    every = review_families(corpora) if python else javascript_families(corpora)
    verdict_of = _review_verdict if python else _javascript_verdict
    lines = []
    for half in halves:
        families = [f for f in every if f.half == half]
        total = measure(
            [s for f in families if f.corpus == "escapes" for s in f.samples],
            [s for f in families if f.corpus == "benign" for s in f.samples],
            verdict_of,
        )
        lines.append(
            f"{'review' if python else 'javascript review'} ({half}): block rate "
            f"{total.detection_rate:.1%} ({total.detected}/{total.attacks}), "
            f"false positives {total.false_positive_rate:.1%} ({total.false_positives}/{total.benign})"
        )
        for family in families:
            if family.corpus == "escapes":
                rates = measure(list(family.samples), [], verdict_of)
                figure = f"block rate {rates.detection_rate:.1%} ({rates.detected}/{rates.attacks})"
                missed = rates.missed
            else:
                rates = measure([], list(family.samples), verdict_of)
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
    """Injection detection rate on attacks.jsonl and false-positive rate on benign.jsonl, both halves."""
    folder = corpora / "injection"
    # Goals that quote an attack should escalate (injection_figures counts them); they are not benign.
    benign = [row for row in _records(folder / "benign.jsonl") if row["expect"] == "allow"]
    samples = [Sample(str(row["source"]), str(row["text"])) for row in benign]
    return measure(_jsonl(folder / "attacks.jsonl"), samples, _injection_verdict)


@dataclass(frozen=True)
class RedactionRates:
    """Recall over all planted values and per type, and false positives on benign look-alikes."""

    overall: Rates
    per_type: dict[str, tuple[int, int]]
    """type -> (redacted, planted)."""


@dataclass(frozen=True)
class Figure:
    """One family's or kind's figure on one half: how many samples the layer handled as expected."""

    name: str
    split: str
    measure: str
    """What `right` counts: detected (attacks), allowed (benign), escalated, redacted, unchanged."""
    right: int
    total: int
    failures: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0


_EXPECTED: dict[str, tuple[str, Callable[[Verdict], bool]]] = {
    "stop": ("detected", lambda v: v is not Verdict.ALLOW),
    "allow": ("allowed", lambda v: v is Verdict.ALLOW),
    "escalate": ("escalated", lambda v: v is Verdict.ESCALATE),
}


def _figures(rows: list[tuple[str, str, str, bool, str]]) -> list[Figure]:
    """Figures grouped by (name, split, measure) from rows of (name, split, measure, right, sample)."""
    groups: dict[tuple[str, str, str], list[tuple[bool, str]]] = {}
    for name, split, measure, right, sample in rows:
        groups.setdefault((name, split, measure), []).append((right, sample))
    return [
        Figure(
            name, split, measure, sum(r for r, _ in items), len(items), tuple(s for r, s in items if not r)
        )
        for (name, split, measure), items in sorted(
            groups.items(), key=lambda kv: (kv[0][1] != "tuning", kv[0])
        )
    ]


@dataclass(frozen=True)
class InjectionRow:
    """One row of the injection corpus: its family and half, its text, where the text comes from, and
    what the layer should do with it (``stop``, ``allow`` or ``escalate``)."""

    family: str
    split: str
    text: str
    source: str
    expect: str


def injection_rows(corpora: Path = DEFAULT_CORPORA, splits: Collection[str] = ()) -> list[InjectionRow]:
    """The attack and benign rows, only those of ``splits`` when given."""
    rows = [
        InjectionRow(str(r["family"]), str(r["split"]), str(r["text"]), str(r["source"]), str(r["expect"]))
        for name in ("attacks.jsonl", "benign.jsonl")
        for r in _records(corpora / "injection" / name)
    ]
    return [row for row in rows if not splits or row.split in splits]


def _injection_figures(rows: list[InjectionRow], verdicts: list[Verdict]) -> list[Figure]:
    figures: list[tuple[str, str, str, bool, str]] = []
    for row, verdict in zip(rows, verdicts, strict=True):
        measure, expected = _EXPECTED[row.expect]
        figures.append((row.family, row.split, measure, expected(verdict), row.text))
    return _figures(figures)


def injection_figures(corpora: Path = DEFAULT_CORPORA) -> list[Figure]:
    """Per technique family and half: detection on attacks, allowed benign texts, escalated quotes."""
    rows = injection_rows(corpora)
    return _injection_figures(rows, [check_input(row.text, source=row.source).verdict for row in rows])


@dataclass(frozen=True)
class SecondOpinionFigures:
    """Layer 1 on some halves without and with a second opinion (``level5 eval-classifier``)."""

    built_in: list[Figure]
    with_second_opinion: list[Figure]
    failed: int
    """Rows whose second opinion failed (timeout, error, unreadable reply): the built-in verdict stood."""


async def second_opinion_figures(
    second_opinion: SecondOpinion, splits: Collection[str], corpora: Path = DEFAULT_CORPORA
) -> SecondOpinionFigures:
    """Every row of ``splits`` through the built-in check alone and with ``second_opinion``, one at a time
    (a local model answers one request at a time), as the operator combines them."""
    rows = injection_rows(corpora, splits)
    if not rows:
        raise ValueError(f"no injection corpus rows in the splits {sorted(splits)}")
    combined = [
        await check_input_with_second_opinion(row.text, source=row.source, classifier=second_opinion)
        for row in rows
    ]
    return SecondOpinionFigures(
        built_in=_injection_figures(rows, [check_input(row.text, source=row.source).verdict for row in rows]),
        with_second_opinion=_injection_figures(rows, [result.verdict for result in combined]),
        failed=sum(any(f.rule == SECOND_OPINION_FAILED for f in result.findings) for result in combined),
    )


def embedded_classifier_figures(
    classifier: SecondOpinion, corpora: Path = DEFAULT_CORPORA
) -> SecondOpinionFigures:
    """Every half of the injection corpus without and with the embedded classifier (``level5 eval-safety``):
    its regression was fitted on the tuning halves only, so the held-out halves' figures are unseen data."""
    splits = {row.split for row in injection_rows(corpora)}
    return asyncio.run(second_opinion_figures(classifier, splits, corpora))


def embedded_classifier_speed(
    scorer: SemanticScorer, runs: int = 5, corpora: Path = DEFAULT_CORPORA
) -> Speed:
    """CPU milliseconds of one score (the best of `runs`, after one warm-up): a goal-sized text (the median
    benign goal of the injection corpus) and 8 KB of program output (``mixed_text``)."""
    goals = sorted((row.text for row in injection_rows(corpora) if row.family == "benign_goal"), key=len)
    timings = []
    for text in (goals[len(goals) // 2], mixed_text(corpora, 8192)):
        scorer.score(text)
        best = float("inf")
        for _ in range(runs):
            started = time.process_time()
            scorer.score(text)
            best = min(best, (time.process_time() - started) * 1000)
        timings.append(best)
    return Speed(goal_ms=timings[0], output_ms=timings[1])


@dataclass(frozen=True)
class Speed:
    """CPU milliseconds of the embedded classifier on one goal-sized text and on 8 KB of output."""

    goal_ms: float
    output_ms: float


def _redacted(value: str, output: str, kind: str) -> bool:
    """The value is gone, a placeholder of its kind is there, and at most a quarter of its words remain
    (an address whose street was redacted but whose town and postcode were not is not redacted)."""
    words = re.findall(r"\w{3,}", value)
    left = sum(1 for word in words if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", output))
    return value not in output and f"[{kind}:" in output and left <= len(words) // 4


def redaction_figures(corpora: Path = DEFAULT_CORPORA) -> list[Figure]:
    """Per kind and half: recall on planted values; per half: clean texts left unchanged."""
    redactor = Redactor(b"level5-eval")
    rows: list[tuple[str, str, str, bool, str]] = []
    for sample in _records(corpora / "redaction" / "sensitive.jsonl"):
        kind, value = str(sample["kind"]), str(sample["value"])
        right = _redacted(value, redactor.redact(str(sample["text"])).text, kind)
        rows.append((kind, str(sample["split"]), "redacted", right, value))
    for sample in _records(corpora / "redaction" / "benign.jsonl"):
        text = str(sample["text"])
        rows.append(
            ("clean text", str(sample["split"]), "unchanged", redactor.redact(text).text == text, text)
        )
    return _figures(rows)


def mixed_text(corpora: Path, size: int) -> str:
    """Program output as a benchmark sees it, repeated up to `size` characters: the clean look-alikes
    (log lines, tables of numbers, dates, versions, hashes, ids, code, prose) with one line in ten
    holding a planted personal value or secret."""
    sensitive = [str(row["text"]) for row in _records(corpora / "redaction" / "sensitive.jsonl")]
    clean = [str(row["text"]) for row in _records(corpora / "redaction" / "benign.jsonl")]
    lines = [line for i, text in enumerate(sensitive) for line in (text, *clean[i * 9 % len(clean) :][:9])]
    unit = "\n".join(lines) + "\n"
    return (unit * (size // len(unit) + 1))[:size]


_DIGIT = re.compile(r"\d")


def unrepeated_text(corpora: Path, size: int) -> str:
    """`mixed_text` with every digit drawn again (a fixed seed, so the text is the same on every run): the
    mixed text repeats one unit, and within it the clean look-alikes recur about 14 times, so work
    that is memoised within one text (libphonenumber's answer per candidate) looks cheaper there than
    on output whose numbers all differ. Here no line holding a digit repeats."""
    rng = random.Random(15)  # noqa: S311 (benchmark text, not a secret)
    return _DIGIT.sub(lambda _: str(rng.randrange(10)), mixed_text(corpora, size))


@dataclass(frozen=True)
class Throughput:
    """Megabytes per second of wall-clock time and per CPU-second of this process and its detector
    processes, if any (on a shared machine the second is the steadier figure)."""

    wall: float
    cpu: float


def redaction_speed(
    size: int = 4_000_000,
    corpora: Path = DEFAULT_CORPORA,
    text_of: Callable[[Path, int], str] = mixed_text,
    pool: DetectorPool | None = None,
) -> Throughput:
    """Redaction throughput on `size` characters of mixed text, or of another `text_of` (one call, as for
    one output), in this process or with a started `pool`'s workers (their CPU time counted too)."""
    text = text_of(corpora, size)
    redactor = Redactor(b"level5-bench", pool.find if pool is not None else find_spans)
    redactor.redact(text[:100_000])  # first use: libphonenumber's metadata, the workers' first texts
    workers_cpu = pool.worker_cpu if pool is not None else 0.0
    started, cpu = time.perf_counter(), time.process_time()
    redactor.redact(text)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if pool is not None:
        cpu += pool.worker_cpu - workers_cpu
    megabytes = len(text.encode()) / 1e6
    return Throughput(megabytes / wall, megabytes / cpu)


def one_line_text(corpora: Path, size: int) -> str:
    """`mixed_text` printed as one line (every line break a space): program output such as a JSON document
    or a log of records without line breaks, where a search to the end of the line is one to the end of
    the text."""
    return mixed_text(corpora, size).replace("\n", " ")


def redaction_growth(
    size: int = 1_000_000, corpora: Path = DEFAULT_CORPORA, text_of: Callable[[Path, int], str] = mixed_text
) -> float:
    """CPU time to redact four times `size` characters of mixed text (or of another `text_of`) over the
    time for `size` (4.0 when the time is linear in the input; it was about 16 when overlaps were resolved
    pairwise, and about 15 on one long line while every trigger hit searched for its line's end)."""
    text = text_of(corpora, 4 * size)
    redactor = Redactor(b"level5-bench")
    redactor.redact(text[:20_000])
    times = []
    for part in (text[:size], text):
        started = time.process_time()
        redactor.redact(part)
        times.append(time.process_time() - started)
    return times[1] / times[0]


def bench_rows(workers: int, corpora: Path = DEFAULT_CORPORA) -> list[tuple[str, str, str]]:
    """`make bench`'s rows for layers 1 and 5 (figure, value, how), measured in this process: redaction
    with `workers` detector processes (the chart's `redaction.workers`) and in this process alone."""
    pool = DetectorPool(workers)
    try:
        pool.start()
        # Interleaved, three rounds each, the best kept: a figure that another process's burst slowed is
        # not the code's.
        speeds: dict[Callable[[Path, int], str], tuple[Throughput, Throughput]] = {}
        for text_of in (mixed_text, unrepeated_text):
            pooled_runs, alone_runs = [], []
            for _ in range(3):
                pooled_runs.append(redaction_speed(corpora=corpora, text_of=text_of, pool=pool))
                alone_runs.append(redaction_speed(corpora=corpora, text_of=text_of))
            speeds[text_of] = (max(pooled_runs, key=_wall), max(alone_runs, key=_wall))
    finally:
        pool.close()
    redaction, alone = speeds[mixed_text]
    unrepeated, unrepeated_alone = speeds[unrepeated_text]
    checks = injection_speed(corpora=corpora)
    return [
        (
            f"redaction, mixed program output, {workers} detector processes",
            f"{redaction.wall:.1f} MB/s",
            f"{redaction.cpu:.1f} MB per CPU-second (every process); in one process {alone.wall:.1f} MB/s "
            f"({alone.cpu:.1f} per CPU-second), so {redaction.wall / alone.wall:.2f}x; "
            f"level5.tools.safety_eval.redaction_speed(): 4 MB of the redaction corpus's clean look-alikes, "
            f"one line in ten with a planted value; 4x the text took "
            f"{redaction_growth(corpora=corpora):.1f}x the time in one process",
        ),
        (
            f"redaction, program output without repeated numbers, {workers} detector processes",
            f"{unrepeated.wall:.1f} MB/s",
            f"{unrepeated.cpu:.1f} MB per CPU-second (every process); in one process "
            f"{unrepeated_alone.wall:.1f} MB/s ({unrepeated_alone.cpu:.1f} per CPU-second), so "
            f"{unrepeated.wall / unrepeated_alone.wall:.2f}x; level5.tools.safety_eval.unrepeated_text(): "
            f"the same 4 MB with every digit drawn again, so no line holding a number repeats",
        ),
        (
            "redaction, one long line",
            f"{redaction_growth(corpora=corpora, text_of=one_line_text):.1f}x the time for 4x the text",
            "level5.tools.safety_eval.one_line_text(): the mixed text with its line breaks made spaces, 1 MB "
            "and 4 MB, CPU time in one run (4.0 is linear)",
        ),
        (
            "injection checks",
            f"{checks:.0f} checks/s",
            "level5.tools.safety_eval.injection_speed(): every injection corpus text, goals and output",
        ),
    ]


def _wall(throughput: Throughput) -> float:
    return throughput.wall


def injection_speed(rounds: int = 3, corpora: Path = DEFAULT_CORPORA) -> float:
    """Injection checks per second over every corpus text (goals and program output alike)."""
    samples = [
        (str(row["text"]), str(row["source"]))
        for name in ("attacks.jsonl", "benign.jsonl")
        for row in _records(corpora / "injection" / name)
    ]
    started = time.perf_counter()
    for _ in range(rounds):
        for text, source in samples:
            check_input(text, source=source)
    return rounds * len(samples) / (time.perf_counter() - started)


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
