"""Redaction's detectors split into groups and run in worker processes give what one process gives."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from level5.safety import redaction
from level5.safety.redaction import DETECTORS, Redactor, find_group_spans, find_spans, groups
from level5.safety.workers import PARALLEL_MIN_CHARS, DetectorPool
from level5.tools.safety_eval import DEFAULT_CORPORA, mixed_text, unrepeated_text


def _corpus_texts() -> list[str]:
    return [
        str(json.loads(line)["text"])
        for name in ("sensitive.jsonl", "benign.jsonl")
        for line in (DEFAULT_CORPORA / "redaction" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_every_trigger_is_declared_by_a_detector() -> None:
    """The scan in one process compiles the declared triggers only: an undeclared one would be lost."""
    declared = {name for detector in DETECTORS for name in detector.triggers}
    compiled = {t.name for t in redaction._TRIGGERS} | {w.name for w in redaction._WORD_LISTS}
    assert declared == compiled
    assert set(redaction._PREFILTER.names) == compiled


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, len(DETECTORS), 64])
def test_groups_hold_every_detector_once(count: int) -> None:
    found = groups(count)
    members = sorted(i for group in found for i in group)
    assert members == list(range(len(DETECTORS)))
    assert 1 <= len(found) <= count
    assert all(group == tuple(sorted(group)) for group in found)


def _largest_share(split: Sequence[tuple[int, ...]]) -> float:
    """The largest share of either benchmark text's cost that one group of the split carries."""
    totals = [sum(d.cost[k] for d in DETECTORS) for k in (0, 1)]
    return max(sum(DETECTORS[i].cost[k] for i in group) / totals[k] for group in split for k in (0, 1))


def test_two_groups_are_the_best_split_of_the_cost() -> None:
    """Every other split in two carries as large a share in its larger group (all 2^18 of them)."""
    count = len(DETECTORS)
    costs = np.array([d.cost for d in DETECTORS], dtype=float)
    shares = costs / costs.sum(axis=0)
    # Detector i is in the first group where bit i of the split's number is set (the last one never is:
    # a split and its mirror are one split).
    members = (np.arange(1 << (count - 1))[:, None] >> np.arange(count)) & 1
    first = members @ shares
    every_split = np.maximum(first, 1 - first).max(axis=1)
    assert _largest_share(groups(2)) <= every_split.min() + 1e-12


def test_more_groups_than_help_are_not_made() -> None:
    # The costliest detector alone sets a floor: beyond it, another process would not shorten a text.
    costliest = max(range(len(DETECTORS)), key=lambda i: _largest_share(((i,),)))
    assert (costliest,) in groups(64)
    assert _largest_share(groups(64)) == pytest.approx(_largest_share(((costliest,),)))


def _samples() -> Iterator[str]:
    texts = _corpus_texts()
    yield "\n".join(texts)
    yield mixed_text(DEFAULT_CORPORA, 300_000)
    yield unrepeated_text(DEFAULT_CORPORA, 300_000)


@pytest.mark.parametrize("index", range(len(DETECTORS)), ids=[d.find.__name__ for d in DETECTORS])
def test_a_detector_alone_with_its_declared_triggers_finds_what_it_finds_among_all(index: int) -> None:
    """Each detector reads only the triggers it declares (its group's scan has no others: reading one
    raises KeyError), and a trigger's hits do not depend on the other triggers compiled with it."""
    for text in _samples():
        everything = redaction._PREFILTER.scan(text)
        assert find_group_spans(text, (index,)) == [list(DETECTORS[index].find(text, everything))]


def test_groups_together_find_every_span_in_the_same_order() -> None:
    for text in _samples():
        for count in (2, 3):
            spans = {
                i: s
                for group in groups(count)
                for i, s in zip(group, find_group_spans(text, group), strict=True)
            }
            assert [span for i in range(len(DETECTORS)) for span in spans[i]] == find_spans(text)


@pytest.fixture(scope="module")
def pool() -> Iterator[DetectorPool]:
    detectors = DetectorPool(2)
    detectors.start()
    yield detectors
    detectors.close()


def test_a_pool_redacts_large_texts_as_one_process_does(pool: DetectorPool) -> None:
    alone, shared = Redactor(b"k"), Redactor(b"k", pool.find)
    texts = [
        mixed_text(DEFAULT_CORPORA, 600_000),
        unrepeated_text(DEFAULT_CORPORA, 600_000),
        "\n".join(_corpus_texts()),
    ]
    for text in texts:
        assert len(text) >= PARALLEL_MIN_CHARS
        before = pool.worker_cpu
        assert shared.redact(text) == alone.redact(text)
        assert pool.worker_cpu > before, "the workers did the detection"
    # What it finds is redacted: a planted value is gone.
    assert "jane.doe@example.org" not in shared.redact(texts[0] + " jane.doe@example.org").text


def test_a_pool_redacts_short_texts_in_the_calling_process(pool: DetectorPool) -> None:
    before = pool.worker_cpu
    text = "call Jane Doe at +49 30 901820 or jane.doe@example.org"
    assert Redactor(b"k", pool.find).redact(text) == Redactor(b"k").redact(text)
    assert pool.worker_cpu == before


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        DetectorPool(0)


def test_a_worker_that_dies_costs_no_redaction_and_is_replaced() -> None:
    """A worker killed (the OOM killer, a signal) breaks the executor: the text in flight is redacted in
    the calling process, and the next one gets new workers."""
    detectors = DetectorPool(2)
    try:
        detectors.start()
        text = mixed_text(DEFAULT_CORPORA, 200_000)
        expected = Redactor(b"k").redact(text)
        for pid in list(detectors._executor._processes):  # the executor's worker processes (by pid)
            os.kill(pid, signal.SIGKILL)
        before = detectors.worker_cpu
        assert Redactor(b"k", detectors.find).redact(text) == expected
        assert detectors.worker_cpu == before, "redacted in this process"
        assert Redactor(b"k", detectors.find).redact(text) == expected
        assert detectors.worker_cpu > before, "by new workers"
    finally:
        detectors.close()


_FAULTS = """
import resource, sys
from level5.safety import redaction, workers
if sys.argv[1] == "reuse":
    assert workers._reuse_heap()
faults = []
for _ in range(4):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    # A text as a worker holds it: 16 MB (4 bytes a character), its lower case, its Latin-1 bytes.
    text = ("x" * 999 + "\\n") * 4000 + "\\U0001f600"
    held = [text, redaction._lowered(text), text.encode("latin-1", "replace")]
    del text, held
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(faults[-1])
"""


def _faults_per_text(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_worker_reuses_its_heap_for_the_next_large_text() -> None:
    """A detector process takes a text's large blocks from its heap (workers._reuse_heap): the fourth text
    of 16 MB makes almost no page faults, where with the C library's defaults each makes thousands."""
    assert _faults_per_text("defaults") > 3000
    assert _faults_per_text("reuse") < 100
