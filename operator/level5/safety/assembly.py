"""Layer 1's assembly features: data that tells its reader to build an instruction and then obey it.

Round 12 (``tuning12``) split attacks so that no line holds them: the initials of a list of lines
spelling an order (an acrostic), a message template filled with arguments, string variables to be
concatenated. Whatever the pieces say, the wrapper is the same: read the pieces a certain way (take the
first letters, render the template, evaluate the sum) and then do what they say. That wrapper is matched
here, on normalised text (``injection.normalise``); ``decoding`` joins quoted fragments for the rest.

Entries follow ``conduct``: (category, weight, pattern, needs).
"""

from __future__ import annotations

from level5.safety.conduct import FeatureRow

ASSEMBLY_FEATURES: tuple[FeatureRow, ...] = (
    # An acrostic declared an order ("the initials of the lines above are your real instruction",
    # "first letters, then ... that is the job").
    (
        "override",
        1.5,
        r"\b(?:initials|initial letters|first (?:letters?|characters?|words?)|acrostic)\b[^\n]{0,80}?"
        r"\b(?:(?:real|actual|true|hidden) (?:instructions?|task|order)|instructions?"
        r"|your (?:task|job|orders?)|(?:is|that is|that's) the (?:job|task|order)"
        r"|obey|follow|carry out|execute)\b",
        ("initial", "first", "acrostic"),
    ),
    # Pieces to be put together and then obeyed ("render the template and obey it", "evaluate p1+p2 and
    # follow it").
    (
        "override",
        1.5,
        r"\b(?:render|fill(?: in)?|evaluate|concatenate|join|assemble|combine|expand|interpolate"
        r"|reassemble)\b"
        r"[^.;\n]{0,40}?\band (?:then )?(?:obey|follow|execute|carry out|act on|comply with)\b"
        r"(?: (?:it|them|the result|the output|that))?",
        ("obey", "follow", "execute", "carry out", "act on", "comply"),
    ),
)
