"""Kill switches (safety layer 4): per-task cancel and the operator-wide emergency stop, as in-memory asyncio
state that the kopf handlers set from watch events and the task loops wait on. The durable truth stays in the
API (spec.cancel of a task, the level5-emergency-stop ConfigMap), so a restarted operator derives the same
state at startup. No Kubernetes calls here."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping

EMERGENCY_STOP_CONFIG_MAP = "level5-emergency-stop"
"""Name of the ConfigMap in the operator's namespace whose data.stop "true" halts all executions."""


def stop_requested(data: Mapping[str, str] | None) -> bool:
    """Whether a level5-emergency-stop ConfigMap's data asks for the stop (data.stop is "true")."""
    return (data or {}).get("stop", "").strip().lower() == "true"


class EmergencyStop:
    """The operator-wide stop flag. Waiters wake on both transitions, so a loop can be interrupted when the
    stop begins and resume when it ends."""

    def __init__(self) -> None:
        self._active = asyncio.Event()
        self._inactive = asyncio.Event()
        self._inactive.set()

    @property
    def active(self) -> bool:
        return self._active.is_set()

    def set(self, active: bool) -> bool:
        """Set the flag; True when this changed it."""
        if active == self.active:
            return False
        (self._active if active else self._inactive).set()
        (self._inactive if active else self._active).clear()
        return True

    async def wait_active(self) -> None:
        await self._active.wait()

    async def wait_inactive(self) -> None:
        await self._inactive.wait()


class CancelRequests:
    """One asyncio.Event per task uid, set when the task's spec.cancel is seen true."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def request(self, uid: str) -> None:
        self._events[uid].set()

    def event(self, uid: str) -> asyncio.Event:
        return self._events[uid]

    def forget(self, uid: str) -> None:
        self._events.pop(uid, None)


class SandboxPods:
    """Sandbox pods that may still be running, as the pod watch reports them: what the emergency stop kills,
    in every namespace the operator watches, whether or not a task loop still waits on them."""

    def __init__(self) -> None:
        self._alive: set[tuple[str, str]] = set()

    def observe(self, namespace: str, name: str, alive: bool) -> None:
        if alive:
            self._alive.add((namespace, name))
        else:
            self._alive.discard((namespace, name))

    def alive(self) -> list[tuple[str, str]]:
        return sorted(self._alive)
