"""The task loop: the state machine, stopping rules, the loop itself, evaluation, prompts and the guards
that apply layers 1 and 5 to sandbox output."""
