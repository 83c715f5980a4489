"""The README's table of operator settings names every environment variable the operator reads."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from level5.core.config import OperatorConfig

README = Path(__file__).resolve().parents[2] / "README.md"


class _AskedFor(Mapping[str, str]):
    """An empty environment that records which variables were looked up."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __contains__(self, name: object) -> bool:
        self.names.add(str(name))
        return False

    def __getitem__(self, name: str) -> str:
        self.names.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_every_operator_setting_is_in_the_readme_table() -> None:
    env = _AskedFor()
    OperatorConfig.from_env(env)
    assert len(env.names) >= 30  # the recording works: every setting is looked up
    table = README.read_text(encoding="utf-8").split(
        "Operator settings, read from environment variables:", 1
    )[1]
    table = table.split("\n\n", 2)[1]  # the table itself, after the blank line under its heading
    documented = set(re.findall(r"`(LEVEL5_[A-Z0-9_]+)`", table))
    assert sorted(env.names - documented) == [], "add a row to the README's operator settings table"
