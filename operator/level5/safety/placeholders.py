"""The shape of layer 5's placeholders (`[KIND:8 hex digits]`), shared by the redactor that writes them
and the detectors that must leave text redacted already alone (redaction is idempotent)."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\[[A-Z_]+:[0-9a-f]{8}\]")
