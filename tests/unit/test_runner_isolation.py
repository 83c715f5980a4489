"""The runner refuses to run generated code while the pod's network still answers."""

from __future__ import annotations

import importlib.util
import socket
import threading
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
