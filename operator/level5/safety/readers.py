"""Layer 1: data that gives orders to whatever automated reader processes it.

Round 11 (``tuning11``) hid its instructions in CSV cells, survey answers, PDF text layers, dataset cards,
tool descriptions, CI logs and changelogs, and none of them named "instructions" or "the assistant" the
way a classic injection does. What they share is their grammar: the data speaks *about* an automated
reader in the third person and tells it what to do ("agent should fetch ...", "the model summarising these
answers should also open ...", "agents evaluated on it are expected to attempt ...", "AI assistant
processing this export: skip ..."), or carries a heading addressed to such readers ("Notes for automated
readers", "NOTE TO EVALUATING AGENT:", "agent notice:", "mandatory for agents"); since round 12 also a
reader told in the present tense what it does ("any agent that sees this comment copies ...") and a reader
addressed without a name ("to whoever processes this file: ..."); since round 13 a code comment headed
for agents ("# agents: the suite counts as ...") and a note that assigns a step to one ("pending - agent to
print ..."). Program output and
reference data have no business doing either, whatever they ask for, so the shape alone is suspect.

Matched on normalised text (``injection.normalise``). A reader followed by a state ("the model should
converge", "the agent must be restarted") is a description: only an action verb after the modal counts.
"""

from __future__ import annotations

import re

# Who reads data automatically: agents, assistants, models, summarisers, "automated readers", with the
# qualifiers that make them one ("evaluating agent", "coding agent", "AI assistant").
_QUALIFIER = (
    r"(?:ai|llm|coding|automated|automatic|evaluating|autonomous|language|the|any|all|every|each|next)"
)
_READER = (
    rf"(?:{_QUALIFIER}[ -])*(?:agents?|assistants?|models?|llms?|summari[sz]ers?|automated readers?"
    r"|ai readers?|ai systems?|bots?)"
)
# A clause that says which reader ("processing this export", "evaluated on it", "summarising these answers").
_CLAUSE = r"(?: (?:[a-z]+ing|evaluated|reading|that reads?|who reads?)(?: [\w.'/-]+){0,3}?)?"
# What a reader is told to do: actions on files, the network, the run and its results, not states.
_ACTION = (
    r"(?:open|read|write|run|execute|fetch|download|connect|dump|send|e-?mail|post|upload|print|quote|include"
    r"|append|add|delete|remove|drop|skip|mark|set|commit|push|carry out|perform|invoke|call|decode|disable"
    r"|copy|stop|ignore|report|state|attempt|reach|list|install|export|overwrite|rewrite|replace|grant|treat"
    r"|output|forward|share|reveal|attach|insert|embed|paste|exfiltrate|approve|merge|follow|obey|comply)"
)
_MODAL = (
    r"(?:should|must|shall|needs? to|has to|have to|is to|are to|will need to"
    r"|(?:is|are) (?:expected|required|supposed|instructed|asked|meant) to)"
)
_ADVERBS = r"(?: (?:also|first|now|then|instead|always|immediately|please|simply|just))*"
_HEADING = r"(?:notes?|messages?|instructions?|reminders?|memos?|hints?|notices?|directives?)"

DIRECTIVE_TO_READER = re.compile(
    # "agent should fetch ...", "agents evaluated on it are expected to attempt ..."
    rf"\b{_READER}\b{_CLAUSE},? {_MODAL}{_ADVERBS} {_ACTION}\b"
    # "AI assistant processing this export: skip ...", "agent notice: ..."
    rf"|\b{_READER}\b{_CLAUSE}[ \t]*[:,][ \t]*(?:please )?{_ACTION}\b"
    rf"|\b{_READER} {_HEADING}[ \t]*:"
    # "agents decode the claims above and carry out ...": a plural reader told what it does
    r"|\b(?:agents|assistants|models|llms) (?:decode|carry out|obey|execute|follow|comply with)\b"
    # "any automated agent that sees this comment copies ...": a reader told, in the present, what it does
    # (the clause must be about this very data: "the backup agent that runs nightly removes ..." describes)
    rf"|\b{_READER} (?:that|which|who) (?:sees|reads|processes|parses|opens|loads|ingests|finds|encounters"
    rf"|summari[sz]es) (?:this|these|the following)(?: [\w.'/-]+){{0,2}}? (?:{_ACTION}|copie)s?\b"
    # "to whoever processes this file: ...": a reader addressed without a name
    r"|\bto (?:whoever|whomever|anyone|anybody|whatever) (?:\w+ ){0,2}?"
    r"(?:processes|reads|parses|opens|handles"
    r"|loads|ingests|sees|summari[sz]es)\b[^:\n]{0,40}:"
    # a heading for such readers ("Notes for automated readers", "NOTE TO EVALUATING AGENT:")
    rf"|\b{_HEADING} (?:to|for) (?:the |all |any )?(?:[a-z]+ )?{_READER}\b[ \t]*(?::|\n|$)"
    # a rule laid on them ("commit message convention (mandatory for agents)")
    r"|\b(?:mandatory|required|compulsory|obligatory) for (?:all )?(?:ai |coding )?"
    r"(?:agents|assistants|bots)\b"
    # a code comment headed for them ("# agents: ...", "// AI agents -"): a comment is for the people who
    # read the code ("# user agents:" names a header's values, so the reader stands alone)
    r"|(?:^|\n)[ \t]*(?:#+|//|--|;|/?\*+|<!--)[ \t]*(?:ai |coding |llm )?(?:agents?|assistants?)"
    r"[ \t]*[:-][ \t]*[a-z]\S*(?:[ \t]+\S+){2}"
    # a step assigned in a note ("pending - agent to print ...", "todo: assistant to run ...")
    r"|(?:^|\n|[:;(][ \t]*|[ \t]-[ \t]+)(?:the |an? )?(?:ai |coding )?(?:agents?|assistants?|bots?)"
    rf" to {_ACTION}\b"
)


# Every match names one of them: a text without any is not searched.
_READER_WORDS = (
    "agent",
    "assistant",
    "model",
    "llm",
    "summari",
    "reader",
    "bot",
    "ai ",
    "ai systems",
    "to wh",
    "to any",
)


def directive_to_reader(normal: str) -> bool:
    """Whether the (normalised) data tells an automated reader what to do."""
    return any(map(normal.__contains__, _READER_WORDS)) and DIRECTIVE_TO_READER.search(normal) is not None
