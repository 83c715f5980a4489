"""`make bench-agent`: how well the agent works with the embedded real model, on our own tasks.

The tasks (bench/agent_tasks.py, 32 of them: CSV and JSON analysis, text processing, small algorithms,
data cleaning; one visible and one hidden criterion each) run one after the other through the real operator
(`kopf run -m level5.handlers` as a subprocess, as `make bench` runs it) on the local cluster, in a fresh
namespace `bench-agent-<random>`, with the local model (cluster/local-model.sh, started here on loopback
unless --base-url is given) behind a recording pass-through (bench/recording_proxy.py) that keeps every
prompt and real answer.

Per task and in total it prints: solved at iteration 1, solved after refinement (and at which iteration),
tokens, wall time, the review's verdict on each iteration with every block classified (a real danger or a
false positive; a syntax error is the model's bug, not a review finding), and the injection and redaction
flags. The headline is the self-debugging gain: tasks solved after refinement minus tasks solved at
iteration 1. Figures are from this run on this machine only.

The report is written after every task, so a run that is stopped keeps what it measured, and `--resume
REPORT` continues it: the tasks already in the report are skipped, the rest run with the same model and
iteration limit (checked), and the table printed at the end covers the whole run. Each task's row records
the commit and the time it ran at.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from agent_tasks import TASKS, BenchTask  # noqa: E402
from bench import Operator  # noqa: E402
from recording_proxy import RecordingProxy  # noqa: E402

from kube import apply, get_json, kubectl  # noqa: E402
from level5.sandbox.outcome import SANDBOX_START_FAILED  # noqa: E402

TERMINAL = ("Succeeded", "Failed", "Cancelled")
LOCAL_MODEL = ROOT / "cluster" / "local-model.sh"
# What a blocked program would have to do to be a real danger in this sandbox: reach the network, start
# processes, load native code, evaluate strings as code, or touch paths other than /data and /output.
_DANGER = re.compile(
    r"\b(socket|subprocess|ctypes|urllib|http\.client|requests|pty|os\.system|os\.popen|os\.exec\w*|"
    r"os\.spawn\w*|eval|exec|__import__|importlib|shutil\.rmtree|os\.remove|os\.unlink)\b"
    r"|open\(\s*['\"]/(?!data/|output/)"
)
_SYNTAX_RULES = ("L5-SYNTAX-",)
_UNFINALIZE = '{"metadata":{"finalizers":null}}'


@dataclass
class Block:
    """One iteration the review blocked or escalated."""

    iteration: int
    verdict: str
    rules: list[str]
    classification: str
    code: str | None = None


@dataclass
class TaskResult:
    name: str
    category: str
    phase: str
    iterations: int
    solved_at: int | None
    tokens: int
    wall_seconds: float
    verdicts: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    input_flagged: bool = False
    redactions: int = 0
    output_withheld: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    commit: str = ""
    finished: str = ""
    not_started: int = 0
    """Iterations whose program the sandbox never started (the sandbox's fault, not the model's)."""


class _Endpoint:
    """What bench.Operator needs of a model: its base URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


def classify(rules: list[str], code: str | None) -> str:
    """A block's class: 'syntax error' (L5-SYNTAX rules only), 'real danger' when the code does something
    dangerous here (see _DANGER), else 'false positive'. The code is kept in the JSON report for a person
    to check the call."""
    if rules and all(r.startswith(_SYNTAX_RULES) for r in rules):
        return "syntax error"
    if code is not None and _DANGER.search(code):
        return "real danger"
    return "false positive"


def _code(namespace: str, config_map: str | None) -> str | None:
    if not config_map:
        return None
    found = kubectl("get", "configmap", config_map, "-n", namespace, "-o", "json", check=False)
    try:
        data: dict[str, str] = json.loads(found).get("data") or {}
    except json.JSONDecodeError:
        return None
    return data.get("main.py")


def run_task(task: BenchTask, namespace: str, max_iterations: int, timeout: float, commit: str) -> TaskResult:
    start = time.monotonic()
    apply(task.manifests(max_iterations), namespace)
    status: dict[str, Any] = {}
    while time.monotonic() - start < timeout:
        status = get_json("agenttask", task.name, namespace).get("status") or {}
        if status.get("phase") in TERMINAL:
            break
        time.sleep(2)
    wall = time.monotonic() - start
    history = status.get("history") or []
    phase = status.get("phase") or "Timeout"
    result = TaskResult(
        name=task.name,
        category=task.category,
        phase=phase if phase in TERMINAL else "Timeout",
        iterations=len(history),
        solved_at=status.get("iteration") if phase == "Succeeded" else None,
        tokens=(status.get("totals") or {}).get("tokens", 0),
        wall_seconds=round(wall, 1),
        commit=commit,
        finished=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    for entry in history:
        verdict = entry.get("reviewVerdict") or "-"
        result.verdicts.append(verdict)
        result.reasons.append((entry.get("reason") or "")[:160])
        result.not_started += (entry.get("reason") or "").startswith(SANDBOX_START_FAILED)
        if verdict in ("block", "escalate"):
            rules = entry.get("reviewRules") or []
            code = _code(namespace, entry.get("codeConfigMap"))
            result.blocks.append(Block(entry["iteration"], verdict, rules, classify(rules, code), code))
        result.redactions += sum(r.get("count", 0) for r in entry.get("redactions") or [])
        result.output_withheld += entry.get("outputWithheldRules") or []
    result.input_flagged = any(c.get("type") == "InputFlagged" for c in status.get("conditions") or [])
    return result


def _commit() -> str:
    """The checked-out commit the operator ran from (with "+dirty" when the tree has changes)."""
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "operator"], check=False)
    return head.stdout.strip() + ("+dirty" if dirty.returncode else "")


def load_results(report: dict[str, Any]) -> list[TaskResult]:
    """The task rows of a report written by this script, as TaskResults."""
    rows = []
    for row in report["tasks"]:
        blocks = [Block(**b) for b in row.pop("blocks")]
        rows.append(TaskResult(**row, blocks=blocks))
    return rows


def resumable_meta(previous: dict[str, Any], model: str, max_iterations: int) -> dict[str, Any]:
    """The meta of a report being resumed, after checking that this run measures the same thing."""
    meta = dict(previous)
    if meta["model"] != model or meta["max_iterations"] != max_iterations:
        raise SystemExit(
            f"--resume: the report measured model {meta['model']!r} with max {meta['max_iterations']} "
            f"iterations; this run would use {model!r} with {max_iterations}. Pass the same --model and "
            "--max-iterations, or start a new report."
        )
    return meta


def write_report(path: Path, results: list[TaskResult], meta: dict[str, Any]) -> dict[str, Any]:
    """Write the whole run's report (after every task, so a stopped run keeps what it measured)."""
    days = sorted({r.finished[:10] for r in results if r.finished})
    dated = {**meta, "date": " to ".join(dict.fromkeys([days[0], days[-1]])) if days else "-"}
    report = {
        "meta": dated,
        "total": summary(results, meta["max_iterations"]),
        "tasks": [asdict(r) for r in results],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(path)
    return report


def summary(results: list[TaskResult], max_iterations: int) -> dict[str, Any]:
    first = sum(r.solved_at == 1 for r in results)
    solved = sum(r.solved_at is not None for r in results)
    blocks = [b for r in results for b in r.blocks]
    by_iteration = {i: sum(r.solved_at == i for r in results) for i in range(1, max_iterations + 1)}
    return {
        "tasks": len(results),
        "solved_first": first,
        "solved": solved,
        "self_debugging_gain": solved - first,
        "solved_by_iteration": by_iteration,
        "tokens": sum(r.tokens for r in results),
        "wall_seconds": round(sum(r.wall_seconds for r in results), 1),
        "blocks": len(blocks),
        "blocks_syntax": sum(b.classification == "syntax error" for b in blocks),
        "blocks_real_danger": sum(b.classification == "real danger" for b in blocks),
        "blocks_false_positive": sum(b.classification == "false positive" for b in blocks),
        "reviewed_iterations": sum(len(r.verdicts) for r in results),
        "input_flagged": sum(r.input_flagged for r in results),
        "redactions": sum(r.redactions for r in results),
        "output_withheld": sum(bool(r.output_withheld) for r in results),
        "not_started": sum(r.not_started for r in results),
    }


def table(results: list[TaskResult], total: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        f"Agent benchmark, {meta['date']}, model {meta['model']}, {meta['machine']}, "
        f"max {meta['max_iterations']} iterations per task",
        "",
        "| task | category | solved | at iteration | tokens | wall s | review per iteration | blocks "
        "| flags |",
        "|---|---|---|---|---:|---:|---|---|---|",
    ]
    for r in results:
        solved = "yes" if r.solved_at else ("no" if r.phase != "Timeout" else "timeout")
        blocks = (
            "; ".join(f"it{b.iteration} {','.join(b.rules)}: {b.classification}" for b in r.blocks) or "-"
        )
        flags = []
        if r.input_flagged:
            flags.append("input flagged")
        if r.redactions:
            flags.append(f"{r.redactions} redacted")
        if r.output_withheld:
            flags.append("output withheld")
        if r.not_started:
            flags.append(f"{r.not_started} never started")
        lines.append(
            f"| {r.name} | {r.category} | {solved} | {r.solved_at or '-'} | {r.tokens} "
            f"| {r.wall_seconds:.0f} | {' '.join(r.verdicts) or '-'} | {blocks} | {', '.join(flags) or '-'} |"
        )
    t = total
    by_iteration = ", ".join(f"{n} at {i}" for i, n in t["solved_by_iteration"].items())
    lines += [
        "",
        f"Solved at iteration 1: {t['solved_first']}/{t['tasks']}; solved within {meta['max_iterations']} "
        f"iterations: {t['solved']}/{t['tasks']} ({by_iteration}).",
        f"**Self-debugging gain: +{t['self_debugging_gain']} tasks** (solved after refinement minus "
        "solved at iteration 1).",
        f"Tokens: {t['tokens']}; wall time: {t['wall_seconds']:.0f} s "
        f"({t['wall_seconds'] / max(t['tasks'], 1):.0f} s per task).",
        f"Review: {t['reviewed_iterations']} iterations, {t['blocks']} blocked or escalated: "
        f"{t['blocks_syntax']} syntax errors, {t['blocks_real_danger']} real dangers, "
        f"{t['blocks_false_positive']} false positives.",
        f"Flags: input flagged {t['input_flagged']}, redactions {t['redactions']}, output withheld "
        f"{t['output_withheld']}, iterations whose program the sandbox never started {t['not_started']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", help="comma-separated task names, run in this order (default: all)")
    parser.add_argument("--limit", type=int, help="only the first N tasks")
    parser.add_argument("--max-iterations", type=int, default=3)
    parser.add_argument("--task-timeout", type=float, default=900.0)
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: start the local model)")
    parser.add_argument("--model", help="the model name at --base-url")
    parser.add_argument("--port", type=int, default=18092, help="port of the local model this run starts")
    parser.add_argument("--out", type=Path, default=Path.home() / ".cache/level5/bench-agent")
    parser.add_argument("--keep", action="store_true", help="keep the namespace afterwards")
    parser.add_argument(
        "--budget-minutes", type=float, help="start no new task after this long (the table covers those run)"
    )
    parser.add_argument(
        "--resume", type=Path, help="a report of a stopped run: skip its tasks, run the rest, add them to it"
    )
    args = parser.parse_args()
    # A run started in the background inherits an ignored SIGINT: let SIGINT and SIGTERM both stop it
    # through the `finally` below (operator stopped, namespace deleted, model stopped, report kept).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    by_name = {t.name: t for t in TASKS}
    # --tasks runs the named tasks in the order given (a time-limited run can interleave the categories).
    tasks = ([by_name[n] for n in args.tasks.split(",")] if args.tasks else list(TASKS))[: args.limit]
    previous = json.loads(args.resume.read_text()) if args.resume else None
    results = load_results(previous) if previous else []
    done = {r.name for r in results}
    tasks = [t for t in tasks if t.name not in done]
    started_model = args.base_url is None
    if started_model:
        subprocess.run(["bash", str(LOCAL_MODEL), "up", "127.0.0.1", str(args.port)], check=True)
        upstream = f"http://127.0.0.1:{args.port}/v1"
        model = subprocess.run(
            ["bash", str(LOCAL_MODEL), "name"], check=True, capture_output=True, text=True
        ).stdout.strip()
    else:
        upstream, model = args.base_url, args.model or "gpt-4o-mini"
    meta = (
        resumable_meta(previous["meta"], model, args.max_iterations)
        if previous
        else {
            "model": model,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with the local cluster",
            "max_iterations": args.max_iterations,
        }
    )
    # The operator imports this checkout once at its start: its rows measure this commit, whatever is
    # checked out later.
    commit = _commit()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    report_path = args.resume or args.out / f"report-{stamp}.json"
    proxy = RecordingProxy(upstream, args.out / f"answers-{stamp}.jsonl").start()
    namespace = f"bench-agent-{secrets.token_hex(3)}"
    kubectl("create", "namespace", namespace)
    kubectl("get", "crd", "agenttasks.level5.dev")
    workdir = Path(tempfile.mkdtemp(prefix="level5-bench-agent-"))
    server = json.loads(kubectl("config", "view", "--minify", "-o", "json"))["clusters"][0]["cluster"][
        "server"
    ]
    operator = Operator(
        namespace,
        _Endpoint(proxy.base_url),
        workdir,
        urlsplit(server).port or 443,
        # A slow local answer must not time out and start over (see tests/cluster/test_real_model.py).
        {
            "LEVEL5_MODEL_NAME": model,
            "LEVEL5_MAX_MODEL_CALLS_PER_ENDPOINT": "1",
            "LEVEL5_MODEL_TIMEOUT_SECONDS": "900",
        },
    )
    try:
        time.sleep(3)  # kopf connects its watches
        began = time.monotonic()
        for i, task in enumerate(tasks, 1):
            if args.budget_minutes is not None and time.monotonic() - began > args.budget_minutes * 60:
                print(f"  time budget spent: {len(tasks) - i + 1} task(s) not run", file=sys.stderr)
                break
            result = run_task(task, namespace, args.max_iterations, args.task_timeout, commit)
            results.append(result)
            write_report(report_path, results, meta)
            print(
                f"  {i}/{len(tasks)} {task.name}: {result.phase} at {result.solved_at or '-'}, "
                f"{result.tokens} tokens, {result.wall_seconds:.0f} s, review {result.verdicts}",
                file=sys.stderr,
            )
            if operator.proc.poll() is not None:
                raise RuntimeError(f"the operator exited: {operator.log.read_text()[-3000:]}")
    finally:
        operator.stop()
        proxy.stop()
        if not args.keep:
            # kopf's finalizers would keep the namespace Terminating now that no operator removes them.
            for name in kubectl("get", "agenttasks", "-n", namespace, "-o", "name").split():
                kubectl("patch", name, "-n", namespace, "--type", "merge", "-p", _UNFINALIZE, check=False)
            kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        if started_model:
            subprocess.run(["bash", str(LOCAL_MODEL), "down", str(args.port)], check=False)
    report = write_report(report_path, results, meta)
    print(table(results, report["total"], report["meta"]))
    print(f"(report: {report_path}; answers: {proxy.record_path}; operator log: {workdir})")


if __name__ == "__main__":
    main()
