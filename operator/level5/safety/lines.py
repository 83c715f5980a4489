"""Where the line holding an offset starts and ends, in O(log lines) however long the line is.

Layer 5's detectors ask, for every trigger hit, where its line ends (a search runs to the end of the
line) or starts (a label is looked for before the value). ``text.find("\\n", pos)`` answers in time that
grows with the distance to the line end, so on program output printed as one multi-megabyte line every
hit cost a scan of the rest of the line: quadratic. The newline offsets are found once per text and
each question is a bisection. The standard library's ``bisect`` over a list of offsets is all it needs
(weighed: ``numpy.searchsorted``, no faster for one question at a time, and a dependency).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import accumulate

COLUMN_GAP = re.compile(r"\t| {2,}")
"""The gap between the cells of a column-aligned table (a tab, or two spaces or more), as programs print
their listings."""

NEAR = 4096
"""How far a plain search looks first: almost every line is shorter, and ``str.find`` over a few thousand
characters costs less than a bisection (and than making the index); only a longer line asks the index,
made on that first question. Either way a question costs at most this much scanning."""


class LineIndex:
    """The newline offsets of one text; answers as ``str.find`` and ``str.rfind`` would."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._newlines: list[int] | None = None

    def _offsets(self) -> list[int]:
        if self._newlines is None:
            # Each newline's offset: the previous one's, one for the newline, and the length of the line.
            lines = map(len, self._text.split("\n")[:-1])
            self._newlines = list(accumulate(lines, lambda at, length: at + 1 + length))
        return self._newlines

    def end(self, pos: int) -> int:
        """The offset of the first newline at or after `pos`, or the text's length when there is none
        (``text.find("\n", pos)``, with -1 read as the end of the text); `pos` is not negative."""
        near = self._text.find("\n", pos, pos + NEAR)
        if near >= 0:
            return near
        if pos + NEAR >= len(self._text):
            return len(self._text)
        newlines = self._offsets()
        i = bisect_left(newlines, pos)
        return newlines[i] if i < len(newlines) else len(self._text)

    def start(self, pos: int) -> int:
        """The offset just after the last newline before `pos`, or 0 when there is none
        (``text.rfind("\n", 0, pos) + 1``); `pos` is not negative."""
        near = self._text.rfind("\n", max(0, pos - NEAR), pos)
        if near >= 0 or pos <= NEAR:
            return near + 1
        newlines = self._offsets()
        i = bisect_left(newlines, pos)
        return newlines[i - 1] + 1 if i else 0


_last: tuple[str, LineIndex] | None = None


def line_index(text: str) -> LineIndex:
    """The index of `text`, made once per text: the last one is kept by identity (the detectors of one
    ``redact()`` call ask about the same string; comparing a megabyte of text would cost more)."""
    global _last
    last = _last
    if last is not None and last[0] is text:
        return last[1]
    index = LineIndex(text)
    _last = (text, index)
    return index
