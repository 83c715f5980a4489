"""JavaScript tasks without a cluster: the spec's checks, the pod, answer parsing, the review (rules and the
corpus by half), the runner's parsing of Node's stack traces and Node's runtime policy run locally."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import ValidationError

from js_corpus import CORPUS, verdicts
from level5.api.spec import IMAGE_LIBRARIES, AgentTaskSpec, Language
from level5.core.config import OperatorConfig
from level5.core.layout import NODE_LAUNCHER_PATH
from level5.model.answers import parse_answer
from level5.safety.review.javascript import javascript_writes, review_javascript
from level5.safety.review.languages import review_program
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import TaskRef, code_config_map, sandbox_pod

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox-image"


def js_spec(**capabilities: object) -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(
        {
            "goal": {"primary": "x", "successCriteria": [{"name": "ok", "exitCode": 0}]},
            "capabilities": {"language": "javascript", **capabilities},
        }
    )


def rules(source: str) -> set[str]:
    return {f.rule for f in review_javascript(source, allowed_libraries=["lodash"], max_lines=200).findings}


# The spec -----------------------------------------------------------------------------------------------
def test_image_libraries_are_the_lockfile() -> None:
    package = json.loads((SANDBOX / "javascript" / "package.json").read_text())
    lock = json.loads((SANDBOX / "javascript" / "package-lock.json").read_text())
    assert set(package["dependencies"]) == set(IMAGE_LIBRARIES[Language.JAVASCRIPT])
    assert {f"node_modules/{name}" for name in package["dependencies"]} <= set(lock["packages"])


def test_allowed_libraries_must_be_in_the_javascript_image() -> None:
    assert js_spec(allowedLibraries=["lodash", "moment"]).capabilities.language is Language.JAVASCRIPT
    with pytest.raises(ValidationError, match=r"allowedLibraries: axios not in the JavaScript sandbox"):
        js_spec(allowedLibraries=["lodash", "axios"])


def test_javascript_test_scripts_need_the_javascript_sandbox() -> None:
    criteria = [{"name": "t", "testScript": "process.exit(0)", "testScriptLanguage": "javascript"}]
    with pytest.raises(ValidationError, match="testScriptLanguage: javascript test scripts run only"):
        AgentTaskSpec.model_validate({"goal": {"primary": "x", "successCriteria": criteria}})


# The pod ------------------------------------------------------------------------------------------------
def test_javascript_pod_uses_its_image_main_js_and_nodes_launcher() -> None:
    spec = AgentTaskSpec.model_validate(
        {
            "goal": {
                "primary": "x",
                "successCriteria": [{"name": "t", "testScript": "1", "testScriptLanguage": "javascript"}],
            },
            "capabilities": {"language": "javascript"},
        }
    )
    task = TaskRef(name="t", namespace="ns", uid="u")
    config = OperatorConfig(sandbox_image="py:1", sandbox_image_javascript="js:1")
    pod = sandbox_pod(task, spec, "t-1", 1, config)
    program, checks = pod["spec"]["initContainers"][0], pod["spec"]["containers"][0]
    assert program["image"] == checks["image"] == "js:1"
    assert program["command"][-4:] == ["--policy-runner", NODE_LAUNCHER_PATH, "--report", "/report"]
    assert "/code/main.js" in program["command"]
    data = code_config_map(task, spec, "t-1", 1, "console.log(1)\n", policy_document(spec))["data"]
    assert data["main.js"] == "console.log(1)\n" and "test_0.js" in data
    assert (
        "main.py" not in data and json.loads(data["checks.json"])["checks"][0]["path"] == "/checks/test_0.js"
    )
    allowed = json.loads(policy_document(spec))["allowedModules"]
    assert "fs" in allowed and "child_process" not in allowed


def test_python_pod_is_unchanged() -> None:
    spec = AgentTaskSpec.model_validate(
        {"goal": {"primary": "x", "successCriteria": [{"name": "o", "exitCode": 0}]}}
    )
    pod = sandbox_pod(
        TaskRef(name="t", namespace="n", uid="u"), spec, "t-1", 1, OperatorConfig(sandbox_image="py:1")
    )
    assert pod["spec"]["initContainers"][0]["image"] == "py:1"
    assert "--policy-runner" not in pod["spec"]["initContainers"][0]["command"]


# Answers ------------------------------------------------------------------------------------------------
def test_javascript_fences_are_taken_and_python_ones_are_not() -> None:
    answer = "```python\nprint(1)\n```\n```javascript\nconsole.log(1);\n```\nCONFIDENCE: 0.8"
    assert parse_answer(answer, Language.JAVASCRIPT).code == "console.log(1);\n"
    assert parse_answer(answer).code == "print(1)\n"
    missing = parse_answer("```python\nprint(1)\n```", Language.JAVASCRIPT)
    assert missing.code is None and "```javascript" in (missing.problem or "")
    assert "JavaScript program" in (missing.problem or "")


def test_javascript_without_fences_is_the_program_and_prose_is_not() -> None:
    bare = "Here is the program:\nconst _ = require('lodash');\nconsole.log(_.sum([1, 2]));\nCONFIDENCE: 0.9"
    assert parse_answer(bare, Language.JAVASCRIPT).code == (
        "const _ = require('lodash');\nconsole.log(_.sum([1, 2]));\n"
    )
    assert parse_answer("I cannot write this program.", Language.JAVASCRIPT).code is None
    assert parse_answer("```\nconsole.log(2)\n```", Language.JAVASCRIPT).code == "console.log(2)\n"


# The review ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("require('child_process')", "L5-JS-IMPORT-002"),
        ("require('left-pad')", "L5-JS-IMPORT-001"),
        ("require(name)", "L5-JS-IMPORT-003"),
        ("import('v' + 'm')", "L5-JS-IMPORT-002"),
        ("eval('1')", "L5-JS-EVAL-001"),
        ("this.constructor.constructor('return process')()", "L5-JS-PROP-001"),
        ("Object.prototype.x = 1", "L5-JS-PROTO-001"),
        ("require('fs').readFileSync('/etc/passwd')", "L5-JS-FS-001"),
        ("require('fs').writeFileSync('/data/x', '')", "L5-JS-FS-002"),
        ("process.binding('fs')", "L5-JS-PROC-001"),
        ("globalThis[k]()", "L5-JS-OPAQUE-001"),
        ("const x = ;", "L5-SYNTAX-001"),
    ],
)
def test_review_rules(source: str, rule: str) -> None:
    assert rule in rules(source)


def test_review_allows_ordinary_code_and_escalates_what_it_cannot_resolve() -> None:
    ordinary = (
        "const _ = require('lodash');\nclass A { constructor(x) { this.x = x; } }\n"
        "console.log(_.sum([new A(1).x]));"
    )
    assert review_javascript(ordinary, allowed_libraries=["lodash"], max_lines=10).verdict == "allow"
    assert (
        review_javascript("const r = require; r('fs')", allowed_libraries=[], max_lines=10).verdict
        == "escalate"
    )


def test_syntax_errors_come_back_like_a_compiler_report() -> None:
    result = review_program("let x = ;\n", language=Language.JAVASCRIPT, allowed_libraries=[], max_lines=10)
    assert result.only_a_syntax_error and result.compile_error is not None
    assert result.compile_error.startswith("main.js:1\nlet x = ;") and "SyntaxError" in result.compile_error


def test_corpus_halves() -> None:
    """Every escape blocked or escalated, every benign program allowed: all of the tuning half; the held-out
    half as measured on 2026-11-30 (README, 'JavaScript tasks'), which a regression must not lower."""
    assert sorted(p.name for p in (CORPUS / "escapes").iterdir()) and sorted(
        p.name for p in (CORPUS / "benign").iterdir()
    )
    caught = {half: [v != "allow" for _, _, v in verdicts("escapes", half)] for half in ("tuning", "heldout")}
    allowed = {half: [v == "allow" for _, _, v in verdicts("benign", half)] for half in ("tuning", "heldout")}
    assert all(caught["tuning"]) and len(caught["tuning"]) == 43
    assert all(allowed["tuning"]) and all(allowed["heldout"])
    assert sum(caught["heldout"]) >= 37 and len(caught["heldout"]) == 40


def test_javascript_file_writes_fire_the_impact_trigger() -> None:
    code = "const fs = require('fs');\nconsole.log(1);\nfs.writeFileSync('/output/r.txt', 'x');\n"
    assert javascript_writes(code) == ["writeFileSync line 3"]
    assert javascript_writes("console.log(require('fs').readFileSync('/data/x'))") == []


# The runner and Node's runtime policy -------------------------------------------------------------------
def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sandbox_runner", SANDBOX / "runner.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_node_stack_traces_are_parsed() -> None:
    stderr = (
        "progress\n/code/main.js:5\nfunction f(o) { return o.a.b; }\n                           ^\n\n"
        "TypeError: Cannot read properties of undefined (reading 'b')\n    at f (/code/main.js:5:28)\n"
        "    at Object.<anonymous> (/code/main.js:6:1)\n\nNode.js v20.19.2\n"
    )
    error = load_runner().parse_error(stderr, 1, False, 10)
    assert (
        error["type"] == "TypeError"
        and error["message"] == "Cannot read properties of undefined (reading 'b')"
    )
    assert (
        error["traceback"].startswith("/code/main.js:5\n")
        and "at f (/code/main.js:5:28)" in error["traceback"]
    )


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs node (Node.js 20) on the machine")
@pytest.mark.parametrize(
    ("code", "rule", "attempted"),
    [
        ("require('fs').readFileSync('/etc/hostname')", "L5-RT-READ", "/etc/hostname"),
        ("require('child_process')", "L5-RT-IMPORT", "child_process"),
        ("import('vm').then((vm) => vm.runInThisContext('1'))", "L5-RT-EXEC", "runInThisContext"),
    ],
)
def test_node_permission_model_reports_policy_violations(
    tmp_path: Path, code: str, rule: str, attempted: str
) -> None:
    """Node with node_launch.py's flags and node_preload.js, run by the real runner's program mode."""
    (tmp_path / "code").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "report").mkdir()
    (tmp_path / "code" / "main.js").write_text(code + "\n")
    policy = json.loads(policy_document(js_spec()))
    policy.update(
        workDir=str(tmp_path / "out"), readRoots=[str(tmp_path / "code")], writeRoots=[str(tmp_path / "out")]
    )
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    launcher = SANDBOX / "node_launch.py"
    argv = [
        sys.executable,
        "-I",
        str(SANDBOX / "runner.py"),
        "program",
        "--code",
        str(tmp_path / "code" / "main.js"),
    ]
    argv += ["--policy", str(tmp_path / "policy.json"), "--report", str(tmp_path / "report")]
    argv += ["--policy-runner", str(launcher)]
    subprocess.run(argv, check=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    report = json.loads((tmp_path / "report" / "program.json").read_text())
    assert report["exitCode"] == 86, report
    assert report["policyViolation"]["rule"] == rule and attempted in report["policyViolation"]["attempted"]
    assert report["policyViolation"]["line"] == 1
