"""Command-line tools: `level5` (review, check-input, redact, audit, eval-safety, syscall-monitor), the
`kubectl level5` plugin and the safety evaluation."""
