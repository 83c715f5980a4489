"""What every layer may use and nothing else defines: the operator's configuration, the sandbox's layout,
wake-ups for waiters and the in-memory kill-switch state."""
