"""The safety layers as libraries, free of Kubernetes: input checks (layer 1), the pre-execution review
(layer 3, `review/`), the runtime policy's document, redaction (layer 5) and the audit trail (layer 6)."""
