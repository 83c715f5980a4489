"""The demo task end to end with the embedded real model: the real operator, real gVisor sandbox pods and
Qwen2.5-Coder-1.5B-Instruct served by llama.cpp's server (xllamacpp) on loopback (cluster/local-model.sh;
this fixture installs it on a machine where it is missing: about 35 s, a prebuilt wheel and the hash-pinned
weights). Nothing is scripted: the model writes, debugs and judges the program itself, with the sample's
deterministic decoding (temperature 0, seed 42), within the sample's four iterations. Part of `make test`
(LEVEL5_REAL_MODEL_TEST=0 skips it); README: "The embedded real model" says how long it takes and how often
it passed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import OperatorProcess, running, wait_terminal
from kube import apply
from task_manifests import UNSUPERVISED

pytestmark = [
    pytest.mark.cluster,
    # At temperature 0.2 3 of 5 runs solved the demo task (2026-11-30); decoding greedily, every run since
    # (README, "The embedded real model"). A developer's quick run may leave it out.
    pytest.mark.skipif(os.environ.get("LEVEL5_REAL_MODEL_TEST") == "0", reason="LEVEL5_REAL_MODEL_TEST=0"),
]
ROOT = Path(__file__).resolve().parents[2]
LOCAL_MODEL = ROOT / "cluster" / "local-model.sh"
PORT = "18093"
LOCAL_MODEL_TIMEOUT = "900"


class LocalModel:
    """The local model server this module started: its base URL and served name."""

    def __init__(self) -> None:
        self.base_url = subprocess.run(
            ["bash", str(LOCAL_MODEL), "url", "127.0.0.1", PORT], check=True, capture_output=True, text=True
        ).stdout.strip()
        self.name = subprocess.run(
            ["bash", str(LOCAL_MODEL), "name"], check=True, capture_output=True, text=True
        ).stdout.strip()


@pytest.fixture(scope="module")
def local_model() -> Iterator[LocalModel]:
    # The first run on a machine builds llama-cpp-python and downloads the weights (cached afterwards).
    subprocess.run(["bash", str(LOCAL_MODEL), "up", "127.0.0.1", PORT], check=True, timeout=3600)
    try:
        yield LocalModel()
    finally:
        subprocess.run(["bash", str(LOCAL_MODEL), "down", PORT], check=False)


@pytest.fixture
def real_operator(
    crd: None, namespace: str, local_model: LocalModel, tmp_path: Path, webhook_tls: Path
) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(namespace, local_model, tmp_path / "operator.log", webhook_tls)  # type: ignore[arg-type]
    # The local server answers one request at a time; the operator queues the rest. On a loaded machine the
    # model wrote 2 tokens/s: an 800-token answer outlasts the default 300 s request timeout (and its retry
    # starts the answer over), so this test allows 900 s, as `make demo` does.
    proc.extra_env = {
        "LEVEL5_MODEL_NAME": local_model.name,
        "LEVEL5_MAX_MODEL_CALLS_PER_ENDPOINT": "1",
        "LEVEL5_MODEL_TIMEOUT_SECONDS": LOCAL_MODEL_TIMEOUT,
    }
    with running(proc):
        yield proc


def test_real_model_solves_the_demo_task(real_operator: OperatorProcess, namespace: str) -> None:
    docs = list(yaml.safe_load_all((ROOT / "samples" / "csv-analysis.yaml").read_text()))
    task = next(d for d in docs if d["kind"] == "AgentTask")
    # The sample as a user runs it (temperature 0, at most four iterations), less the person: level C asks
    # one once the same failure repeats (the Stuck trigger), and no person is in this test.
    task["spec"]["autonomy"] = UNSUPERVISED
    apply(docs, namespace)
    status = wait_terminal(namespace, "csv-analysis", timeout=1500)
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    result = status["result"]
    assert "north: 55.00" in result["stdoutExcerpt"]
    assert all(c["passed"] for c in result["criteria"]), result["criteria"]
    # Tokens are what the real model reported for its answers (and the judge's), per iteration too.
    assert status["totals"]["tokens"] > 0
    assert all(entry["tokens"] > 0 for entry in status["history"])
    print(f"real model: {status['iteration']} iteration(s), {status['totals']['tokens']} tokens")
