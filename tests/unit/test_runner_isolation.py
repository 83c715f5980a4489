"""The runner refuses to run generated code while the pod's network still answers."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "sandbox-image" / "runner.py"


@pytest.fixture
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("level5_runner", RUNNER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback server that accepts connections: a network that is still open."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                server.accept()[0].close()
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_open_network_refuses_to_run(
    runner: ModuleType, listening_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(listening_port))
    with pytest.raises(runner.IsolationError, match="refusing to run"):
        runner.wait_for_isolation(limit_seconds=1)


def test_refused_connection_still_counts_as_open(runner: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(closed_port))
    with pytest.raises(runner.IsolationError):
        runner.wait_for_isolation(limit_seconds=1)


def test_unanswered_connection_means_isolated(runner: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []

    def dropped(address: tuple[str, int], timeout: float) -> socket.socket:
        calls.append(address)
        raise TimeoutError

    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setattr(runner.socket, "create_connection", dropped)
    runner.wait_for_isolation(limit_seconds=1)
    assert calls == [("10.96.0.1", 443)]


def test_outside_kubernetes_nothing_to_wait_for(runner: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    runner.wait_for_isolation(limit_seconds=0)


def test_gate_constants_match() -> None:
    policy = (RUNNER.parent / "policy.py").read_text()
    assert 'GATE_OPEN = b"go"' in RUNNER.read_text() and 'GATE_OPEN = b"go"' in policy


def _program_dirs(
    tmp_path: Path, runner: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    """A program that leaves a mark, its policy (the sandbox's paths moved under tmp_path), and a report
    directory; the runner's signal and dumpable set-up left out (it would reach this test process)."""
    from local_sandbox import localise

    from level5.api.spec import AgentTaskSpec
    from level5.safety.runtime_policy import policy_document

    spec = AgentTaskSpec.model_validate(
        {"goal": {"primary": "x", "successCriteria": [{"name": "e", "exitCode": 0}]}}
    )
    for name in ("code", "out", "report", "work"):
        (tmp_path / name).mkdir()
    code = tmp_path / "code" / "main.py"
    code.write_text("print('the program ran', flush=True)\n")
    policy = tmp_path / "code" / "policy.json"
    policy.write_text(localise(policy_document(spec), tmp_path))
    monkeypatch.setattr(runner, "CATCHABLE_SIGNALS", ())
    monkeypatch.setattr(runner, "not_dumpable", lambda: None)
    monkeypatch.setattr(runner, "WORK_DIR", tmp_path / "work")
    return code, policy, tmp_path / "report"


def test_the_program_starts_only_after_the_probe_and_never_when_it_refuses(
    tmp_path: Path, runner: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interpreter starts while the network is probed (the gate), but the program's first line runs
    only once the probe went unanswered; when the probe refuses, the gate closes and nothing of it runs."""
    code, policy, report = _program_dirs(tmp_path, runner, monkeypatch)

    def refuses(limit_seconds: float = 20.0) -> None:
        raise runner.IsolationError("network still reachable; refusing to run the code")

    monkeypatch.setattr(runner, "wait_for_isolation", refuses)
    assert runner.run_program(code, policy, report) == 0
    document = json.loads((report / "program.json").read_text())
    assert document["runnerError"].startswith("IsolationError")
    assert "the program ran" not in (report / "stdout.txt").read_text()
    assert "exitCode" not in document

    probed: list[float] = []

    def isolated(limit_seconds: float = 20.0) -> dict[str, object]:
        probed.append(time.monotonic())
        return {"address": "10.96.0.1:443", "attempts": 1}

    monkeypatch.setattr(runner, "wait_for_isolation", isolated)
    assert runner.run_program(code, policy, report) == 0
    document = json.loads((report / "program.json").read_text())
    assert document["runnerError"] is None and document["exitCode"] == 0, document
    assert document["isolationProbe"] == {"address": "10.96.0.1:443", "attempts": 1}
    assert (report / "stdout.txt").read_text() == "the program ran\n" and len(probed) == 1
