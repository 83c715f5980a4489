"""Test doubles for the loop's ports that do real work locally: LocalSandbox runs sandbox-image/runner.py
as subprocesses, the program's run and then the checks, as the pod's two containers do (run_locally), with
the task's runtime policy and the sandbox's paths moved into a local directory; RecordingSink keeps every
saved status and Event,
MemoryApprovals keeps Approvals and lets a test decide them as a person would; build_loop wires a TaskLoop
to them."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from level5.api.approval import ApprovalObject, ApprovalSpec, ApprovalState, ApprovalStatus, Decision
from level5.api.spec import AgentTaskSpec
from level5.api.status import AgentTaskStatus
from level5.core.layout import CHECKS_DIR, CODE_DIR, OUTPUT_DIR
from level5.core.wakeups import Wakeups
from level5.loop.context import LoopServices
from level5.loop.task_loop import TaskLoop
from level5.model.client import Endpoint, ModelGateway
from level5.safety.audit import AuditLog, FileSink
from level5.safety.redaction import Redactor, task_key
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import TaskRef, checks_document, code_config_map_name
from level5.sandbox.outcome import LaunchOutcome, Pod, PodOutcome, QueueReport, QuotaRefusal
from level5.sandbox.pool import ColdStartReason, WarmClaim
from level5.sandbox.result import parse_pod_log
from task_manifests import UNSUPERVISED

__all__ = ["UNSUPERVISED", "LocalSandbox", "MemoryApprovals", "RecordingSink", "build_loop", "run_locally"]

RUNNER = Path(__file__).resolve().parents[2] / "sandbox-image" / "runner.py"
RUN_SECONDS = 60


def local_paths(directory: Path) -> dict[str, str]:
    """The sandbox's directories, moved under `directory`."""
    return {
        CODE_DIR: str(directory / "code"),
        CHECKS_DIR: str(directory / "checks"),
        OUTPUT_DIR: str(directory / "out"),
    }


def localise(text: str, directory: Path) -> str:
    for sandbox_path, local in local_paths(directory).items():
        text = text.replace(f'"{sandbox_path}', f'"{local}')
    return text


async def run_locally(directory: Path, code: str, policy: str, checks: str, scripts: dict[str, str]) -> str:
    """Run the program and then its checks the way the pod's two containers do (policy.json and checks.json
    as the operator writes them, with sandbox paths moved under `directory`); returns the checks' output."""
    for name in ("code", "checks", "out", "report"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    (directory / "code" / "main.py").write_text(code)
    (directory / "code" / "policy.json").write_text(localise(policy, directory))
    (directory / "checks" / "checks.json").write_text(localise(checks, directory))
    for file_name, source in scripts.items():
        (directory / "checks" / file_name).write_text(source)
    report = str(directory / "report")
    phases = [
        [
            "program",
            "--code",
            str(directory / "code" / "main.py"),
            "--policy",
            str(directory / "code" / "policy.json"),
        ],
        ["checks", "--checks", str(directory / "checks" / "checks.json")],
    ]
    output = b""
    for phase, work in zip(phases, ("work-program", "work-checks"), strict=True):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", str(RUNNER), *phase, "--report", report,
            cwd=directory / "out",
            stdout=asyncio.subprocess.PIPE,
            env={"LEVEL5_WORK_DIR": str(directory / work)},
        )  # fmt: skip
        async with asyncio.timeout(RUN_SECONDS):
            output, _ = await proc.communicate()
        assert proc.returncode == 0, f"runner {phase[0]} exited {proc.returncode}"
    return output.decode()


class LocalSandbox:
    """Runs each 'pod' once as a local runner subprocess; counts launches per pod name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.codes: dict[str, str] = {}
        self.specs: dict[str, AgentTaskSpec] = {}
        self.launches: Counter[str] = Counter()
        self.logs: dict[str, str] = {}
        self.hang_on_wait = False
        self.quota_refusals: list[QuotaRefusal] = []
        """Each launch is first refused by these ResourceQuotas in turn (told to `queued`), then admitted."""
        self.block_on_wait = False
        """wait() blocks until cancelled, like a pod that runs on; `waiting` is set once it does."""
        self.waiting = asyncio.Event()
        self.killed: list[str] = []
        self.crash_after_create = False
        """launch() creates the pod and then the operator is killed, before the launch is recorded."""

    async def ensure_namespace_guards(self, namespace: str) -> None:
        return None

    async def store_code(
        self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, code: str
    ) -> str:
        name = code_config_map_name(pod_name)
        self.codes.setdefault(name, code)
        self.specs[pod_name] = spec
        return name

    async def read_code(self, namespace: str, config_map: str) -> str | None:
        return self.codes.get(config_map)

    async def launch(
        self,
        task: TaskRef,
        spec: AgentTaskSpec,
        pod_name: str,
        iteration: int,
        code: str | None,
        resuming: bool,
        queued: QueueReport | None = None,
    ) -> LaunchOutcome:
        if self.quota_refusals and queued is not None:  # a ResourceQuota refuses, then capacity frees
            for refusal in self.quota_refusals:
                await queued(refusal, "")
            await queued(None, "ResourceQuota level5-sandbox-quota usage dropped: pods 3 -> 2")
        if pod_name in self.logs or self.launches[pod_name]:
            return LaunchOutcome.EXISTS
        self.launches[pod_name] += 1
        spec = self.specs[pod_name]
        checks, scripts = checks_document(spec)
        assert code is not None and code == self.codes[code_config_map_name(pod_name)]  # the stored code
        self.logs[pod_name] = await run_locally(
            self.root / pod_name, code, policy_document(spec), checks, scripts
        )
        if self.crash_after_create:
            raise asyncio.CancelledError("operator killed while the launch is pending")
        return LaunchOutcome.CREATED

    async def run_cold(
        self, namespace: str, name: str, spec: AgentTaskSpec, code: str
    ) -> tuple[Pod | None, PodOutcome]:
        pod = await self.wait(namespace, name, spec)
        return pod, await self.result(namespace, name, pod)

    async def wait(self, namespace: str, name: str, spec: AgentTaskSpec) -> Pod | None:
        if self.hang_on_wait:
            raise asyncio.CancelledError("operator killed while the pod runs")
        if self.block_on_wait:
            self.waiting.set()
            await asyncio.Event().wait()
        return {"status": {"phase": "Succeeded"}} if name in self.logs else None

    async def result(self, namespace: str, name: str, pod: Pod | None) -> PodOutcome:
        if pod is None:
            return PodOutcome(failure="the sandbox pod disappeared before its result was read")
        return PodOutcome(run=parse_pod_log(self.logs[name]))

    async def store_result(self, task: TaskRef, data: dict[str, str]) -> str:
        self.codes[f"{task.name}-result"] = data["main.py"]
        return f"{task.name}-result"

    async def claim_warm(self, task: TaskRef, spec: AgentTaskSpec) -> WarmClaim | ColdStartReason | None:
        """No warm pool here: every iteration runs cold (the warm path runs on the cluster only)."""
        return None

    async def run_warm(self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, code: str) -> PodOutcome:
        raise AssertionError("no warm pool in the local sandbox")

    async def kill(self, namespace: str, name: str) -> None:
        self.killed.append(name)


class RecordingSink:
    """Keeps every saved status (round-tripped through the CRD's JSON form) and every Event."""

    def __init__(self) -> None:
        self.statuses: list[AgentTaskStatus] = []
        self.events: list[tuple[str, str, bool]] = []

    async def save(self, status: AgentTaskStatus) -> None:
        self.statuses.append(AgentTaskStatus.model_validate_json(status.model_dump_json(by_alias=True)))

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        self.events.append((reason, message, warning))

    @property
    def last(self) -> AgentTaskStatus:
        return self.statuses[-1]


class MemoryApprovals:
    """Approvals kept in memory; decide() plays the person (and the webhook's stamp)."""

    def __init__(self, task_uid: str, wakeups: Wakeups) -> None:
        self.items: dict[str, ApprovalObject] = {}
        self.task_uid, self.wakeups = task_uid, wakeups
        self.created = asyncio.Event()

    async def ensure(
        self, task: TaskRef, name: str, spec: ApprovalSpec, state: ApprovalState, now: datetime
    ) -> ApprovalObject:
        if name not in self.items:
            self.items[name] = ApprovalObject(
                name=name, spec=spec, status=ApprovalStatus(state=state), created_at=now
            )
            self.created.set()
        return self.items[name]

    async def read(self, namespace: str, name: str) -> ApprovalObject | None:
        return self.items.get(name)

    async def set_state(
        self, namespace: str, name: str, state: ApprovalState, message: str, applied_at: object
    ) -> None:
        item = self.items[name]
        self.items[name] = item.model_copy(update={"status": ApprovalStatus(state=state, message=message)})

    async def next_pending(self) -> ApprovalObject:
        """Wait until an Approval is open and undecided; return it."""
        while True:
            self.created.clear()
            for item in self.items.values():
                if item.status.state.open and item.spec.decision is None and item.spec.blocking:
                    return item
            await self.created.wait()

    def decide(self, name: str, decision: Decision, by: str = "alice", **details: object) -> None:
        item = self.items[name]
        spec = item.spec.model_copy(update={"decision": decision, "decided_by": by, **details})
        self.items[name] = item.model_copy(update={"spec": spec})
        self.wakeups.notify("approval", self.task_uid)


def build_loop(
    task: TaskRef,
    spec: AgentTaskSpec,
    sandbox: LocalSandbox,
    sink: RecordingSink,
    gateway: ModelGateway,
    endpoint: Endpoint,
    status: AgentTaskStatus | None = None,
    **extra: object,
) -> TaskLoop:
    """A TaskLoop on the local doubles; `extra` passes kill switches, approvals, spec_view, wakeups, clock,
    metrics and the audit log."""
    wakeups = extra.pop("wakeups", None) or Wakeups()
    approvals = extra.pop("approvals", None) or MemoryApprovals(task.uid, wakeups)
    shared = {key: extra.pop(key) for key in ("emergency", "clock", "metrics") if key in extra}
    audit = extra.pop("audit", None) or AuditLog(FileSink(sandbox.root / "audit.jsonl"))
    services = LoopServices(
        gateway=gateway,
        sandbox=sandbox,
        audit=audit,  # type: ignore[arg-type]
        approvals=approvals,  # type: ignore[arg-type]
        wakeups=wakeups,  # type: ignore[arg-type]
        **shared,  # type: ignore[arg-type]
    )
    return TaskLoop(
        task,
        spec,
        status or AgentTaskStatus(),
        services,
        endpoint=endpoint,
        sink=sink,
        redactor=Redactor(task_key(task.uid)),
        **extra,  # type: ignore[arg-type]
    )
