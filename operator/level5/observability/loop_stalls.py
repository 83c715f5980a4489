"""Event-loop stall watch: the operator runs every task on one asyncio loop, so a step that computes without
awaiting (a large review, a redaction, a burst of watch events) holds every other task back. A small task
sleeps STALL_PROBE_SECONDS at a time and logs a warning whenever it woke at least STALL_LOG_SECONDS late,
naming how long the loop was held and how much of that its thread spent on the CPU (the rest it waited for a
CPU other processes held): the worst such line is the worst stall (`make bench` reads them during its
1,000-task ramp). It costs about twenty wake-ups a second."""

from __future__ import annotations

import asyncio
import logging
import time

STALL_PROBE_SECONDS = 0.05
STALL_LOG_SECONDS = 0.05
STALL_MESSAGE = "event loop stalled for %.3f s (%.3f s on the CPU)"
"""The warning's text (bench/bench.py parses it)."""

log = logging.getLogger(__name__)


async def watch_loop_stalls(probe: float = STALL_PROBE_SECONDS, threshold: float = STALL_LOG_SECONDS) -> None:
    """Run until cancelled, logging each stall of at least `threshold` seconds."""
    loop = asyncio.get_running_loop()
    while True:
        start, cpu = loop.time(), time.thread_time()
        await asyncio.sleep(probe)
        late = loop.time() - start - probe
        if late >= threshold:
            log.warning(STALL_MESSAGE, late, time.thread_time() - cpu)
