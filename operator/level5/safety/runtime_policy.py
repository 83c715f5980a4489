"""The runtime policy's document (policy.json in the program's /code), which sandbox-image/policy.py enforces
inside the interpreter: the review's own tables (allowed and denied modules) and the sandbox's paths, so the
static review and the runtime policy judge by one source."""

from __future__ import annotations

import json

from level5.api.spec import AgentTaskSpec
from level5.core.layout import OUTPUT_DIR, READ_ROOTS, WRITE_ROOTS
from level5.safety.review.policy import DENIED_MODULES, SAFE_STDLIB


def policy_document(spec: AgentTaskSpec) -> str:
    """policy.json for the program's runner: its time limit and the runtime policy (sandbox-image/policy.py),
    from the same tables as the static review."""
    document = {
        "workDir": OUTPUT_DIR,
        "timeoutSeconds": spec.capabilities.timeout_seconds,
        "allowedModules": sorted(SAFE_STDLIB | set(spec.capabilities.allowed_libraries)),
        "deniedModules": sorted(DENIED_MODULES),
        "readRoots": list(READ_ROOTS),
        "writeRoots": list(WRITE_ROOTS),
    }
    return json.dumps(document, indent=1)
