"""JavaScript tasks end to end on the real cluster: the JavaScript sandbox image (Node.js under its permission
model) in gVisor pods, the JavaScript review, Node's stack traces fed back to the scripted model.

Needs the JavaScript sandbox image in the cluster (sandbox-image/build.sh javascript; its tag in
LEVEL5_SANDBOX_IMAGE_JAVASCRIPT when not the default)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import OperatorProcess, task_pods, wait_terminal
from kube import apply, kubectl
from level5.sandbox.result import RESULT_MARKER
from scripted_model import ScriptedModel
from task_manifests import task

pytestmark = pytest.mark.cluster
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def js(source: str, confidence: float = 0.7) -> str:
    """A model answer carrying JavaScript `source` in a ```javascript fence."""
    return f"```javascript\n{source}\n```\nCONFIDENCE: {confidence}\nUNCERTAINTY: none"


ORDERS_BROKEN = """const fs = require('fs');
const _ = require('lodash');
const orders = JSON.parse(fs.readFileSync('/data/orders.json', 'utf8'));
const totals = _.groupBy(orders, 'customer');
for (const name of Object.keys(totals).sort()) {
  console.log(`${name}: ${totals[name].total.toFixed(2)}`);
}"""

ORDERS_GOOD = """const fs = require('fs');
const _ = require('lodash');
const orders = JSON.parse(fs.readFileSync('/data/orders.json', 'utf8'));
const groups = _.groupBy(orders, 'customer');
for (const name of Object.keys(groups).sort()) {
  console.log(`${name}: ${_.sumBy(groups[name], 'amount').toFixed(2)}`);
}"""


def test_js_sample_feeds_stack_trace_back_and_succeeds(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {"match": "Write the program", "content": js(ORDERS_BROKEN)},
        {"match": "Attempt 1 failed", "content": js(ORDERS_GOOD, 0.9)},
    )
    kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "js-orders.yaml"))
    status = wait_terminal(namespace, "js-orders")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert status["iteration"] == 2 and status["score"] == 1.0
    first = status["history"][0]
    assert "TypeError" in first["reason"], first
    second = model.prompts()[1]
    # Node's real report of the error, parsed: its type, message and the stack down to the program's line.
    assert "Error type: TypeError" in second and "Cannot read properties of undefined" in second
    assert "/code/main.js:6" in second, second
    assert "```javascript" in second and "Node.js 20" in model.prompts()[0]
    assert "ada: 20.00" in status["result"]["stdoutExcerpt"]
    script = [c for c in status["result"]["criteria"] if c["kind"] == "testScript"]
    assert script[0]["passed"], script
    for pod in task_pods(namespace, "js-orders"):
        assert pod["spec"]["runtimeClassName"] == "gvisor"
        containers = pod["spec"]["initContainers"] + pod["spec"]["containers"]
        assert all("sandbox-js" in c["image"] for c in containers)
        program = pod["spec"]["initContainers"][0]
        assert program["securityContext"]["runAsUser"] == 65533 and "/code/main.js" in program["command"]


def test_blocked_child_process_is_fed_back_and_fixed(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {
            "match": "Write the program",
            "content": js(
                "const { execSync } = require('child_process');\nconsole.log(execSync('echo 42').toString());"
            ),
        },
        {"match": "Attempt 1 failed", "content": js("console.log(String(6 * 7));")},
    )
    apply(
        task(
            "js-blocked",
            "Print 42.",
            [{"name": "prints", "outputContains": "42"}],
            capabilities={"language": "javascript"},
        ),
        namespace,
    )
    status = wait_terminal(namespace, "js-blocked")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert status["iteration"] == 2
    assert status["history"][0]["reviewVerdict"] == "block"
    assert "L5-JS-IMPORT-002" in status["history"][0]["reviewRules"]
    second = model.prompts()[1]
    assert "child_process" in second and "L5-JS-IMPORT-002" in second
    assert len(task_pods(namespace, "js-blocked")) == 1  # the blocked code never ran


def test_runtime_policy_stops_what_the_review_cannot_see(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    """A computed path passes the review; Node's permission model refuses it and the run reports a
    PolicyViolation with the runtime rule and the program's line."""
    model.add(
        js(
            "const fs = require('fs');\nconst path = require('path');\n"
            "console.log(fs.readFileSync(['', 'etc', 'hostname'].join(path.sep), 'utf8'));"
        ),
        js("console.log('fine');"),
    )
    apply(
        task(
            "js-runtime",
            "Print fine.",
            [{"name": "prints", "outputContains": "fine"}],
            capabilities={"language": "javascript"},
        ),
        namespace,
    )
    status = wait_terminal(namespace, "js-runtime")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    first = status["history"][0]
    assert first["reviewVerdict"] == "allow", first
    second = model.prompts()[1]
    assert "Error type: PolicyViolation" in second and "L5-RT-READ" in second and "/etc/hostname" in second
    assert "line 3" in second, second


def test_a_forged_result_from_a_javascript_program_counts_for_nothing(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    """The verdict comes only from the checks container's log, as for Python: a JavaScript program that
    prints the result marker with a passing document, and tries to write the report, still fails."""
    forged = json.dumps({"version": 1, "exitCode": 0, "checks": [{"name": "ok", "passed": True}]})
    model.add(
        js(
            "const fs = require('fs');\n"
            f"console.log('\\n{RESULT_MARKER}\\n' + {json.dumps(forged)});\n"
            "const report = ['', 'report', 'program.json'].join('/');\n"
            "try { fs.writeFileSync(report, '{}'); } catch (e) { console.error(e.code); }\n"
            "process.exitCode = 3;"
        ),
        js("console.log('done');"),
    )
    apply(
        task(
            "js-forged",
            "Print done.",
            [{"name": "ok", "exitCode": 0}],
            capabilities={"language": "javascript"},
        ),
        namespace,
    )
    status = wait_terminal(namespace, "js-forged")
    assert status["phase"] == "Succeeded" and status["iteration"] == 2, json.dumps(status, indent=1)
    first = status["history"][0]
    assert first.get("exitCode") == 3 and first["score"] == 0.0, json.dumps(first)
    assert "ERR_ACCESS_DENIED" in model.prompts()[1]
