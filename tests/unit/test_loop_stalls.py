"""The event-loop stall watch logs a step that holds the loop without awaiting, with how long it held it."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from level5.observability.loop_stalls import watch_loop_stalls


async def test_a_blocking_step_is_logged_with_how_long_it_held_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="level5.observability.loop_stalls")
    watch = asyncio.ensure_future(watch_loop_stalls(probe=0.01, threshold=0.1))
    await asyncio.sleep(0.02)
    time.sleep(0.3)  # noqa: ASYNC251  # the point: a step that computes without awaiting
    await asyncio.sleep(0.05)
    watch.cancel()
    # "event loop stalled for 0.300 s (0.001 s on the CPU)"
    stalls = [
        (float(words[4]), float(words[6].strip("(")))
        for words in (r.getMessage().split() for r in caplog.records)
    ]
    assert stalls and max(late for late, _ in stalls) >= 0.25
    # time.sleep holds the thread off the CPU: the loop was held, but not by computing.
    assert all(cpu < late for late, cpu in stalls)
