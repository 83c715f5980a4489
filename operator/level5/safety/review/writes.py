"""Which calls of a program write files: the one detector of file writes, used by the Impact escalation
trigger (level5.people.escalation)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

_WRITE_MODES = frozenset("wax+")
# Every call name that writes, moves or deletes files, whatever the receiver: pandas' and numpy's writers,
# pathlib's, shutil's and os's file operations, serialisers that dump to a file.
FILE_WRITERS = frozenset(
    {
        "to_csv", "to_json", "to_excel", "to_parquet", "to_feather", "to_hdf", "to_html", "to_latex",
        "to_markdown", "to_pickle", "to_stata", "to_xml", "to_orc", "to_sql", "savefig", "tofile", "save",
        "savez", "savez_compressed", "savetxt", "write_text", "write_bytes", "mkdir", "makedirs", "remove",
        "unlink", "rmdir", "rename", "replace", "touch", "rmtree", "copy", "copyfile", "move", "dump",
    }
)  # fmt: skip


def file_writes(code: str) -> list[str]:
    """Where the code writes files: 'open(mode=w) line 3', 'to_csv line 7'... (empty when it writes none)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [f"{what} line {line}" for what, line in _writes(tree)]


def _writes(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "open":
            mode = _open_mode(node)
            if mode is None or _WRITE_MODES & set(mode):
                yield f"open(mode={mode or '?'})", node.lineno
        elif name in FILE_WRITERS:
            yield name, node.lineno


def _open_mode(call: ast.Call) -> str | None:
    """The mode of an open() call: 'r' when absent, None when it is computed."""
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return "r"
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return None
