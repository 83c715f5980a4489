"""The runtime policy's document (policy.json in the program's /code), which sandbox-image/policy.py enforces
inside the interpreter: the review's own tables (allowed and denied modules) and the sandbox's paths, so the
static review and the runtime policy judge by one source."""

from __future__ import annotations

import json

from level5.api.spec import AgentTaskSpec, Language
from level5.core.layout import OUTPUT_DIR, READ_ROOTS, WRITE_ROOTS
from level5.safety.review import js_policy
from level5.safety.review.policy import DENIED_MODULES, SAFE_STDLIB

# The modules each language's review always allows and never allows (sandbox-image/node_launch.py and
# node_preload.js enforce the JavaScript ones, policy.py the Python ones).
MODULE_TABLES = {
    Language.PYTHON: (SAFE_STDLIB, DENIED_MODULES),
    Language.JAVASCRIPT: (js_policy.SAFE_BUILTINS, js_policy.DENIED_MODULES),
}


def policy_document(spec: AgentTaskSpec) -> str:
    """policy.json for the program's runner: its time limit and the runtime policy (sandbox-image/policy.py,
    or node_launch.py for JavaScript), from the same tables as the static review."""
    safe, denied = MODULE_TABLES[spec.capabilities.language]
    allowed = (safe | set(spec.capabilities.allowed_libraries)) - denied
    document = {
        "workDir": OUTPUT_DIR,
        "timeoutSeconds": spec.capabilities.timeout_seconds,
        "allowedModules": sorted(allowed),
        "deniedModules": sorted(denied),
        "readRoots": list(READ_ROOTS),
        "writeRoots": list(WRITE_ROOTS),
    }
    return json.dumps(document, indent=1)
