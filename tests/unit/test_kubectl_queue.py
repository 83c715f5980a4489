"""`kubectl level5 queue`: the tasks whose sandbox pod waits for a ResourceQuota, longest waiting first."""

from __future__ import annotations

import json

import pytest

from level5.tools import kubectl_plugin


def task(name: str, since: str | None) -> dict[str, object]:
    conditions = []
    if since is not None:
        conditions.append(
            {
                "type": "SandboxQueued",
                "status": "True",
                "reason": "QuotaExceeded",
                "message": "waiting for capacity: ResourceQuota team-quota refused the sandbox pod (...)",
                "lastTransitionTime": since,
            }
        )
    return {
        "metadata": {"name": name, "namespace": "team"},
        "status": {"iteration": 2, "phase": "Executing", "conditions": conditions},
    }


def test_queue_lists_waiting_tasks_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [
        task("late", "2026-11-30T10:00:05Z"),
        task("running", None),
        task("early", "2026-11-30T10:00:01Z"),
    ]
    calls: list[tuple[str, ...]] = []

    def run(self: kubectl_plugin.Kubectl, *argv: str, namespaced: bool = True) -> str:
        calls.append(argv)
        return json.dumps({"items": items})

    monkeypatch.setattr(kubectl_plugin.Kubectl, "run", run)
    monkeypatch.setattr(kubectl_plugin.shutil, "which", lambda _: "/usr/bin/kubectl")
    assert kubectl_plugin.run(["queue", "-A"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["#", "NAMESPACE", "TASK", "ITER", "QUOTA", "WAITING"]
    assert lines[1].split()[:5] == ["1", "team", "early", "2", "team-quota"]
    assert lines[2].split()[:3] == ["2", "team", "late"] and len(lines) == 3
    assert calls[0][:2] == ("get", "agenttasks") and "--all-namespaces" in calls[0]
    items[:] = [task("running", None)]
    assert kubectl_plugin.run(["queue"]) == 0
    assert "no task is waiting" in capsys.readouterr().out
