"""Where a text that layer 1 screens comes from: one name per channel, shared by the rules
(``level5.safety.injection``), the loop and the embedded classifier, each of which weighs a channel's text
differently (program output and reference data get no benefit of the doubt; a goal is scored against a
looser false-escalation budget than output, which is screened on every iteration)."""

from __future__ import annotations

GOAL = "goal"
"""The task's goal, constraints and preferences, written by the task's author."""
SANDBOX_OUTPUT = "sandbox_output"
REFERENCE_DATA = "reference_data"
DATA_SOURCES = frozenset({SANDBOX_OUTPUT, REFERENCE_DATA})
"""What a program printed or read: data, never instructions."""
