"""The runtime policy (sandbox-image/policy.py) run for real: each denied action, reached directly, through
the standard library and through reflection, stops the program with its rule; what benign programs do
passes. Routes through pandas and numpy run in the real sandbox image
(tests/cluster/test_trust_boundaries.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from local_sandbox import RUNNER, localise

from level5.api.spec import AgentTaskSpec
from level5.safety.runtime_policy import policy_document

POLICY = RUNNER.parent / "policy.py"
SPEC = AgentTaskSpec.model_validate(
    {"goal": {"primary": "x", "successCriteria": [{"name": "exit", "exitCode": 0}]}}
)

DENIED = {
    # rule: {route: program}
    "L5-RT-IMPORT": {
        "direct": "import subprocess",
        "already-loaded": "import os",
        "reflection": "__import__('o' + 's')",
        "builtins-dict": "import builtins",
    },
    "L5-RT-READ": {
        "direct": "open('/etc/passwd').read()",
        "relative": "open('../../../../../../etc/hostname').read()",
        "csv-module": "import csv\nlist(csv.reader(open('/etc/passwd')))",
        "io-module": "import io\nio.open('/etc/passwd').read()",
    },
    "L5-RT-WRITE": {
        "direct": "open('/tmp/level5-policy-probe', 'w').write('x')",
        "append": "open('/etc/level5-probe', 'a')",
        "logging": "import logging\nlogging.basicConfig(filename='/tmp/level5-policy.log')",
    },
    "L5-RT-EXEC": {
        "exec": "exec('print(1)')",
        "eval-through-getattr": "getattr(__builtins__, 'ev' + 'al')('1 + 1')",
        "partial": "import functools\nfunctools.partial(eval, '2')()",
        "map": "list(map(eval, ['3']))",
        "compile": "compile('x = 1', 'f', 'exec')",
    },
    "L5-RT-INTROSPECT": {
        "getframe": "import sys\nsys._getframe(1).f_globals",
        "traceback-frame": "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame",
        "generator-frame": "(x for x in []).gi_frame",
        "code-object": "(lambda: 0).__code__",
    },
}
# Routes that first need a module the import rule denies: run with those modules allowed, to show the
# action's own rule holds on its own (as if the import check had been bypassed).
UNLOCKED = {
    "L5-RT-DESERIALISE": {
        "marshal": "import marshal\nmarshal.loads(marshal.dumps(1))",
        "pickle": "import pickle\npickle.loads(b'cbuiltins\\nOverflowError\\n.')",
    },
    "L5-RT-PROCESS": {
        "os-system": "import os\nos.system('true')",
        "subprocess": "import subprocess\nsubprocess.run(['true'])",
        "fork": "import os\nos.fork()",
    },
    "L5-RT-NETWORK": {
        "socket": "import socket\nsocket.socket()",
        "dns": "import socket\nsocket.getaddrinfo('example.org', 80)",
        "urllib": "import urllib.request\nurllib.request.urlopen('http://10.0.0.1/')",
    },
    "L5-RT-NATIVE": {"ctypes": "import ctypes\nctypes.CDLL(None)"},
    "L5-RT-SIGNAL": {"kill": "import os\nos.kill(1, 9)"},
    "L5-RT-WRITE": {"symlink": "import os\nos.symlink('/etc/passwd', 'passwd')"},
    "L5-RT-LIMITS": {"mmap": "import mmap\nmmap.mmap(-1, 4096)"},
}
UNLOCKED_MODULES = ["os", "subprocess", "socket", "urllib", "ctypes", "marshal", "pickle", "mmap"]


def run_policed(tmp_path: Path, code: str, policy: dict[str, object] | None = None) -> tuple[int, str, str]:
    """Run `code` under the policy as the runner does; returns exit code, stdout, and the report line."""
    for name in ("code", "out"):
        (tmp_path / name).mkdir(exist_ok=True)
    program = tmp_path / "code" / "main.py"
    program.write_text(code + "\n")
    policy_file = tmp_path / "code" / "policy.json"
    policy_file.write_text(localise(json.dumps(policy or json.loads(policy_document(SPEC))), tmp_path))
    report = tmp_path / "report.jsonl"
    with report.open("w") as sink:
        proc = subprocess.run(
            [
                sys.executable,
                "-I",
                "-u",
                str(POLICY),
                "--policy",
                str(policy_file),
                "--report-fd",
                "3",
                str(program),
            ],
            cwd=tmp_path / "out",
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=(3,),
            preexec_fn=lambda: os.dup2(sink.fileno(), 3),
        )
    return proc.returncode, proc.stdout, report.read_text()


CASES = [
    (rule, route, code, unlocked)
    for table, unlocked in ((DENIED, False), (UNLOCKED, True))
    for rule, routes in table.items()
    for route, code in routes.items()
]


@pytest.mark.parametrize(
    ("rule", "route", "code", "unlocked"), CASES, ids=[f"{r}-{route}" for r, route, _, _ in CASES]
)
def test_denied_action_stops_the_program(
    tmp_path: Path, rule: str, route: str, code: str, unlocked: bool
) -> None:
    policy = json.loads(policy_document(SPEC))
    if unlocked:
        policy["allowedModules"] += UNLOCKED_MODULES
        policy["deniedModules"] = [
            m for m in policy["deniedModules"] if m.split(".")[0] not in UNLOCKED_MODULES
        ]
    program = "print('start')\ntry:\n" + "".join(f"    {line}\n" for line in code.splitlines())
    program += "except BaseException:\n    print('swallowed')\nprint('end')"
    exit_code, stdout, report = run_policed(tmp_path, program, policy)
    assert exit_code == 86, (stdout, report)
    assert stdout == "start\n"  # stopped at once: no except clause ran, nothing after it
    record = json.loads(report.splitlines()[0])
    assert record["rule"] == rule and isinstance(record["line"], int) and record["line"] >= 3


BENIGN = {
    "stdlib": "import json, csv, re, math, statistics, collections, itertools, functools, decimal\n"
    "print(json.dumps({'a': statistics.mean([1, 2, 3])}), decimal.Decimal('1.10') + 1)",
    "namedtuple-and-dataclass": "import collections, dataclasses\nP = collections.namedtuple('P', 'x y')\n"
    "@dataclasses.dataclass\nclass D:\n    a: int\nprint(P(1, 2), D(3))",
    "strptime-and-codecs": "import datetime\nprint(datetime.datetime.strptime('2024-02-03', '%Y-%m-%d'))\n"
    "print('é'.encode('latin-1'), 'x'.encode('idna'))",
    "write-output": "open('result.txt', 'w').write('ok')\nprint(open('result.txt').read())",
    "traceback": "import typing\nx: typing.List[int] = []\nraise ValueError('boom')",
}


@pytest.mark.parametrize(("name", "code"), BENIGN.items(), ids=BENIGN)
def test_benign_programs_run(tmp_path: Path, name: str, code: str) -> None:
    exit_code, stdout, report = run_policed(tmp_path, code)
    assert report == "", report
    assert exit_code == (1 if name == "traceback" else 0), stdout
