"""Python's cyclic garbage collector, paced for one event loop that holds 1,000 tasks.

CPython 3.11 runs a full collection whenever the objects promoted to its oldest generation since the last one
exceed a quarter of that generation, and a full collection walks every tracked object without yielding: on
this project's 2-core machine about 0.8 µs of CPU per object. A waiting task holds about 500 tracked objects
(kopf's body and per-object memories, its daemon's coroutines, the status and spec models), so with 1,000
tasks a full collection held the event loop for 1 to 2.7 s, again each time the heap had grown by a quarter
(measured with `make bench`'s ramp; young collections stayed under 70 ms).

So the old generation is not collected automatically. Instead `pace_collector` sweeps every SWEEP_SECONDS:
a full collection, which then walks only what survived since the last sweep (the young generations and what
they promoted), followed by `gc.freeze()`, which moves the survivors to the permanent generation that no
collection walks. Frozen objects are still freed by reference counting as soon as nothing uses them; only a
cycle that becomes garbage after it was frozen stays. Those are reclaimed by a compaction (unfreeze, one
full collection, freeze again) once the heap is more than twice what the live tasks can explain
(`CompactionRule`): a stall as long as the old automatic collection's, but only after the garbage has grown
as large as the live heap, never because more tasks arrived. The heap is measured in the allocator's blocks
in use (`sys.getallocatedblocks`, under a millisecond), not in frozen objects: `gc.get_freeze_count()` walks
them all (60 ms for a million). Weighed: raising the thresholds only makes the
same stalls rarer and longer; Python 3.14's incremental collector would be the library answer, but the
operator runs on 3.11; a thread cannot help (a collection holds the GIL)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

SWEEP_SECONDS = 0.5
"""How often what survived since the last sweep is collected and frozen. During a ramp a sweep took 10-25 ms
of CPU at one a second and 30-70 ms at one every five seconds (300 tasks, this machine), and the time on the
loop is several times that when other processes hold the CPU: sweeps are kept small. The garbage they freeze
while still in use (in-flight requests caught by a sweep) stayed small: a compaction after a 300-task ramp
freed 2 % of the allocator's blocks."""
LIVE_BLOCKS_PER_TASK = 5_000
"""Allocator blocks a task the operator knows may hold while it runs (about 1,300 measured while waiting for
an Approval; four times that leaves room for a running iteration's objects), to tell a growing workload
from garbage."""
NO_AUTOMATIC_FULL_COLLECTION = 2**31 - 1
"""The oldest generation's threshold: never reached, so only the sweeps and compactions collect it."""

log = logging.getLogger(__name__)


@dataclass
class CompactionRule:
    """When the heap is worth a full walk: when more than half of it cannot be explained by what survived
    the last compaction plus LIVE_BLOCKS_PER_TASK for each task known since."""

    survivors: int
    """Blocks in use right after the last compaction (or the operator's start)."""
    tasks: int
    """Tasks the operator knew then."""
    per_task: int = LIVE_BLOCKS_PER_TASK

    def due(self, blocks: int, tasks: int) -> bool:
        explained = self.survivors + self.per_task * max(0, tasks - self.tasks)
        return blocks > 2 * explained

    def compacted(self, survivors: int, tasks: int) -> None:
        self.survivors, self.tasks = survivors, tasks


def sweep() -> None:
    """Collect what is not frozen (what survived since the last sweep), then freeze the survivors."""
    gc.collect()
    gc.freeze()


def compact() -> int:
    """Collect every object, the frozen ones too, and freeze the survivors; the number collected."""
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    return collected


def take_over() -> CompactionRule:
    """Stop the automatic full collections and freeze what exists now (the started operator's modules,
    schemas and clients); the young generations stay automatic (their collections are short)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_COLLECTION)
    sweep()
    return CompactionRule(survivors=sys.getallocatedblocks(), tasks=0)


async def pace_collector(tasks: Callable[[], int], every: float = SWEEP_SECONDS) -> None:
    """Run until cancelled: take over the old generation, sweep every `every` seconds and compact when the
    rule says so. `tasks` counts the tasks the operator knows."""
    rule = take_over()
    while True:
        await asyncio.sleep(every)
        known = tasks()
        if rule.due(sys.getallocatedblocks(), known):
            started = time.perf_counter()
            collected = compact()
            rule.compacted(sys.getallocatedblocks(), known)
            log.info(
                "compacted the heap: %d objects collected, %d blocks kept, in %.3f s",
                collected,
                rule.survivors,
                time.perf_counter() - started,
            )
        else:
            sweep()
