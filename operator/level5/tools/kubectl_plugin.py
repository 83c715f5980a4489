"""`kubectl level5`: the human side of level5 from the command line. It decides Approvals (approve, reject,
override, guide, constrain; one by name, a task's pending one, or many by label selector), steers tasks
(pause, resume, cancel, guide, constrain) and shows them (pending, history, logs).

Every change is a merge patch through kubectl, so the API server authenticates the caller, RBAC applies and
the admission webhook stamps who decided; this command holds no credentials and no authority of its own."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from level5.api.approval import APPROVAL_LABEL_STATE, ApprovalState, Decision
from level5.core.layout import CHECKS_CONTAINER
from level5.sandbox.result import RunResultError, parse_pod_log

OPEN_STATES = "pending,escalated"


class PluginError(Exception):
    """A failure to report to the user in one line, without a traceback."""


class Kubectl:
    """kubectl with the connection flags the user gave (kubeconfig, context, namespace)."""

    def __init__(self, args: argparse.Namespace) -> None:
        exe = shutil.which("kubectl")
        if exe is None:
            raise PluginError("kubectl is not on PATH")
        self.base = [exe]
        if args.kubeconfig:
            self.base += ["--kubeconfig", args.kubeconfig]
        if args.context:
            self.base += ["--context", args.context]
        self.namespace: str | None = args.namespace

    def run(self, *argv: str, namespaced: bool = True) -> str:
        ns = ["-n", self.namespace] if namespaced and self.namespace else []
        proc = subprocess.run([*self.base, *ns, *argv], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise PluginError(_explain(proc.stderr.strip()))
        return proc.stdout

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        ns = ["-n", self.namespace] if self.namespace else []
        proc = subprocess.run(
            [*self.base, *ns, "get", kind, name, "-o", "json"], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise PluginError(_explain(proc.stderr.strip()))
        found: dict[str, Any] = json.loads(proc.stdout)
        return found

    def task(self, name: str) -> dict[str, Any]:
        """The AgentTask `name`; a clear error when there is none."""
        found = self.get("agenttask", name)
        if found is None:
            raise PluginError(f"no AgentTask named {name!r} in namespace {self.namespace or '(current)'}")
        return found

    def patch(self, kind: str, name: str, patch: dict[str, Any]) -> None:
        self.run("patch", kind, name, "--type", "merge", "-p", json.dumps(patch))


def _explain(stderr: str) -> str:
    """kubectl's error in the words a user acts on."""
    text = stderr.removeprefix("Error from server: ").removeprefix("error: ")
    if "Forbidden" in stderr and "admission webhook" not in stderr:
        return f"not allowed: {text} (ask for the level5-approver role in this namespace)"
    if "admission webhook" in stderr and "denied the request: " in stderr:
        return "refused: " + stderr.split("denied the request: ", 1)[1]
    return text


def _target_approval(kube: Kubectl, name: str) -> str:
    """The Approval `name`, or the one task `name` is waiting for."""
    if kube.get("approval", name) is not None:
        return name
    task = kube.get("agenttask", name)
    if task is None:
        raise PluginError(
            f"no Approval or AgentTask named {name!r} in namespace {kube.namespace or '(current)'}"
        )
    pending = (task.get("status") or {}).get("approval")
    if not pending:
        phase = (task.get("status") or {}).get("phase", "Pending")
        raise PluginError(f"task {name} is not waiting for an Approval (phase {phase})")
    return str(pending)


def _decide(kube: Kubectl, args: argparse.Namespace, decision: Decision, details: dict[str, Any]) -> int:
    if args.selector:
        listing = json.loads(kube.run("get", "approvals", "-l", args.selector, "-o", "json"))
        names = [
            item["metadata"]["name"]
            for item in listing["items"]
            if not (item.get("spec") or {}).get("decision")
            and ApprovalState((item.get("status") or {}).get("state", "Pending")).open
        ]
        if not names:
            raise PluginError(f"no undecided Approvals match {args.selector!r}")
    elif args.name:
        names = [_target_approval(kube, args.name)]
    else:
        raise PluginError("name an Approval or a task, or select several with -l")
    failures = 0
    for name in names:
        try:
            kube.patch("approval", name, {"spec": {"decision": decision.value, **details}})
            print(f"approval/{name}: {decision.value}")
        except PluginError as exc:
            failures += 1
            print(f"approval/{name}: {exc}", file=sys.stderr)
    return 1 if failures else 0


def _steer_or_decide(
    kube: Kubectl, args: argparse.Namespace, decision: Decision, details: dict[str, Any]
) -> int:
    """guide/constrain: decide the pending Approval when there is one, else change the running task's spec."""
    if not args.name and not args.selector:
        raise PluginError("name an Approval or a task, or select several with -l")
    if args.selector or kube.get("approval", args.name) is not None:
        return _decide(kube, args, decision, details)
    task = kube.get("agenttask", args.name)
    if task is None:
        raise PluginError(f"no Approval or AgentTask named {args.name!r}")
    if (task.get("status") or {}).get("approval"):
        return _decide(kube, args, decision, details)
    spec = task.get("spec") or {}
    patch: dict[str, Any]
    if decision is Decision.GUIDE:
        patch = {"spec": {"guidance": [*spec.get("guidance", []), details["hint"]]}}
    else:
        goal = spec.get("goal") or {}
        patch = {"spec": {"goal": {"constraints": [*goal.get("constraints", []), *details["constraints"]]}}}
    kube.patch("agenttask", args.name, patch)
    print(f"agenttask/{args.name}: {decision.value.lower()}d for the next generations")
    return 0


def _set_task(kube: Kubectl, name: str, spec: dict[str, Any], done: str) -> int:
    kube.task(name)
    kube.patch("agenttask", name, {"spec": spec})
    print(f"agenttask/{name}: {done}")
    return 0


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    seconds = (datetime.now(UTC) - datetime.fromisoformat(timestamp.replace("Z", "+00:00"))).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _pending(kube: Kubectl, args: argparse.Namespace) -> int:
    scope = ["--all-namespaces"] if args.all_namespaces else []
    states = OPEN_STATES + (",review" if args.include_review else "")
    listing = json.loads(
        kube.run(
            "get",
            "approvals",
            *scope,
            "-l",
            f"{APPROVAL_LABEL_STATE} in ({states})",
            "-o",
            "json",
            namespaced=not args.all_namespaces,
        )
    )
    rows = [["NAMESPACE", "APPROVAL", "TASK", "ITER", "STATE", "TRIGGERS", "CONFIDENCE", "AGE", "EXPIRES IN"]]
    for item in listing["items"]:
        spec, status, meta = item.get("spec") or {}, item.get("status") or {}, item["metadata"]
        if spec.get("decision"):
            continue
        expires = spec.get("expiresAt")
        rows.append(
            [
                meta["namespace"],
                meta["name"],
                spec.get("taskName", ""),
                str(spec.get("iteration", "")),
                status.get("state", "Pending"),
                ",".join(t["type"] for t in spec.get("triggers", [])) or "-",
                f"{spec['confidence']:.2f}" if spec.get("confidence") is not None else "-",
                _age(meta.get("creationTimestamp")),
                _age(expires).removeprefix("-") if expires and status.get("state") != "Escalated" else "-",
            ]
        )
    if len(rows) == 1:
        print("no Approvals are waiting")
        return 0
    print(_table(rows))
    return 0


def _queue(kube: Kubectl, args: argparse.Namespace) -> int:
    """Tasks whose sandbox pod waits for a ResourceQuota (condition SandboxQueued=True), longest waiting
    first: the order in which the operator creates their pods as capacity frees."""
    scope = ["--all-namespaces"] if args.all_namespaces else []
    listing = json.loads(
        kube.run("get", "agenttasks", *scope, "-o", "json", namespaced=not args.all_namespaces)
    )
    waiting = []
    for item in listing["items"]:
        status, meta = item.get("status") or {}, item["metadata"]
        for condition in status.get("conditions") or []:
            if condition.get("type") == "SandboxQueued" and condition.get("status") == "True":
                found = re.search(r"ResourceQuota (\S+)", condition.get("message", ""))
                since = condition.get("lastTransitionTime", "")
                waiting.append((since, meta["namespace"], meta["name"], str(status.get("iteration", "")),
                                found.group(1) if found else "-"))  # fmt: skip
    if not waiting:
        print("no task is waiting for sandbox capacity")
        return 0
    rows = [["#", "NAMESPACE", "TASK", "ITER", "QUOTA", "WAITING"]]
    for position, (since, namespace, name, iteration, quota) in enumerate(sorted(waiting), start=1):
        rows.append([str(position), namespace, name, iteration, quota, _age(since)])
    print(_table(rows))
    return 0


def _history(kube: Kubectl, args: argparse.Namespace) -> int:
    task = kube.task(args.task)
    status = task.get("status") or {}
    language = ((task.get("spec") or {}).get("capabilities") or {}).get("language", "python")
    rows = [["ITER", "REVIEW", "EXIT", "SCORE", "TOKENS", "SECONDS", "OUTCOME"]]
    for entry in status.get("history", []):
        rows.append(
            [
                str(entry["iteration"]),
                entry.get("reviewVerdict") or "-",
                str(entry["exitCode"]) if entry.get("exitCode") is not None else "-",
                f"{entry.get('score', 0):.2f}",
                str(entry.get("tokens", 0)),
                f"{entry.get('durationSeconds', 0):.1f}",
                entry.get("reason", ""),
            ]
        )
    current = status.get("current")
    if current:
        rows.append([str(current["iteration"]), (current.get("review") or {}).get("verdict", "-"), "-", "-",
                     str(current.get("tokens", 0)), "-", f"in progress ({status.get('phase')})"])  # fmt: skip
    phase = status.get("phase", "Pending")
    print(f"task {args.task} ({language}): phase {phase}, score {status.get('score')}")
    print(_table(rows) if len(rows) > 1 else "no iterations yet")
    return 0


def _logs(kube: Kubectl, args: argparse.Namespace) -> int:
    status = kube.task(args.task).get("status") or {}
    entries = [*status.get("history", []), *([status["current"]] if status.get("current") else [])]
    wanted = args.iteration or (entries[-1]["iteration"] if entries else None)
    entry = next((e for e in entries if e["iteration"] == wanted), None)
    if entry is None:
        raise PluginError(f"task {args.task} has no iteration {wanted} in its status")
    pod = entry.get("podName")
    if not pod:
        raise PluginError(
            f"iteration {wanted} of {args.task} ran no sandbox pod ({entry.get('reason', 'not run')})"
        )
    if kube.get("pod", pod) is None:
        raise PluginError(
            f"pod {pod} of iteration {wanted} no longer exists; outcome: {entry.get('reason', '-')}"
        )
    # The program's output is captured by its runner and comes back inside the result document, which only
    # the checks container prints.
    log = kube.run("logs", pod, "-c", CHECKS_CONTAINER)
    try:
        result = parse_pod_log(log)
    except RunResultError:
        sys.stdout.write(log)
        return 0
    sys.stdout.write(result.stdout)
    if result.stderr:
        sys.stdout.write(f"--- stderr ---\n{result.stderr}")
    for check in result.checks:
        sys.stdout.write(f"--- {check.name}: {'passed' if check.passed else 'failed'} ({check.reason})\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl level5", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig's)")
    parser.add_argument("--kubeconfig", help="kubeconfig file")
    parser.add_argument("--context", help="kubeconfig context")
    commands = parser.add_subparsers(dest="command", required=True)

    def decision_command(name: str, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_)
        sub.add_argument("name", nargs="?", help="an Approval, or a task (its pending Approval)")
        sub.add_argument(
            "-l", "--selector", help="decide every undecided Approval matching this label selector"
        )
        return sub

    decision_command("approve", "run the code under decision")
    decision_command("reject", "do not run it; the reason is told to the model").add_argument(
        "--reason", required=True, help="why (required)"
    )
    decision_command("override", "run your program instead (it is reviewed first)").add_argument(
        "--file", required=True, type=Path, help="the replacement program"
    )
    decision_command("guide", "a hint for the next generation").add_argument("--hint", required=True)
    decision_command("constrain", "constraints from now on").add_argument(
        "--constraint", required=True, action="append", help="repeatable"
    )
    pause = commands.add_parser("pause", help="stop a task before its next step")
    pause.add_argument("task")
    pause.add_argument("--kill", action="store_true", help="also delete its running sandbox pod")
    commands.add_parser("resume", help="continue a paused task").add_argument("task")
    commands.add_parser("cancel", help="stop a task for good, killing its running pod").add_argument("task")
    pending = commands.add_parser("pending", help="Approvals waiting for a decision")
    pending.add_argument("-A", "--all-namespaces", action="store_true")
    pending.add_argument("--include-review", action="store_true", help="also level C audit items")
    queue = commands.add_parser("queue", help="tasks whose sandbox waits for a ResourceQuota, in order")
    queue.add_argument("-A", "--all-namespaces", action="store_true")
    commands.add_parser("history", help="a task's iterations").add_argument("task")
    logs = commands.add_parser("logs", help="the sandbox output of an iteration (default: the last)")
    logs.add_argument("task")
    logs.add_argument("iteration", nargs="?", type=int)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    kube = Kubectl(args)
    command: str = args.command
    if command == "approve":
        return _decide(kube, args, Decision.APPROVE, {})
    if command == "reject":
        return _decide(kube, args, Decision.REJECT, {"reason": args.reason})
    if command == "override":
        try:
            code = args.file.read_text()
        except OSError as exc:
            raise PluginError(f"--file: cannot read {args.file}: {exc.strerror}") from exc
        return _decide(kube, args, Decision.OVERRIDE, {"overrideCode": code})
    if command == "guide":
        return _steer_or_decide(kube, args, Decision.GUIDE, {"hint": args.hint})
    if command == "constrain":
        return _steer_or_decide(kube, args, Decision.CONSTRAIN, {"constraints": args.constraint})
    if command == "pause":
        mode = "Kill" if args.kill else "Finish"
        return _set_task(kube, args.task, {"paused": True, "pauseMode": mode}, f"paused ({mode})")
    if command == "resume":
        return _set_task(kube, args.task, {"paused": False}, "resumed")
    if command == "cancel":
        return _set_task(kube, args.task, {"cancel": True}, "cancelled")
    if command == "pending":
        return _pending(kube, args)
    if command == "history":
        return _history(kube, args)
    if command == "queue":
        return _queue(kube, args)
    return _logs(kube, args)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
