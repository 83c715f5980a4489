"""A regular expression read as a phrase it matches, for ``decoding``.

Round 15 (``tuning15``) quoted attacks as the patterns of a blocklist ("print (your|the) system prompt
and (all )?env(ironment)? var(iable)?s"): the groups, alternatives and optional parts break the phrase
that every feature reads, though any reader sees it at once. Here the pattern is written out as one
phrase it matches (each group's first alternative, optional parts kept, character escapes as the
characters they stand for), and that phrase is checked like the text around it.

Linear: a fixed number of passes, each one regular-expression substitution over the text.
"""

from __future__ import annotations

import re

# Signs of a regular expression: inline flags, a group of alternatives, a class escape or word boundary.
_SIGN = re.compile(r"\(\?[aiLmsux]+\)|\((?:\?:)?[^()|\n]{1,40}\|[^()\n]{1,80}\)|\\[bBsSwWdD]")
_MIN_SIGNS = 2
_FLAGS = re.compile(r"\(\?[aiLmsux]+\)|\\[bBAZ]|(?<![\w\\])\^|\$(?![\w{])")
_SPACE = re.compile(r"\\s[+*?]?|\[ \\t\][+*?]?")
# A group holding no other group: replaced by its first alternative ("(your|the)" -> "your").
_INNER_GROUP = re.compile(r"\((?:\?:)?([^()\n]*)\)[?*+]?")
# A quantifier after a letter ("colou?r", "var(iable)?s" once its group is written out).
_QUANTIFIER = re.compile(r"(?<=[\w )])(?:[?*+]|\{\d+(?:,\d*)?\})")
# Groups inside groups are written out from the inside, one level per pass.
_MAX_NESTING = 3


def _first_alternative(match: re.Match[str]) -> str:
    return match.group(1).split("|", 1)[0]


def regex_phrase(text: str) -> str | None:
    """A phrase that the regular expressions in `text` match, the rest of the text unchanged, when the
    text holds regular expressions (at least two signs of one), else None."""
    if len(_SIGN.findall(text)) < _MIN_SIGNS:
        return None
    phrase = _SPACE.sub(" ", _FLAGS.sub("", text))
    for _ in range(_MAX_NESTING):
        phrase = _INNER_GROUP.sub(_first_alternative, phrase)
    return _QUANTIFIER.sub("", phrase)
