"""Kill-switch state: the emergency-stop ConfigMap's data, the stop flag's transitions, cancel requests and
the registry of running sandbox pods."""

from __future__ import annotations

import asyncio

import pytest

from level5.core.kill_switch import CancelRequests, EmergencyStop, SandboxPods, stop_requested


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"stop": "true"}, True),
        ({"stop": " True\n"}, True),
        ({"stop": "false"}, False),
        ({"stop": "yes"}, False),  # only the documented value stops everything
        ({}, False),
        (None, False),
    ],
)
def test_stop_requested(data: dict[str, str] | None, expected: bool) -> None:
    assert stop_requested(data) is expected


async def test_emergency_stop_wakes_waiters_on_both_transitions() -> None:
    stop = EmergencyStop()
    assert not stop.active
    await asyncio.wait_for(stop.wait_inactive(), 1)
    began = asyncio.ensure_future(stop.wait_active())
    await asyncio.sleep(0)
    assert not began.done()
    assert stop.set(True) is True and stop.set(True) is False
    await asyncio.wait_for(began, 1)
    lifted = asyncio.ensure_future(stop.wait_inactive())
    await asyncio.sleep(0)
    assert not lifted.done()
    assert stop.set(False) is True and not stop.active
    await asyncio.wait_for(lifted, 1)


def test_cancel_requests_are_per_task() -> None:
    cancels = CancelRequests()
    cancels.request("uid-a")
    assert cancels.event("uid-a").is_set() and not cancels.event("uid-b").is_set()
    cancels.forget("uid-a")
    assert not cancels.event("uid-a").is_set()


def test_sandbox_pods_tracks_only_running_ones() -> None:
    pods = SandboxPods()
    pods.observe("ns", "b", alive=True)
    pods.observe("ns", "a", alive=True)
    pods.observe("other", "c", alive=True)
    pods.observe("ns", "b", alive=False)
    assert pods.alive() == [("ns", "a"), ("other", "c")]
