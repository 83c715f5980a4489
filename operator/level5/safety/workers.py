"""Redaction's detectors spread over worker processes, so one large output uses every core it is given and
the operator's event loop keeps its interpreter.

Python runs one thread of a process at a time, and redaction is Python work (regular expressions,
validators) at about 5 to 8 MB per CPU-second: a 4 MB output held the operator's interpreter, shared
with the event loop of every other task, for half a second or more. Here a text's detectors are split
into groups of about equal cost (``redaction.groups``), each group's triggers and detectors run in a
worker process, and the caller resolves the overlaps and writes the placeholders (``Redactor``). The
result is the same as in one process by construction: a trigger's hits do not depend on the other
triggers in its Hyperscan database, each detector reads only its own triggers' hits and the text, and
the spans are put back in the order of ``redaction.DETECTORS`` before the one sweep that resolves them.

The workers are forked from a forkserver that imported ``level5.safety.redaction`` once (its Hyperscan
databases and libphonenumber's metadata, about a second of CPU), so a worker starts in milliseconds and
shares those pages. Texts shorter than `PARALLEL_MIN_CHARS` are redacted in the calling process: sending
one costs more than redacting it.

Weighed: threads (the GIL: no gain), splitting the text into pieces (a detector reads context across
lines: a CSV header governs every row below it until a blank line, so a cut point would need a proof per
detector), and ``multiprocessing.shared_memory`` for the text (pickling a 4 MB string costs a few ms of
the 400 to 800 its redaction takes).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import cast

from level5.safety import redaction
from level5.safety.redaction import Span

log = logging.getLogger(__name__)

PARALLEL_MIN_CHARS = 32_768
"""Shorter texts are redacted in the calling process (a few ms at most; a round trip to the workers
costs about a millisecond)."""


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt(3)'s parameters (glibc's malloc.h)
HEAP_REUSE_BYTES = 32 * 1024 * 1024
"""The largest block a worker takes from its heap rather than from a mapping of its own: a text of up to 8
million characters and its lower-cased copy (4 bytes a character once one is outside the Basic Multilingual
Plane), its encodings and its trigger lists; a larger text (a sandbox's result is at most 1 MiB) still gets
mappings of its own."""


def _reuse_heap() -> bool:
    """Keep the worker's large blocks in its heap between texts; whether the C library took the setting.

    A text's large blocks (its unpickled string, its lower-cased copy, its Latin-1 bytes: 40 MB for 4 MB of
    mixed output) were above glibc's mapping threshold, so each was a fresh mapping of zeroed pages, faulted
    in page by page and unmapped after the text: about 8,000 page faults per 4 MB text and 2-5 ms of system
    time per MB in each worker. From the heap, the next text reuses the same pages (none after the first).
    The heap keeps up to four times that free before it is trimmed: a worker holds on to the pages of its
    largest text (a sandbox's result is at most 1 MiB: ``sandbox/result.py``), counted in the chart's note
    on ``redaction.workers``. Only glibc has mallopt; elsewhere nothing changes."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): its allocator keeps its own policy
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, HEAP_REUSE_BYTES) and mallopt(_M_TRIM_THRESHOLD, 4 * HEAP_REUSE_BYTES)
    )


def _prepare(groups: tuple[tuple[int, ...], ...]) -> None:
    """In a new worker: keep large blocks in the heap (`_reuse_heap`), and compile every group's Hyperscan
    databases (a worker may be given any group; the first names' literals take about half a second), before
    it takes its first text."""
    _reuse_heap()
    for group in groups:
        redaction.find_group_spans("", group)


Found = tuple[int, int, str, int]
"""A span as a plain tuple, as it crosses between processes: a ``Span`` (a named tuple) is rebuilt by a
Python call per span when unpickled, seven times what a tuple costs (37 ms for the 20,000 spans of a 4 MB
output, in the calling process while the detectors wait)."""
_SPAN = functools.partial(tuple.__new__, Span)  # a Span from a Found, without a Python call


def _detect(text: str, group: tuple[int, ...]) -> tuple[list[list[Found]], float]:
    """In a worker: one group's spans, and the CPU seconds they took (for ``make bench``)."""
    started = time.process_time()
    with redaction.collector_paused():
        found = redaction.find_group_spans(text, group)
        # (A Span is a tuple[int, int, str, int]: its plain copy is a Found.)
        return [cast(list[Found], list(map(tuple, spans))) for spans in found], time.process_time() - started


class DetectorPool:
    """`workers` processes that find a text's spans together; ``find`` is a drop-in for
    ``redaction.find_spans`` (pass it to ``Redactor``). Thread-safe: tasks' redactions share one pool."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"a detector pool needs at least one worker, not {workers}")
        self._groups = redaction.groups(workers)
        self._executor = self._new_executor()
        self._lock = threading.Lock()
        self.worker_cpu = 0.0
        """CPU seconds the workers spent on this pool's texts (``make bench`` adds them to its own)."""

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([redaction.__name__])
        return ProcessPoolExecutor(
            # One process per group: more would stay idle (``redaction.groups`` makes no more groups than
            # shorten the longest one).
            len(self._groups),
            mp_context=context,
            initializer=_prepare,
            initargs=(self._groups,),
        )

    def start(self) -> None:
        """Start every worker now (a forkserver importing redaction, then one fork per worker, about 3 CPU
        seconds), rather than in the first large redaction; waits until they answer."""
        for future in [self._executor.submit(_detect, "", group) for group in self._groups]:
            future.result()

    def start_in_background(self) -> None:
        """``start`` in a thread, so the operator is ready meanwhile (a large output comes seconds later at
        the earliest; one that comes sooner waits for the workers)."""

        def start() -> None:
            try:
                self.start()
            except Exception:  # the first large redaction meets the same fault and handles it (find)
                log.exception("redaction's detector processes did not start")

        threading.Thread(target=start, name="level5-detectors-start", daemon=True).start()

    def find(self, text: str) -> list[Span]:
        """Every detector's spans in `text`, in the order of DETECTORS, as ``redaction.find_spans``."""
        if len(text) < PARALLEL_MIN_CHARS:
            return redaction.find_spans(text)
        executor = self._executor
        try:
            futures: list[Future[tuple[list[list[Found]], float]]] = [
                executor.submit(_detect, text, group) for group in self._groups
            ]
            results = [future.result() for future in futures]
        except BrokenProcessPool:
            # A worker died (the kernel's OOM killer, a signal): every text in flight fails with this. This
            # one is redacted here instead, and the next ones get new workers.
            log.warning("a redaction worker process died; starting new ones")
            with self._lock:
                if self._executor is executor:
                    self._executor = self._new_executor()
            executor.shutdown(wait=False, cancel_futures=True)
            return redaction.find_spans(text)
        by_detector: dict[int, list[Found]] = {}
        for group, (spans, cpu) in zip(self._groups, results, strict=True):
            with self._lock:
                self.worker_cpu += cpu
            by_detector.update(zip(group, spans, strict=True))
        return [span for index in range(len(redaction.DETECTORS)) for span in map(_SPAN, by_detector[index])]

    def close(self) -> None:
        """Stop the workers (waiting for texts in progress)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
