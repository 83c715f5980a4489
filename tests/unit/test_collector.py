"""The paced collector: full collections walk only what survived since the last sweep, cycles that die
after they were frozen are reclaimed by a compaction, and the compaction rule tells more tasks from more
garbage."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from level5.core.collector import (
    NO_AUTOMATIC_FULL_COLLECTION,
    CompactionRule,
    compact,
    pace_collector,
    sweep,
    take_over,
)


class Node:
    """A cycle's member, weakly referenceable to see whether it was collected."""

    other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """A two-object cycle nothing else refers to once this returns."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def collector_state() -> Iterator[None]:
    """The collector's global state as it was (thresholds, nothing frozen) after each test."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    gc.collect()


def test_a_sweep_collects_young_cycles_and_freezes_the_survivors(collector_state: None) -> None:
    gc.unfreeze()
    dead = cycle()
    kept = Node()
    sweep()
    assert dead() is None
    assert gc.get_freeze_count() > 0
    assert not any(obj is kept for obj in gc.get_objects())  # frozen: no collection walks it any more


def test_a_cycle_that_dies_frozen_waits_for_the_compaction(collector_state: None) -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    seen = weakref.ref(a)
    sweep()  # both frozen while alive
    del a, b
    gc.collect()
    assert seen() is not None  # a frozen cycle is out of every collection's reach
    assert compact() >= 2
    assert seen() is None


def test_taking_over_stops_the_automatic_full_collections_only(collector_state: None) -> None:
    young, middle, _ = gc.get_threshold()
    rule = take_over()
    assert gc.get_threshold() == (young, middle, NO_AUTOMATIC_FULL_COLLECTION)
    assert rule.survivors > 0 and rule.tasks == 0


def test_more_tasks_explain_a_larger_heap() -> None:
    rule = CompactionRule(survivors=100_000, tasks=0, per_task=5_000)
    assert not rule.due(200_000, 0)
    assert rule.due(200_001, 0)  # garbage as large as the live heap
    assert not rule.due(2_000_000, 1_000)  # a thousand tasks arrived: 200,000 + 2 * 5,000,000 allowed
    assert rule.due(600_000, 20)


def test_fewer_tasks_never_lower_the_allowance_below_the_last_survivors() -> None:
    rule = CompactionRule(survivors=100_000, tasks=50, per_task=5_000)
    assert not rule.due(200_000, 0)
    rule.compacted(survivors=400_000, tasks=10)
    assert not rule.due(800_000, 10)
    assert rule.due(800_001, 10)
    assert not rule.due(810_000, 11)  # one more task: 2 * (400,000 + 5,000)


async def test_the_pacer_sweeps_while_the_loop_runs(collector_state: None) -> None:
    gc.unfreeze()
    pacer = asyncio.ensure_future(pace_collector(lambda: 0, every=0.01))
    await asyncio.sleep(0.05)
    frozen = gc.get_freeze_count()
    dead = cycle()
    await asyncio.sleep(0.05)
    pacer.cancel()
    assert frozen > 0
    assert dead() is None
