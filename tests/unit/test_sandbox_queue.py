"""Back-pressure instead of crashes: a sandbox pod that a ResourceQuota refuses waits in its namespace's
queue (a visible wait: condition and Event naming the quota) and is created once a sandbox pod there ends;
concurrent first launches in a namespace create its guards once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from local_sandbox import LocalSandbox
from test_task_loop import GOOD, judge_pass, make_spec, run_loop

from level5.api.status import Phase
from level5.core.config import OperatorConfig
from level5.core.wakeups import Wakeups
from level5.kube.errors import quota_refusal
from level5.kube.sandboxes import SandboxLauncher
from scripted_model import ScriptedModel

QUOTA_MESSAGE = (
    'pods "t-1-abc" is forbidden: exceeded quota: level5-sandbox-quota, requested: limits.cpu=500m, '
    "used: limits.cpu=1500m, limited: limits.cpu=1500m"
)


def forbidden(message: str) -> ApiException:
    exc = ApiException(status=403, reason="Forbidden")
    exc.body = json.dumps({"kind": "Status", "message": message, "reason": "Forbidden", "code": 403})
    return exc


class FakeCore:
    """The CoreV1Api calls the launcher makes, with the quota full until `free` slots are granted."""

    def __init__(self) -> None:
        self.free = 0
        self.pod_posts: list[str] = []
        self.guard_posts: list[str] = []

    async def create_namespaced_pod(self, namespace: str, body: dict[str, Any]) -> None:
        self.pod_posts.append(body["metadata"]["name"])
        if self.free <= 0:
            raise forbidden(QUOTA_MESSAGE)
        self.free -= 1

    async def create_namespaced_resource_quota(self, namespace: str, body: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)
        self.guard_posts.append("quota")

    async def create_namespaced_limit_range(self, namespace: str, body: dict[str, Any]) -> None:
        self.guard_posts.append("limits")


class FakeNet:
    def __init__(self, core: FakeCore) -> None:
        self.core = core

    async def create_namespaced_network_policy(self, namespace: str, body: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)
        self.core.guard_posts.append("policy")


def launcher() -> tuple[SandboxLauncher, FakeCore]:
    sandboxes = SandboxLauncher(client.ApiClient(), OperatorConfig(), Wakeups())
    core = FakeCore()
    sandboxes._core, sandboxes._net = core, FakeNet(core)  # type: ignore[assignment]
    return sandboxes, core


def test_quota_refusal_is_recognised() -> None:
    assert quota_refusal(forbidden(QUOTA_MESSAGE)) == ("level5-sandbox-quota", QUOTA_MESSAGE)
    assert quota_refusal(forbidden('pods "x" is forbidden: violates PodSecurity "restricted"')) is None
    assert quota_refusal(ApiException(status=409)) is None


async def test_refused_launches_wait_in_order_and_start_when_a_pod_ends() -> None:
    sandboxes, core = launcher()
    reports: dict[str, list[object]] = {"a": [], "b": []}

    def manifest(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}}

    async def create(name: str) -> bool:
        async def queued(refusal: object, freed_by: str) -> None:
            reports[name].append(refusal or freed_by)

        return await sandboxes._create_pod("ns", manifest(name), queued)

    first = asyncio.ensure_future(create("a"))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(create("b"))
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done()
    assert sandboxes.waiting() == {"ns": 2}
    assert reports["a"] == [("level5-sandbox-quota", QUOTA_MESSAGE)]
    assert reports["b"] == [("level5-sandbox-quota", QUOTA_MESSAGE)]  # told at once, though not the head
    posts = len(core.pod_posts)
    await asyncio.sleep(0.1)
    assert len(core.pod_posts) == posts  # no polling: nothing retries until capacity frees
    # A sandbox pod of the namespace ends: the head of the queue (the first to wait) is created.
    core.free = 1
    sandboxes.observe("ns", "other-pod", {"status": {"phase": "Succeeded"}})
    assert await asyncio.wait_for(first, 2) is True
    await asyncio.sleep(0.05)
    assert not second.done() and reports["a"][-1] == "sandbox pod other-pod ended"
    core.free = 1
    sandboxes.observe("ns", "other-pod-2", None)  # deleted
    assert await asyncio.wait_for(second, 2) is True
    assert reports["b"][-1] == "sandbox pod other-pod-2 was deleted" and sandboxes.waiting() == {}


async def test_a_cancelled_wait_leaves_the_queue() -> None:
    sandboxes, _ = launcher()
    told: list[object] = []

    async def queued(refusal: object, freed_by: str) -> None:
        told.append(refusal)

    waiting = asyncio.ensure_future(sandboxes._create_pod("ns", {"metadata": {"name": "a"}}, queued))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert sandboxes.waiting() == {} and told[-1] is None


def quota(hard: str, used: str, status_hard: str | None = None) -> dict[str, Any]:
    return {
        "spec": {"hard": {"pods": hard}},
        "status": {"hard": {"pods": status_hard or hard}, "used": {"pods": used}},
    }


Queued = Callable[[object, str], Awaitable[None]]
"""What a queued launch reports through: the refusal, or what freed capacity."""


def launcher_with_an_hour_fallback() -> tuple[SandboxLauncher, FakeCore, list[object], Queued]:
    """A launcher whose fallback re-check is an hour (only a watch event can wake a wait within a test),
    and a queue callback that keeps what each report said (the refusal, or what freed capacity)."""
    sandboxes, core = launcher()
    sandboxes._config = OperatorConfig(queue_recheck_seconds=3600)
    told: list[object] = []

    async def queued(refusal: object, freed_by: str) -> None:
        told.append(refusal or freed_by)

    return sandboxes, core, told, queued


async def test_a_raised_quota_wakes_the_head_of_the_queue_at_once() -> None:
    sandboxes, core, told, queued = launcher_with_an_hour_fallback()
    sandboxes.observe_quota("ns", "one-sandbox", quota("0", "0"))
    waiting = asyncio.ensure_future(sandboxes._create_pod("ns", {"metadata": {"name": "a"}}, queued))
    await asyncio.sleep(0.05)
    posts = len(core.pod_posts)
    sandboxes.observe_quota("ns", "one-sandbox", quota("0", "0"))  # a resync, no change: no retry
    sandboxes.observe_quota("other", "one-sandbox", quota("0", "0"))
    sandboxes.observe_quota("other", "one-sandbox", quota("5", "0"))  # another namespace: no retry here
    await asyncio.sleep(0.05)
    assert len(core.pod_posts) == posts and not waiting.done()
    core.free = 1
    sandboxes.observe_quota("ns", "one-sandbox", quota("1", "0", status_hard="0"))
    assert await asyncio.wait_for(waiting, 2) is True
    assert told[-1] == "ResourceQuota one-sandbox raised: pods 0 -> 1"
    assert sandboxes.waiting() == {}


async def test_a_wake_up_refused_by_a_stale_admission_cache_tries_again_soon() -> None:
    sandboxes, core, told, queued = launcher_with_an_hour_fallback()
    sandboxes.observe_quota("ns", "q", quota("3", "3"))
    waiting = asyncio.ensure_future(sandboxes._create_pod("ns", {"metadata": {"name": "a"}}, queued))
    await asyncio.sleep(0.05)
    sandboxes.observe_quota("ns", "q", quota("3", "2"))  # refused: the API server has not seen it yet
    await asyncio.sleep(0.05)
    core.free = 1  # now it has; no further event comes, the settle retry admits the pod
    assert await asyncio.wait_for(waiting, 5) is True
    assert told[-1] == "ResourceQuota q usage dropped: pods 3 -> 2"


async def test_concurrent_first_launches_create_the_guards_once() -> None:
    sandboxes, core = launcher()
    await asyncio.gather(*(sandboxes.ensure_namespace_guards("ns") for _ in range(10)))
    await sandboxes.ensure_namespace_guards("ns")
    assert sorted(core.guard_posts) == ["limits", "policy", "quota"]


async def test_a_queued_task_shows_the_wait_and_goes_on(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add({"match": "Write the program", "content": GOOD}, judge_pass())
    sandbox = LocalSandbox(tmp_path)
    sandbox.quota_refusals = [("level5-sandbox-quota", QUOTA_MESSAGE)]
    final, sink = await run_loop(make_spec(), scripted_model, sandbox)
    assert final.phase is Phase.SUCCEEDED
    waiting = [
        s
        for s in sink.statuses
        if any(c.type == "SandboxQueued" and c.status == "True" for c in s.conditions)
    ]
    assert waiting and waiting[0].phase is Phase.EXECUTING
    condition = next(c for c in waiting[0].conditions if c.type == "SandboxQueued")
    assert condition.reason == "QuotaExceeded" and "level5-sandbox-quota" in condition.message
    queued_events = [e for e in sink.events if e[0] == "SandboxQueued"]
    assert len(queued_events) == 1 and "level5-sandbox-quota" in queued_events[0][1] and queued_events[0][2]
    assert any(e[0] == "SandboxDequeued" for e in sink.events)
    final_condition = next(c for c in final.conditions if c.type == "SandboxQueued")
    assert final_condition.status == "False" and final_condition.reason == "CapacityFound"
