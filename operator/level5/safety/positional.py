"""Values named by their position: a statement that lists its column names once and then rows of values in
the same order, so that a column's name is the key of the value in its place (layer 5, ``redaction.py``).

SQL's ``INSERT INTO customers (id, name, phone) VALUES (1, 'Ann Lee', '+44 20 7946 0000'), (2, ...);``
(in a migration, a dump, a log of statements) prints personal data with no key next to any value. The
column list is read once; each row is read by a small tokenizer that knows SQL's quoting (``''`` inside a
string), nesting (a call such as ``NOW()`` is one value, and not a plain one) and row separators; every
plain value (one string literal or one bare token) comes back with its column's name. PostgreSQL's dump
format, ``COPY customers (id, name, phone) FROM stdin;`` then one tab-separated line per row up to ``\\.``,
is read the same way. The redactor
checks it by the kind the column names, as it checks a value under any key (``fields.py``; a person's
name under a column that names a person). One pass from the statement's head to the end of its last row:
linear in the text, and a statement is read once however many rows it has.
"""

from __future__ import annotations

import re

HEAD = r"(?:insert[ \t]+(?:ignore[ \t]+)?into|copy)[ \t]+[^\s(]+[ \t]*\("
"""The head of a statement with a column list, up to its opening bracket (lower case: the redactor
matches it on the lower-cased text)."""

Cell = tuple[int, int, str]
"""(start, end, column) of a plain value: inside its quotes for a string literal."""

_COLUMN = re.compile(r"[^\W\d][\w$]*")
_COLUMNS_REACH = 4000
"""The longest column list read (a bound, so a bracket left open does not send the search to the end)."""
_VALUES = re.compile(r"\)[ \t\r\n]*values[ \t\r\n]*\(", re.IGNORECASE)
_FROM_STDIN = re.compile(r"\)[ \t]*from[ \t]+stdin\b[^\n]*\n", re.IGNORECASE)
_COPY_END = "\\."
"""The line that ends a COPY block's rows."""
_NEXT_ROW = re.compile(r"[ \t\r\n]*,[ \t\r\n]*\(")
# One token of a row: a string literal ('' or a backslash escapes a quote), a bracket, a comma, or a run of
# anything else (a number, NULL, a function's name, spaces).
_TOKEN = re.compile(r"'(?:[^'\\]|''|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[(),]|[^'\"(),]+")


def columns(text: str, start: int) -> tuple[list[str], re.Match[str]] | None:
    """The column names of the list that opens at `start` (after its bracket), lower case and unquoted,
    and what follows the list (``) VALUES (`` or ``) FROM stdin;`` and its line break); None when no plain
    list and neither follow."""
    close = text.find(")", start, start + _COLUMNS_REACH)
    if close == -1:
        return None
    names = [name.strip(' \t\r\n`"[]').lower() for name in text[start:close].split(",")]
    rows = _VALUES.match(text, close) or _FROM_STDIN.match(text, close)
    if rows is None or not all(_COLUMN.fullmatch(name) for name in names):
        return None
    return names, rows


def _row(text: str, pos: int) -> tuple[list[tuple[int, int] | None] | None, int]:
    """The values of the row whose bracket opened before `pos` ((start, end) of each plain one, None for
    one that is not), and where the row ends; no values when the text ends inside it or a quote is left
    open (then where the reading stopped)."""
    values: list[tuple[int, int] | None] = []
    depth = 1
    current: tuple[int, int] | bool | None = None  # None: nothing yet; False: not a plain value
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            return None, pos
        piece, pos = m.group(), m.end()
        if piece == "(":
            depth, current = depth + 1, False
        elif piece == ")" and depth > 1:
            depth -= 1
        elif piece in (")", ","):
            values.append(current if isinstance(current, tuple) else None)
            if piece == ")":
                return values, pos
            current = None
        elif depth == 1 and not piece.isspace():
            if piece[0] in "'\"":
                span = (m.start() + 1, m.end() - 1)
            else:
                lead = len(piece) - len(piece.lstrip())
                span = (m.start() + lead, m.start() + len(piece.rstrip()))
            current = span if current is None else False


def cells(text: str, start: int) -> tuple[list[Cell], int]:
    """The plain values of the statement whose column list opens at `start`, each with its column's name,
    and where the scan stopped (the end of the last row read)."""
    head = columns(text, start)
    if head is None:
        return [], start
    names, rows = head
    if rows.re is _FROM_STDIN:
        return _copy_rows(text, names, rows.end())
    found: list[Cell] = []
    pos = rows.end()
    while True:
        values, pos = _row(text, pos)
        if values is None:
            return found, pos
        found += [(*value, name) for name, value in zip(names, values, strict=False) if value is not None]
        more = _NEXT_ROW.match(text, pos)
        if more is None:
            return found, pos
        pos = more.end()


def _copy_rows(text: str, names: list[str], pos: int) -> tuple[list[Cell], int]:
    """The values of a COPY block's tab-separated lines from `pos` up to its ``\\.`` line (``\\N``: NULL)."""
    found: list[Cell] = []
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        line = text[pos:end]
        if line.rstrip("\r") == _COPY_END or "\t" not in line:
            return found, end
        cell = pos
        for name, value in zip(names, line.rstrip("\r").split("\t"), strict=False):
            if value and value != "\\N":
                found.append((cell, cell + len(value), name))
            cell += len(value) + 1
        pos = end + 1
    return found, pos
