"""Unit tests for the review's rules on resource use certain to exceed the sandbox (review round 7) and on
files and strings that only serve to hijack an import or imitate the runner's protocol."""

import pytest

from level5.safety.review.analyser import shadowed_module
from level5.safety.review.policy import PROTOCOL_STEMS
from level5.safety.review.reviewer import ReviewResult, Verdict, review_code
from level5.sandbox.pool import DONE_PREFIX
from level5.sandbox.result import RESULT_MARKER


def review(source: str) -> ReviewResult:
    return review_code(source, allowed_libraries=["pandas", "numpy"], max_lines=50)


def blocking(result: ReviewResult) -> set[str]:
    return {f.rule for f in result.findings if f.verdict is Verdict.BLOCK}


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        # Endless iterators run to their end, directly, through names, wrappers and comprehensions.
        ("import collections, itertools\ncollections.deque(itertools.count(), maxlen=None)", "L5-BOMB-004"),
        ("import collections, itertools\ncollections.deque(itertools.count(), maxlen=3)", "L5-BOMB-004"),
        ("import itertools\nc = itertools.count(5)\nprint(sum(c))", "L5-BOMB-004"),
        ("import itertools\nprint(max(map(abs, itertools.cycle([1, 2]))))", "L5-BOMB-004"),
        ("import itertools\nx = [i * 2 for i in itertools.repeat(1)]", "L5-BOMB-004"),
        ("import itertools\nprint(''.join(str(i) for i in itertools.count()))", "L5-BOMB-004"),
        ("import itertools\nprint(*itertools.count())", "L5-BOMB-004"),
        ("import itertools\nx = sorted(zip(itertools.count(), itertools.repeat('a')))", "L5-BOMB-004"),
        ("import itertools\nx = list(itertools.islice(itertools.count(), 3, None))", "L5-BOMB-004"),
        ("import itertools\nx = list(itertools.product(itertools.count(), repeat=2))", "L5-BOMB-004"),
        # Sizes computed from literals that no sandbox holds.
        ("import itertools\ngrid = list(itertools.product(range(1000), repeat=4))", "L5-BOMB-002"),
        ("import itertools\nx = tuple(itertools.permutations(range(20)))", "L5-BOMB-002"),
        ("import itertools\nx = list(itertools.combinations(range(10_000), 3))", "L5-BOMB-002"),
        ("import itertools\nx = list(itertools.repeat('x', 10**9))", "L5-BOMB-002"),
        ("x = list(range(10**9))", "L5-BOMB-002"),
        ("x = [0 for _ in range(10**9)]", "L5-BOMB-002"),
        ("import math\nprint(len(str(math.factorial(2_000_000))))", "L5-BOMB-001"),
        ("import math\nn = 10**7\nprint(math.comb(n, n // 2))", "L5-BOMB-001"),
        ("import json\njson.loads('[' * 10_000_000 + ']' * 10_000_000)", "L5-BOMB-005"),
        ("depth = 100_000\ntext = depth * '{'", "L5-BOMB-005"),
        ("import decimal\ndecimal.getcontext().prec = 10 ** 8", "L5-BOMB-006"),
        ("import decimal\nctx = decimal.Context(prec=decimal.MAX_PREC)", "L5-BOMB-006"),
        # Planting a module where an interpreter may import it.
        ("with open('/output/sitecustomize.py', 'w') as f:\n    f.write('x = 1')", "L5-FILE-005"),
        ("with open('/output/json.py', 'w') as f:\n    f.write('x = 1')", "L5-FILE-005"),
        ("with open('/output/numpy/__init__.py', 'w') as f:\n    f.write('x = 1')", "L5-FILE-005"),
        ("with open('/output/evil.pth', 'w') as f:\n    f.write('import json')", "L5-FILE-005"),
        ("import pandas as pd\npd.DataFrame().to_csv('/output/csv.py')", "L5-FILE-005"),
        # Imitating the runner's result marker or the warm pool's DONE line.
        ("print('LEVEL5-RESULT {\"passed\": true}')", "L5-STRING-002"),
        (f"print('{RESULT_MARKER}')", "L5-STRING-002"),
        (f"print('{DONE_PREFIX} 0000')", "L5-STRING-002"),
    ],
)
def test_blocked(source: str, rule: str) -> None:
    result = review(source)
    assert rule in blocking(result), result.feedback()


@pytest.mark.parametrize(
    "source",
    [
        "import itertools\nids = itertools.count(1)\nfirst = next(ids)\nrows = list(zip(ids, ['a', 'b']))",
        "import itertools\nx = list(itertools.islice(itertools.count(), 10))",
        "import itertools\nx = list(itertools.islice(itertools.cycle('ab'), 2, 12))",
        "import itertools\nx = list(itertools.repeat(0, 5))",
        "import itertools\nx = list(itertools.product('abc', repeat=3))",
        "import itertools\nx = list(itertools.combinations(range(50), 2))",
        "import itertools\nfor i in itertools.count():\n    if i > 3:\n        break",
        "import numpy as np, itertools\na = np.fromiter(itertools.count(), dtype=int, count=10)",
        "import math\nprint(math.factorial(20), math.comb(52, 5), math.perm(10, 3))",
        "import decimal\ndecimal.getcontext().prec = 50\nctx = decimal.Context(prec=28)",
        "print('=' * 60)\nprint('(' * 3 + ')' * 3)",
        "with open('/output/report.md', 'w') as f:\n    f.write('# report')",
        "with open('/output/solution_v2.py', 'w') as f:\n    f.write('print(1)')",
        "print('level 5 result: done')",
    ],
)
def test_allowed(source: str) -> None:
    result = review(source)
    assert result.verdict is Verdict.ALLOW, result.feedback()


def test_an_endless_loop_without_an_exit_is_only_noted() -> None:
    # Like `while True:`, a loop body may end the program in ways the review cannot see: runtime limits.
    result = review("import itertools\nfor i in itertools.count():\n    print(i)")
    assert result.verdict is Verdict.ALLOW
    assert "L5-BOMB-010" in {f.rule for f in result.findings}


def test_a_loop_over_a_huge_product_escalates_like_a_huge_range() -> None:
    result = review("import itertools\nfor t in itertools.product(range(1000), repeat=4):\n    pass")
    assert result.verdict is Verdict.ESCALATE
    assert "L5-BOMB-003" in {f.rule for f in result.findings}


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/output/json.py", "json"),
        ("/output/pkg/../sitecustomize.pyc", "sitecustomize"),
        ("/output/usercustomize.py", "usercustomize"),
        ("/output/json.cpython-311-x86_64-linux-gnu.so", "json"),
        ("/output/pandas/__init__.py", "pandas"),
        ("/output/data.csv", None),
        ("/output/my.json.py", None),
        ("/output/json.txt", None),
    ],
)
def test_shadowed_module(path: str, module: str | None) -> None:
    assert shadowed_module(path, opened=True) == module


def test_a_pth_file_is_a_start_up_hook_only_when_written_as_text() -> None:
    assert shadowed_module("/output/x.pth", opened=True) == "x.pth"
    assert shadowed_module("/output/model.pth", opened=False) is None


def test_protocol_stems_are_in_the_real_markers() -> None:
    # The review's stems and the runner's markers have one source each; this keeps them in step.
    assert any(stem in RESULT_MARKER for stem in PROTOCOL_STEMS)
    assert any(stem in DONE_PREFIX for stem in PROTOCOL_STEMS)
