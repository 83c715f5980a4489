"""Wake-ups from watch events: asyncio.Events keyed by what changed (a sandbox pod by namespace and name, an
AgentTask or its Approvals by task uid). Handlers notify; a loop arms the event before it reads the state it
waits on, then waits, so a change between the read and the wait is never missed."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Hashable


class Wakeups:
    """One asyncio.Event per key, set whenever that key's object changes."""

    def __init__(self) -> None:
        self._events: dict[Hashable, asyncio.Event] = defaultdict(asyncio.Event)

    def notify(self, *key: Hashable) -> None:
        event = self._events.get(key)
        if event is not None:
            event.set()

    def arm(self, *key: Hashable) -> asyncio.Event:
        event = self._events[key]
        event.clear()
        return event

    def forget(self, *key: Hashable) -> None:
        self._events.pop(key, None)
