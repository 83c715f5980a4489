"""The sandbox pod as data: its manifests, the result document the runner prints, what a finished pod tells
(outcome) and the system-call summary's models."""
