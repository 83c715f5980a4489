"""`make bench`: how fast level5 runs an iteration on this cluster, measured, in one run.

It starts what it measures the way the cluster tests do: a scripted OpenAI-compatible model on loopback that
answers at once (`tests/scripted_model.py`), and the real operator (`kopf run -m level5.handlers`) as a
subprocess watching one fresh namespace `bench-<random>`, wrapped so every request it sends to the API
server is counted (`bench/counting_operator.py`). The bench itself watches AgentTasks and pods with its own
client and timestamps each event as it arrives.

Figures (all from this run, on this machine, while whatever else runs on the cluster keeps running):
- cold iteration: task creation (just before the POST) to the task's `Succeeded` event, one trivial
  iteration (`print("ok")`), SAMPLES tasks one after the other; p50 and p95;
- warm iteration: the same task in a second namespace whose warm pool (LEVEL5_SANDBOX_POOLS) has a Ready
  pod, alternating with the cold samples; p50, p95 and cold / warm;
- where that time goes, per iteration (medians): the sandbox pod's life (pod ADDED to its `checks`
  container terminated, as the watch reports it) and everything else, which is the operator's overhead
  (the model answers at once; its HTTP round trip is counted as overhead);
- the operator's CPU-seconds per iteration (its process, from /proc);
- API calls per iteration, by verb and resource (watch connections included);
- throughput: N tasks created at once, tasks per second until the last is Succeeded;
- review time per 200 lines, redaction MB/s and injection checks per second, in this process.

Everything stays on loopback and the local cluster. The namespace and the operator are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml
from kubernetes_asyncio import client, config, watch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from level5.observability.loop_stalls import STALL_MESSAGE  # noqa: E402
from level5.sandbox.pool import POOL_LABEL  # noqa: E402
from scripted_model import ScriptedModel  # noqa: E402

GROUP, VERSION, PLURAL = "level5.dev", "v1alpha1", "agenttasks"
TERMINAL = ("Succeeded", "Failed", "Cancelled")
TASK_TIMEOUT = 120.0
WARM_POOL_SIZE = 1
"""One warm pod of the tasks' class (500m): the node has 2 cores, shared with the cold samples."""
GUARD_POSTS = ("POST networkpolicies", "POST resourcequotas", "POST limitranges")
CREATE_CONCURRENCY = 50
"""Task POSTs in flight at once when many are created together."""
RAMP_TIMEOUT = 600.0
STALL_TEXT = STALL_MESSAGE.split("%")[0]
CODE_ANSWER = '```python\nprint("ok")\n```\nCONFIDENCE: 0.9\nUNCERTAINTY: none'


def _now() -> float:
    return time.perf_counter()


@dataclass
class Timeline:
    """What the bench's watches saw of one task and its pods (perf_counter seconds)."""

    created: float = 0.0
    finished: float | None = None
    created_wall: float = field(default_factory=time.time)
    """Wall-clock creation, to line the timeline up with the operator's audit records and API trace."""
    finished_wall: float | None = None
    phase: str | None = None
    pod_added: dict[str, float] = field(default_factory=dict)
    program_done: dict[str, float] = field(default_factory=dict)
    checks_done: dict[str, float] = field(default_factory=dict)
    pod_phase_done: dict[str, float] = field(default_factory=dict)
    pod_deleted: dict[str, float] = field(default_factory=dict)
    iterations: int = 0
    queued: bool = False
    first_seen: dict[str, float] = field(default_factory=dict)
    """perf_counter time each phase was first seen."""
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Watcher:
    """Watches AgentTasks and pods in the namespace and fills in the timelines."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.tasks: dict[str, Timeline] = {}
        self._runs: list[asyncio.Task[None]] = []

    def expect(self, name: str) -> Timeline:
        self.tasks[name] = Timeline(created=_now())
        return self.tasks[name]

    def start(self) -> None:
        self._runs = [asyncio.create_task(self._watch_tasks()), asyncio.create_task(self._watch_pods())]

    async def stop(self) -> None:
        for run in self._runs:
            run.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)

    async def _watch_tasks(self) -> None:
        custom = client.CustomObjectsApi(self.api)
        while True:
            with contextlib.suppress(Exception):
                async with watch.Watch().stream(
                    custom.list_namespaced_custom_object, GROUP, VERSION, self.namespace, PLURAL,
                    timeout_seconds=300,
                ) as stream:  # fmt: skip
                    async for event in stream:
                        obj = event["object"]
                        seen = self.tasks.get(obj["metadata"]["name"])
                        status = obj.get("status") or {}
                        if seen is None or seen.finished is not None:
                            continue
                        if status.get("phase"):
                            seen.first_seen.setdefault(status["phase"], _now())
                        seen.queued = seen.queued or any(
                            c.get("type") == "SandboxQueued" and c.get("status") == "True"
                            for c in status.get("conditions") or []
                        )
                        if status.get("phase") in TERMINAL:
                            seen.finished, seen.phase = _now(), status["phase"]
                            seen.finished_wall = time.time()
                            seen.iterations = int(status.get("iteration") or 0)
                            seen.done.set()
            await asyncio.sleep(0.1)

    async def _watch_pods(self) -> None:
        core = client.CoreV1Api(self.api)
        while True:
            with contextlib.suppress(Exception):
                async with watch.Watch().stream(
                    core.list_namespaced_pod, self.namespace, timeout_seconds=300
                ) as stream:
                    async for event in stream:
                        self._pod_event(event["type"], event["object"])
            await asyncio.sleep(0.1)

    def _pod_event(self, kind: str, pod: Any) -> None:
        at = _now()
        labels = pod.metadata.labels or {}
        seen = self.tasks.get(labels.get("level5.dev/task", ""))
        if seen is None:
            return
        name = pod.metadata.name
        seen.pod_added.setdefault(name, at)
        if kind == "DELETED":
            seen.pod_deleted.setdefault(name, at)
        status = pod.status
        for statuses, into in (
            (status.init_container_statuses or [], seen.program_done),
            (status.container_statuses or [], seen.checks_done),
        ):
            for container in statuses:
                if container.state and container.state.terminated and name not in into:
                    into[name] = at
        if status.phase in ("Succeeded", "Failed"):
            seen.pod_phase_done.setdefault(name, at)


def task_manifest(name: str, level: str = "D") -> dict[str, Any]:
    """A one-iteration task; level A waits for an Approval before its code runs (the ramp's cheap state)."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentTask",
        "metadata": {"name": name},
        "spec": {
            "goal": {"primary": "print ok", "successCriteria": [{"name": "ok", "outputContains": "ok"}]},
            "autonomy": {"level": level, "escalation": {"triggers": []}},
            "iterations": {"maxIterations": 2},
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ModelEndpoint(Protocol):
    """What the operator is pointed at: an OpenAI-compatible endpoint (the scripted model, a proxy)."""

    @property
    def base_url(self) -> str: ...


class Operator:
    """The operator as a subprocess, its API calls counted (bench/counting_operator.py)."""

    def __init__(
        self,
        namespace: str,
        model: ModelEndpoint,
        workdir: Path,
        api_port: int,
        extra_env: dict[str, str] | None = None,
        also_watch: tuple[str, ...] = (),
        trace: bool = False,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.counts_path = workdir / "api-counts.json"
        self.log = workdir / "operator.log"
        env = {
            **os.environ,
            "LEVEL5_MODEL_BASE_URL": model.base_url,
            "LEVEL5_MODEL_NAME": "scripted",
            "LEVEL5_MODEL_API_KEY": "bench",
            "LEVEL5_AUDIT_PATH": str(workdir / "audit.jsonl"),
            "LEVEL5_OPERATOR_NAMESPACE": namespace,
            "LEVEL5_METRICS_PORT": str(free_port()),
            "LEVEL5_SYSCALL_MONITOR_URL": "http://{hostIP}:"
            + os.environ.get("LEVEL5_SYSCALL_MONITOR_PORT", "18090"),
            "LEVEL5_BENCH_COUNTS": str(self.counts_path),
            "LEVEL5_BENCH_API_PORT": str(api_port),
        }
        if trace:
            env["LEVEL5_BENCH_TRACE"] = str(workdir / "api-trace.txt")
            env["LEVEL5_BENCH_PROFILE"] = str(workdir / "operator.pstats")
        # kopf needs a server for the admission handlers to start. No webhook configuration points at it
        # (the bench's tasks never need an Approval), so the API server never calls it.
        tls = workdir / "tls"
        tls.mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", "tls.key", "-out", "tls.crt"],
            cwd=tls, check=True, capture_output=True,
        )  # fmt: skip
        env.update(
            LEVEL5_WEBHOOK_CERT_DIR=str(tls),
            LEVEL5_WEBHOOK_ADDR="127.0.0.1",
            LEVEL5_WEBHOOK_PORT=str(free_port()),
        )
        env.update(extra_env or {})
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "counting_operator.py"), "run", "--standalone",
                 "-m", "level5.handlers", "--namespace", namespace,
                 *(arg for ns in also_watch for arg in ("--namespace", ns))],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip

    def counts(self) -> Counter[str]:
        for _ in range(20):
            with contextlib.suppress(OSError, ValueError):
                return Counter(json.loads(self.counts_path.read_text()))
            time.sleep(0.1)
        return Counter()

    async def settled_counts(self) -> Counter[str]:
        """The counts once the counter file has been rewritten after this call (0.2 s period)."""
        await asyncio.sleep(0.5)
        return self.counts()

    def rss_mib(self) -> float:
        """The operator process's resident memory now (MiB)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def pool_ready(core: client.CoreV1Api, namespace: str) -> None:
    """Until the namespace's warm pool has a Ready pod (bench-side polling; the operator itself watches)."""
    for _ in range(int(TASK_TIMEOUT / 0.2)):
        pods = await core.list_namespaced_pod(namespace, label_selector=POOL_LABEL)
        if any(
            not p.metadata.deletion_timestamp
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
            for p in pods.items
        ):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no Ready warm pool pod in {namespace}")


async def ran_warm(api: client.ApiClient, namespace: str, name: str) -> str:
    """The warm pool of the task's first iteration ("" when it ran cold)."""
    custom = client.CustomObjectsApi(api)
    task = await custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    history = (task.get("status") or {}).get("history") or [{}]
    return str(history[0].get("warmPool") or "")


async def run_task(api: client.ApiClient, watcher: Watcher, namespace: str, name: str) -> Timeline:
    custom = client.CustomObjectsApi(api)
    seen = watcher.expect(name)
    await custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, task_manifest(name))
    await asyncio.wait_for(seen.done.wait(), TASK_TIMEOUT)
    return seen


async def create_all(api: client.ApiClient, namespace: str, manifests: list[dict[str, Any]]) -> None:
    """POST the tasks at once, at most CREATE_CONCURRENCY requests in flight."""
    custom = client.CustomObjectsApi(api)
    limit = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def create(manifest: dict[str, Any]) -> None:
        async with limit:
            await custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest)

    await asyncio.gather(*(create(m) for m in manifests))


async def throughput(
    api: client.ApiClient, watcher: Watcher, namespace: str, n: int, prefix: str
) -> dict[str, Any]:
    """N one-iteration tasks created at once; tasks per second until the last is terminal."""
    names = [f"{prefix}-{i:02d}" for i in range(n)]
    seens = [watcher.expect(name) for name in names]
    start = _now()
    await create_all(api, namespace, [task_manifest(name) for name in names])
    await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in seens)), 900)
    seconds = _now() - start
    warm = 0
    custom = client.CustomObjectsApi(api)
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    for item in listed.get("items", []):
        history = (item.get("status") or {}).get("history") or [{}]
        warm += item["metadata"]["name"] in names and bool(history[0].get("warmPool"))
    return {
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "phases": dict(Counter(s.phase for s in seens)),
        "ran_warm": warm,
    }


def stalls_between(log: Path, offset: int, since: float, until: float) -> list[tuple[float, float]]:
    """The operator's event-loop stalls (level5.observability.loop_stalls) logged in [since, until]: how long
    the loop was held, and how much of that its thread was on the CPU."""
    found = []
    with log.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            line = raw.decode("utf-8", errors="replace")
            if STALL_TEXT not in line or not line.startswith("["):
                continue
            with contextlib.suppress(ValueError, IndexError):
                at = datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                if since <= at <= until:
                    words = line.split(STALL_TEXT, 1)[1].split()  # "0.120 s (0.030 s on the CPU)"
                    found.append((float(words[0]), float(words[2].strip("("))))
    return found


async def ramp(
    api: client.ApiClient, watcher: Watcher, namespace: str, n: int, operator: Operator, cancels: int
) -> dict[str, Any]:
    """N tasks of autonomy level A created at once: each generates, is reviewed and waits for its Approval.
    Time until all wait, the operator's memory, its worst event-loop stall meanwhile, and how fast a cancel
    is acted on while they all wait."""
    names = [f"ramp-{i:04d}" for i in range(n)]
    seens = [watcher.expect(name) for name in names]
    rss_before = operator.rss_mib()
    cpu_before = operator.cpu_seconds()
    offset = operator.log.stat().st_size
    wall_start, start = time.time(), _now()
    await create_all(api, namespace, [task_manifest(name, "A") for name in names])
    created = _now() - start
    peak = rss_before
    while _now() - start < RAMP_TIMEOUT:
        peak = max(peak, operator.rss_mib())
        if all("AwaitingApproval" in s.first_seen or s.finished is not None for s in seens):
            break
        await asyncio.sleep(0.5)
    waiting = [s.first_seen["AwaitingApproval"] for s in seens if "AwaitingApproval" in s.first_seen]
    ramp_seconds = (max(waiting) - start) if waiting else float("nan")
    cpu = operator.cpu_seconds() - cpu_before
    await asyncio.sleep(2)  # settled: the memory the waiting tasks hold
    rss_waiting = operator.rss_mib()
    peak = max(peak, rss_waiting)
    custom = client.CustomObjectsApi(api)
    latencies: list[float] = []
    for name, seen in list(zip(names, seens, strict=True))[:cancels]:
        if seen.finished is not None:
            continue
        asked = _now()
        await custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"spec": {"cancel": True}},
            _content_type="application/merge-patch+json",  # type: ignore[call-arg]  # missing in stubs
        )  # fmt: skip
        await asyncio.wait_for(seen.done.wait(), 120)
        assert seen.finished is not None
        latencies.append(seen.finished - asked)
    stalls = stalls_between(operator.log, offset, wall_start, time.time())
    return {
        "n": n,
        "created_seconds": created,
        "waiting": len(waiting),
        "phases": dict(Counter(s.phase or "not terminal" for s in seens)),
        "seconds": ramp_seconds,
        "cpu_seconds": cpu,
        "rss_before_mib": rss_before,
        "rss_waiting_mib": rss_waiting,
        "rss_peak_mib": peak,
        "mib_per_task": (rss_waiting - rss_before) / n,
        "stalls_logged": len(stalls),
        "worst_stall": max((late for late, _ in stalls), default=0.0),
        "worst_stall_cpu": max((cpu for _, cpu in stalls), default=0.0),
        "cancel_p50": statistics.median(latencies) if latencies else None,
        "cancel_max": max(latencies, default=None),
        "cancels": len(latencies),
    }


@dataclass
class Sample:
    total: float
    sandbox: float | None
    pod_phase_lag: float | None
    iterations: int
    phase: str


def results_in(audit: Path) -> dict[str, float]:
    """Wall-clock time of each task's first `execution` audit record ("namespace/name"): the moment the
    operator held its first pod's result."""
    found: dict[str, float] = {}
    if not audit.exists():
        return found
    for line in audit.read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "execution":
            found.setdefault(str(record["task"]), datetime.fromisoformat(record["time"]).timestamp())
    return found


def sample_of(seen: Timeline, result_wall: float | None = None) -> Sample:
    """The sample's figures. The sandbox's part ends when the checks' container is seen terminated or, when
    sooner, when the operator held the result (`result_wall`, its execution audit record): a streamed pod
    hands its result over a stream about a second before the kubelet reports the container's end."""
    assert seen.finished is not None
    sandbox = None
    lag = None
    if seen.pod_added:
        pod = min(seen.pod_added, key=lambda p: seen.pod_added[p])
        ends = [t for t in (seen.checks_done.get(pod) or seen.pod_phase_done.get(pod),) if t is not None]
        if result_wall is not None:
            ends.append(seen.created + (result_wall - seen.created_wall))
        sandbox = min(ends) - seen.pod_added[pod] if ends else None
        if pod in seen.checks_done and pod in seen.pod_phase_done:
            lag = seen.pod_phase_done[pod] - seen.checks_done[pod]
    return Sample(seen.finished - seen.created, sandbox, lag, seen.iterations, seen.phase or "?")


def cold_figures(samples: list[Sample]) -> dict[str, Any]:
    totals = [s.total for s in samples]
    sandboxes = [s.sandbox for s in samples if s.sandbox is not None]
    overheads = [s.total - s.sandbox for s in samples if s.sandbox is not None]
    return {
        "samples": len(samples),
        "phases": dict(Counter(s.phase for s in samples)),
        "cold_p50": percentile(totals, 0.5),
        "cold_p95": percentile(totals, 0.95),
        "sandbox_p50": statistics.median(sandboxes) if sandboxes else None,
        "overhead_p50": statistics.median(overheads) if overheads else None,
    }


def bench_namespace(name: str) -> client.V1Namespace:
    """A namespace of this bench's, labelled so that a forgotten one can be found and deleted."""
    return client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"level5.dev/bench": "true"}))


def review_seconds_per_200_lines() -> tuple[float, str]:
    try:
        from level5.tools.safety_eval import review_speed

        # It gives milliseconds: the median of in-process reviews of its 200-line benign script.
        return float(review_speed()) / 1000, "level5.tools.safety_eval.review_speed() (median)"
    except (ImportError, AttributeError, TypeError):
        pass
    from level5.safety.review.reviewer import review_code

    lines = ["import json", "import math", "", "rows = []"]
    i = 0
    while len(lines) < 200:
        lines += [
            f"def f{i}(x):",
            f"    total = sum(v * {i + 1} for v in range(x))",
            "    return {'n': x, 'total': total, 'root': math.sqrt(total)}",
            f"rows.append(f{i}({i % 17 + 3}))",
        ]
        i += 1
    source = "\n".join([*lines[:199], "print(json.dumps(rows[:3]))"])
    review_code(source, allowed_libraries=[], max_lines=5000)  # warm-up
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        result = review_code(source, allowed_libraries=[], max_lines=5000)
    elapsed = (time.perf_counter() - start) / runs
    return elapsed, f"review_code on a 200-line benign script ({result.verdict.value}), mean of {runs}"


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    await config.load_kube_config()
    api = client.ApiClient()
    core = client.CoreV1Api(api)
    namespace = f"bench-{secrets.token_hex(3)}"
    api_port = urlsplit(api.configuration.host).port or 443
    workdir = Path(tempfile.mkdtemp(prefix="level5-bench-"))
    results: dict[str, Any] = {"namespace": namespace, "workdir": str(workdir)}
    await core.create_namespace(bench_namespace(namespace))
    model = ScriptedModel([{"content": CODE_ANSWER, "repeat": True}]).start()
    # The warm samples: a namespace of their own with a pool of WARM_POOL_SIZE pods of the tasks' class (the
    # defaults, 500m), served by the same operator; its cold and warm samples alternate.
    warm_ns = f"{namespace}-warm"
    await core.create_namespace(bench_namespace(warm_ns))
    pools = [{"name": "bench", "namespace": warm_ns, "size": WARM_POOL_SIZE}]
    # The 1,000-task ramp: a namespace of its own, so its tasks' events stay out of the other figures.
    ramp_ns = f"{namespace}-ramp"
    await core.create_namespace(bench_namespace(ramp_ns))
    operator = Operator(
        namespace,
        model,
        workdir,
        api_port,
        {"LEVEL5_SANDBOX_POOLS": json.dumps(pools)},
        (warm_ns, ramp_ns),
        args.trace,
    )
    watcher = Watcher(api, namespace)
    watcher.start()
    warm_watcher = Watcher(api, warm_ns)
    warm_watcher.start()
    ramp_watcher = Watcher(api, ramp_ns)
    ramp_watcher.start()
    base: tuple[str, Operator, Watcher] | None = None
    if args.baseline_pythonpath:
        # The baseline: another checkout's operator (and runner image) in a namespace of its own, its cold
        # samples interleaved with this checkout's, so both see the same load.
        base_ns = f"{namespace}-base"
        await core.create_namespace(bench_namespace(base_ns))
        base_env = {"PYTHONPATH": args.baseline_pythonpath}
        if args.baseline_image:
            base_env["LEVEL5_SANDBOX_IMAGE"] = args.baseline_image
        base = (
            base_ns,
            Operator(base_ns, model, workdir / "base", api_port, base_env),
            Watcher(api, base_ns),
        )
        base[2].start()
        results["baseline_namespace"] = base_ns
    try:
        await asyncio.sleep(3)  # kopf connects its watches
        for side in (operator, *([base[1]] if base else [])):
            if side.proc.poll() is not None:
                raise RuntimeError(f"an operator exited: {side.log.read_text()[-3000:]}")
        if args.ramp_only:
            results["ramp"] = await ramp(api, ramp_watcher, ramp_ns, args.ramp, operator, args.ramp_cancels)
            return results
        # Warm-up: the namespace guards and the first image pull out of the figures.
        await run_task(api, watcher, namespace, "warmup")
        if base:
            await run_task(api, base[2], base[0], "warmup")

        base0 = (await base[1].settled_counts(), base[1].cpu_seconds()) if base else None
        cold: list[Timeline] = []
        base_cold: list[Timeline] = []
        warm: list[Timeline] = []
        warm_pods: list[str] = []
        # API calls and CPU of the cold and the warm samples, apart (the pool's refill counts as warm).
        cold_calls: Counter[str] = Counter()
        warm_calls: Counter[str] = Counter()
        cold_cpu = warm_cpu = 0.0
        for i in range(args.samples):
            before, cpu_before = await operator.settled_counts(), operator.cpu_seconds()
            seen = await run_task(api, watcher, namespace, f"cold-{i:02d}")
            cold.append(seen)
            line = f"  cold {i + 1}/{args.samples}: {sample_of(seen).total:.2f} s ({seen.phase})"
            middle, cpu_middle = await operator.settled_counts(), operator.cpu_seconds()
            await pool_ready(core, warm_ns)  # a warm iteration is one that finds a Ready pod
            hot = await run_task(api, warm_watcher, warm_ns, f"warm-{i:02d}")
            warm.append(hot)
            warm_pods.append(await ran_warm(api, warm_ns, f"warm-{i:02d}"))
            after, cpu_after = await operator.settled_counts(), operator.cpu_seconds()
            cold_calls += middle - before
            warm_calls += after - middle
            cold_cpu += cpu_middle - cpu_before
            warm_cpu += cpu_after - cpu_middle
            line += (
                f"; warm {hot.finished - hot.created if hot.finished else float('nan'):.2f} s ({hot.phase})"
            )
            if base:
                other = await run_task(api, base[2], base[0], f"cold-{i:02d}")
                base_cold.append(other)
                line += f"; baseline {sample_of(other).total:.2f} s ({other.phase})"
            print(line, file=sys.stderr)
        iterations = sum(s.iterations for s in cold) or 1
        warm_iterations = sum(t.iterations for t in warm) or 1
        calls = cold_calls
        if base and base0:
            base_calls = await base[1].settled_counts() - base0[0]
            base_cpu = base[1].cpu_seconds() - base0[1]
            base[1].stop()  # the rest of the figures are this checkout's alone

        # Throughput: N tasks at once, cold (no pool) and warm (the pool of WARM_POOL_SIZE; the rest fall
        # back to cold pods when it is empty).
        throughputs = []
        for n in args.concurrency:
            cold_tp = await throughput(api, watcher, namespace, n, f"tp{n}")
            await pool_ready(core, warm_ns)
            warm_tp = await throughput(api, warm_watcher, warm_ns, n, f"tp{n}")
            throughputs.append({"cold": cold_tp, "warm": warm_tp})
            print(
                f"  throughput N={n}: cold {cold_tp['per_s']:.2f}/s, warm {warm_tp['per_s']:.2f}/s",
                file=sys.stderr,
            )
        custom = client.CustomObjectsApi(api)

        # Back-pressure: a second ResourceQuota lets QUEUE_QUOTA sandbox pods run at once in the namespace.
        await core.create_namespaced_resource_quota(
            namespace,
            client.V1ResourceQuota(
                metadata=client.V1ObjectMeta(name="bench-tight"),
                spec=client.V1ResourceQuotaSpec(scopes=["Terminating"], hard={"pods": str(args.queue_quota)}),
            ),
        )
        await asyncio.sleep(2)  # the quota controller computes its usage
        counts2 = await operator.settled_counts()
        start = _now()
        names = [f"q-{i:02d}" for i in range(args.queue_tasks)]
        queued_seens = [watcher.expect(n) for n in names]
        await asyncio.gather(
            *(custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, task_manifest(n))
              for n in names)
        )  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in queued_seens)), 300)
        queue_seconds = _now() - start
        queue_calls = (await operator.settled_counts()) - counts2
        restarts = operator.log.read_text().count("Daemon 'drive_task' failed")

        ramped = None
        if args.ramp:
            ramped = await ramp(api, ramp_watcher, ramp_ns, args.ramp, operator, args.ramp_cancels)
            print(f"  ramp: {ramped}", file=sys.stderr)

        final_counts = await operator.settled_counts()
        # Now that the pods' phases have flipped too, and the audit holds every execution record.
        held = results_in(workdir / "audit.jsonl")
        samples = [sample_of(seen, held.get(f"{namespace}/cold-{i:02d}")) for i, seen in enumerate(cold)]
        review, review_how = review_seconds_per_200_lines()
        totals = [s.total for s in samples]
        sandboxes = [s.sandbox for s in samples if s.sandbox is not None]
        lags = [s.pod_phase_lag for s in samples if s.pod_phase_lag is not None]
        overheads = [s.total - s.sandbox for s in samples if s.sandbox is not None]
        if base and base_cold:
            base_held = results_in(workdir / "base" / "audit.jsonl")
            base_samples = [
                sample_of(seen, base_held.get(f"{base[0]}/cold-{i:02d}")) for i, seen in enumerate(base_cold)
            ]
            results["baseline"] = cold_figures(base_samples) | {
                "operator_cpu_per_iteration": base_cpu / (sum(s.iterations for s in base_cold) or 1),
                "api_calls_per_iteration": sum(base_calls.values())
                / (sum(s.iterations for s in base_cold) or 1),
                "pythonpath": args.baseline_pythonpath,
                "image": args.baseline_image,
            }
        warm_totals = [t.finished - t.created for t in warm if t.finished is not None]
        results.update(
            warm_samples=len(warm),
            warm_wall=[(f"warm-{i:02d}", t.created_wall, t.finished_wall) for i, t in enumerate(warm)],
            warm_phases=dict(Counter(t.phase for t in warm)),
            warm_ran_warm=sum(bool(p) for p in warm_pods),
            warm_pool_size=WARM_POOL_SIZE,
            warm_p50=percentile(warm_totals, 0.5),
            warm_p95=percentile(warm_totals, 0.95),
            cold_over_warm_p50=percentile(totals, 0.5) / percentile(warm_totals, 0.5),
            cold_over_warm_p95=percentile(totals, 0.95) / percentile(warm_totals, 0.95),
            samples=len(samples),
            phases=dict(Counter(s.phase for s in samples)),
            cold_p50=percentile(totals, 0.5),
            cold_p95=percentile(totals, 0.95),
            sandbox_p50=statistics.median(sandboxes) if sandboxes else None,
            pod_phase_lag_p50=statistics.median(lags) if lags else None,
            overhead_p50=statistics.median(overheads) if overheads else None,
            operator_cpu_per_iteration=cold_cpu / iterations,
            warm_operator_cpu_per_iteration=warm_cpu / warm_iterations,
            warm_api_calls_per_iteration=sum(warm_calls.values()) / warm_iterations,
            warm_api_calls=dict(
                sorted(((k, v / warm_iterations) for k, v in warm_calls.items()), key=lambda kv: -kv[1])
            ),
            iterations=iterations,
            api_calls_per_iteration=sum(calls.values()) / iterations,
            api_calls=dict(sorted(((k, v / iterations) for k, v in calls.items()), key=lambda kv: -kv[1])),
            throughputs=throughputs,
            ramp=ramped,
            worst_stall=max(
                (late for late, _ in stalls_between(operator.log, 0, 0.0, time.time())), default=0.0
            ),
            queue_tasks=args.queue_tasks,
            queue_quota=args.queue_quota,
            queue_seconds=queue_seconds,
            queue_phases=dict(Counter(s.phase for s in queued_seens)),
            queue_visible=sum(s.queued for s in queued_seens),
            queue_pod_posts=queue_calls.get("POST pods", 0),
            queue_daemon_failures=restarts,
            guard_posts=sum(v for k, v in final_counts.items() if k in GUARD_POSTS),
            review_seconds_per_200_lines=review,
            review_how=review_how,
        )
        return results
    finally:
        await watcher.stop()
        await warm_watcher.stop()
        await ramp_watcher.stop()
        operator.stop()
        if base:
            await base[2].stop()
            base[1].stop()
        model.stop()
        results["operator_log"] = str(operator.log)
        for ns in (namespace, warm_ns, ramp_ns, *([base[0]] if base else [])):
            with contextlib.suppress(Exception):
                # Let the task's finalizers go (no operator removes them now), then the namespace.
                await release_finalizers(api, ns)
        if not args.keep:
            for ns in (namespace, warm_ns, ramp_ns, *([base[0]] if base else [])):
                with contextlib.suppress(Exception):
                    await core.delete_namespace(ns)
        await api.close()


async def release_finalizers(api: client.ApiClient, namespace: str) -> None:
    custom = client.CustomObjectsApi(api)
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    limit = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def release(name: str) -> None:
        async with limit:
            await custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name, {"metadata": {"finalizers": None}},
                _content_type="application/merge-patch+json",  # type: ignore[call-arg]  # missing in stubs
            )  # fmt: skip

    await asyncio.gather(
        *(release(item["metadata"]["name"]) for item in listed.get("items", [])), return_exceptions=True
    )


def seconds_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def ramp_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The table's rows of the 1,000-task ramp (none when it did not run)."""
    if not r.get("ramp"):
        return []
    s = seconds_text
    return [
        (f"ramp: {r['ramp']['n']} tasks waiting for approval", f"{r['ramp']['seconds']:.1f} s",
         f"created at once (POSTs done after {r['ramp']['created_seconds']:.1f} s), until all were "
         f"AwaitingApproval ({r['ramp']['waiting']} did)"),
        ("  operator CPU", f"{r['ramp']['cpu_seconds']:.1f} s",
         "user+system of the operator process from the first POST until all were waiting"),
        ("  operator memory (RSS)",
         f"{r['ramp']['mib_per_task']:.2f} MiB/task",
         f"{r['ramp']['rss_before_mib']:.0f} MiB before, {r['ramp']['rss_waiting_mib']:.0f} MiB with all "
         f"waiting, peak {r['ramp']['rss_peak_mib']:.0f} MiB"),
        ("  worst event-loop stall", f"{r['ramp']['worst_stall'] * 1000:.0f} ms",
         f"during the ramp, as the operator logged it (level5.observability.loop_stalls); "
         f"{r['ramp']['stalls_logged']} stalls of 50 ms or more; the most CPU time in one stall "
         f"{r['ramp']['worst_stall_cpu'] * 1000:.0f} ms (the rest the operator waited for a CPU)"),
        ("  cancel latency while loaded",
         f"{s(r['ramp']['cancel_p50'])} p50", f"spec.cancel patched to Cancelled seen, "
         f"{r['ramp']['cancels']} tasks one after another; max {s(r['ramp']['cancel_max'])}"),
    ]  # fmt: skip


def rendered(rows: list[tuple[str, str, str]]) -> list[str]:
    """The rows as a Markdown table under a line naming the time, the machine, its load and the Python."""
    width = max(len(a) for a, _, _ in rows)
    vwidth = max(len(b) for _, b, _ in rows)
    lines = [
        f"level5 bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} at the end; Python {platform.python_version()} "
        # The interpreter the safety rows ran on (the venv's base): the operator image runs Debian's.
        f"({os.path.realpath(sys.executable)})",
        f"| {'figure':<{width}} | {'value':<{vwidth}} | how |",
        f"| {'-' * width} | {'-' * vwidth} | --- |",
    ]
    return lines + [f"| {a:<{width}} | {b:<{vwidth}} | {c} |" for a, b, c in rows]


def safety_rows() -> list[tuple[str, str, str]]:
    """Layers 1 and 5 measured in this process (redaction MB/s, injection checks/s), with as many detector
    processes as the chart gives the operator (redaction.workers)."""
    from level5.tools.safety_eval import bench_rows

    chart = yaml.safe_load((ROOT / "charts" / "level5" / "values.yaml").read_text(encoding="utf-8"))
    return bench_rows(chart["redaction"]["workers"])


def table(r: dict[str, Any], safety: list[tuple[str, str, str]]) -> str:
    s = seconds_text

    share = (r["overhead_p50"] / r["cold_p50"]) if r.get("overhead_p50") is not None else None
    top = ", ".join(f"{k} {v:.1f}" for k, v in list(r["api_calls"].items())[:8])
    rows = [
        ("warm iteration p50 / p95", f"{s(r['warm_p50'])} / {s(r['warm_p95'])}",
         f"{r['warm_samples']} one-iteration tasks, each after the cold one, with a Ready pod in a pool of "
         f"{r['warm_pool_size']} ({r['warm_phases']}; {r['warm_ran_warm']} ran warm)"),
        ("cold / warm, p50 and p95", f"{r['cold_over_warm_p50']:.1f}x / {r['cold_over_warm_p95']:.1f}x",
         "same run, samples alternating"),
        ("warm: operator CPU, API calls per iteration",
         f"{r['warm_operator_cpu_per_iteration']:.3f} s, {r['warm_api_calls_per_iteration']:.1f}",
         ", ".join(f"{k} {v:.1f}" for k, v in list(r["warm_api_calls"].items())[:8])),
        ("cold iteration p50 / p95", f"{s(r['cold_p50'])} / {s(r['cold_p95'])}",
         f"{r['samples']} one-iteration tasks in sequence, creation to Succeeded ({r['phases']})"),
        ("  of which the sandbox pod (p50)", s(r["sandbox_p50"]),
         f"pod ADDED to the result in the operator's hands (checks container terminated, or a streamed "
         f"pod's result on its stream); {(r['sandbox_p50'] or 0) / r['cold_p50']:.0%} of p50"),
        ("  pod phase lag after checks ended (p50)", s(r["pod_phase_lag_p50"]),
         "checks container terminated to pod Succeeded, as watched"),
        ("operator overhead per iteration (p50)", s(r["overhead_p50"]),
         f"all but the sandbox pod's life (the model answers at once); {share:.0%} of p50" if share else ""),
        ("operator CPU per iteration", f"{r['operator_cpu_per_iteration']:.3f} s", "user+system time"),
        ("API calls per iteration", f"{r['api_calls_per_iteration']:.1f}", top),
        *(row for t in r["throughputs"] for row in (
            (f"throughput, N={t['cold']['n']} at once, cold", f"{t['cold']['per_s']:.2f} tasks/s",
             f"{t['cold']['phases']} after {t['cold']['seconds']:.1f} s"),
            (f"throughput, N={t['warm']['n']} at once, warm", f"{t['warm']['per_s']:.2f} tasks/s",
             f"{t['warm']['phases']} after {t['warm']['seconds']:.1f} s; {t['warm']['ran_warm']} ran warm "
             f"(pool of {r['warm_pool_size']}, the rest cold); "
             f"warm / cold {t['warm']['per_s'] / t['cold']['per_s']:.2f}"),
        )),
        *ramp_rows(r),
        ("worst event-loop stall, whole run", f"{r['worst_stall'] * 1000:.0f} ms",
         "as the operator logged it"),
        (f"back-pressure, N={r['queue_tasks']} with a quota of {r['queue_quota']} pods",
         f"{r['queue_tasks'] / r['queue_seconds']:.2f} tasks/s",
         f"{r['queue_phases']} after {r['queue_seconds']:.1f} s; {r['queue_visible']} showed SandboxQueued; "
         f"{r['queue_pod_posts']} pod POSTs; {r['queue_daemon_failures']} daemon crashes"),
        ("namespace guard POSTs", str(r["guard_posts"]), "for the whole run (3 objects)"),
        ("review time per 200 lines", f"{r['review_seconds_per_200_lines'] * 1000:.1f} ms", r["review_how"]),
    ]  # fmt: skip
    lines = rendered(rows + safety)
    base = r.get("baseline")
    if base:
        lines += [
            "",
            "Interleaved in the same run (sample i of each side back to back): this checkout vs the "
            f"baseline ({base['pythonpath']}, image {base['image']}; {base['phases']})",
            "| figure | this checkout | baseline | this / baseline |",
            "| --- | --- | --- | --- |",
        ]
        for label, key, unit in (
            ("cold iteration p50", "cold_p50", "s"),
            ("cold iteration p95", "cold_p95", "s"),
            ("sandbox pod p50", "sandbox_p50", "s"),
            ("operator overhead p50", "overhead_p50", "s"),
            ("operator CPU per iteration", "operator_cpu_per_iteration", "s"),
            ("API calls per iteration", "api_calls_per_iteration", ""),
        ):
            mine, theirs = r.get(key), base.get(key)
            if mine is None or theirs is None:
                continue
            ratio = f"{mine / theirs:.2f}" if theirs else "n/a"
            lines.append(
                f"| {label} | {mine:.2f}{unit and ' ' + unit} | {theirs:.2f}{unit and ' ' + unit} | {ratio} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument(
        "--concurrency", type=lambda v: [int(n) for n in v.split(",") if n], default=[10, 60],
        help="throughput: N tasks at once, cold and warm, for each N of this comma-separated list",
    )  # fmt: skip
    parser.add_argument("--ramp", type=int, default=1000, help="tasks in the ramp (0: no ramp)")
    parser.add_argument("--ramp-cancels", type=int, default=5, help="cancels timed once the ramp is up")
    parser.add_argument(
        "--ramp-only", action="store_true", help="only the ramp (no samples, throughput or back-pressure)"
    )
    parser.add_argument("--queue-tasks", type=int, default=6)
    parser.add_argument("--queue-quota", type=int, default=2)
    parser.add_argument(
        "--baseline-pythonpath", help="another checkout's operator/ dir: interleave its samples"
    )
    parser.add_argument("--baseline-image", help="the sandbox image for the baseline's pods")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep", action="store_true", help="keep the namespace afterwards")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="log API request timings and profile the operator (api-trace.txt, operator.pstats)",
    )
    args = parser.parse_args()
    # Layers 1 and 5 first, while the cluster is idle: measured after the workloads, the ramp's 1,000 tasks
    # were still being deleted (load average 6 on 2 cores) and redaction read 8.8 MB/s where the same
    # machine idle reads 10.4 to 11.4.
    safety = [] if args.ramp_only else safety_rows()
    results = asyncio.run(asyncio.wait_for(bench(args), timeout=2400))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print("\n".join(rendered(ramp_rows(results))) if args.ramp_only else table(results, safety))
    print(f"(operator log and audit: {results['workdir']})", file=sys.stderr)


if __name__ == "__main__":
    main()
