"""The review's API allow-list and deny list (layer 3), loaded once and answered as lookups.

Deny by default at the API level: a qualified name inside a module of ``policy.ALLOWLIST_MODULES``
must be a public member listed for that module in ``data/api_allowlist.json`` (generated from
the sandbox image by ``make review-allowlist``), and an attribute of a value whose type the review does
not know must be a public attribute of some class of those modules (or one the script defines
itself). ``data/api_denylist.txt`` (hand-written, one reason per entry) then cuts entry points
that read or write outside the task's paths, reach the network or the clipboard, evaluate strings,
deserialise, touch raw memory or change the interpreter for everyone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from level5.api.verdicts import Verdict

DATA_DIR = Path(__file__).resolve().parent / "data"
_DENY_LINE = re.compile(
    r"^(?P<name>\.?[A-Za-z_][\w.]*)\s+(?P<verdict>block|escalate)\s+#\s*(?P<reason>\S.*)$"
)


@dataclass(frozen=True)
class Denial:
    """A deny-list entry: what it does to the verdict and why."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class ApiLists:
    """The allow-list (per module: public name -> kind) and the deny list."""

    modules: dict[str, dict[str, str]]
    attributes: frozenset[str]
    # Qualified callable or method name -> (path parameter, its position; -1 for keyword only).
    path_parameters: dict[str, tuple[str, int]]
    path_methods: dict[str, tuple[str, int]]
    denied: dict[str, Denial]
    denied_attributes: dict[str, Denial]

    def module_of(self, qualified: str) -> tuple[str, list[str]] | None:
        """The longest listed module that `qualified` starts with, and the parts after it."""
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.modules:
                return module, parts[end:]
        return None

    def is_module(self, qualified: str) -> bool:
        found = self.module_of(qualified)
        return found is not None and not found[1]

    def denial(self, qualified: str) -> Denial | None:
        """The deny entry for `qualified` or for an object it is reached through."""
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            entry = self.denied.get(".".join(parts[:end]))
            if entry is not None:
                return entry
        return None

    def member_problem(self, qualified: str) -> str | None:
        """Why `qualified` is not on the allow-list of its module, or None (listed, or not covered)."""
        found = self.module_of(qualified)
        if found is None or not found[1]:
            return None
        module, rest = found
        if rest[0] not in self.modules[module]:
            return f"'{module}.{rest[0]}' is not on the allow-list of {module}"
        return None


def parse_denylist(text: str) -> tuple[dict[str, Denial], dict[str, Denial]]:
    """Qualified-name and attribute-name entries; raises ValueError on a line without a reason."""
    names: dict[str, Denial] = {}
    attributes: dict[str, Denial] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _DENY_LINE.match(line)
        if match is None:
            raise ValueError(f"api_denylist.txt line {number}: expected 'NAME block|escalate  # reason'")
        denial = Denial(Verdict(match["verdict"]), match["reason"].strip())
        name = match["name"]
        if name.startswith("."):
            attributes[name[1:]] = denial
        else:
            names[name] = denial
    return names, attributes


@cache
def api_lists() -> ApiLists:
    """The checked-in lists (read once per process)."""
    document = json.loads((DATA_DIR / "api_allowlist.json").read_text(encoding="utf-8"))
    names, attributes = parse_denylist((DATA_DIR / "api_denylist.txt").read_text(encoding="utf-8"))
    return ApiLists(
        modules={module: dict(table) for module, table in document["modules"].items()},
        attributes=frozenset(document["attributes"]),
        path_parameters={name: (p, i) for name, (p, i) in document["path_parameters"].items()},
        path_methods={name: (p, i) for name, (p, i) in document["path_methods"].items()},
        denied=names,
        denied_attributes=attributes,
    )
