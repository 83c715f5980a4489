"""When a ResourceQuota's change frees capacity: the pure decision behind waking the tasks that wait for quota
(see SandboxLauncher.observe_quota). A quota frees capacity when a limit is raised or lifted (spec.hard, and
status.hard, which the quota controller copies from it and which the API server's admission checks), when its
usage drops (status.used: a pod ended and the controller recounted), or when the quota is deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from level5.api.spec import quantity_value


@dataclass(frozen=True)
class QuotaState:
    """What of a ResourceQuota decides whether a pod fits: its limits (spec and status) and its usage."""

    spec_hard: Mapping[str, str] = field(default_factory=dict)
    status_hard: Mapping[str, str] = field(default_factory=dict)
    used: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> QuotaState:
        spec, status = body.get("spec") or {}, body.get("status") or {}
        return cls(
            spec_hard=dict(spec.get("hard") or {}),
            status_hard=dict(status.get("hard") or {}),
            used=dict(status.get("used") or {}),
        )


def _less(a: str, b: str) -> bool:
    """a < b as quantities; a form the parser does not know counts as different (a spare retry is harmless,
    a missed one waits for the fallback)."""
    try:
        return quantity_value(a) < quantity_value(b)
    except ValueError:
        return a != b


def _raised(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return [
        f"{resource} {old} -> {after.get(resource, 'unlimited')}"
        for resource, old in sorted(before.items())
        if resource not in after or _less(old, after[resource])
    ]


def _dropped(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return [
        f"{resource} {old} -> {after[resource]}"
        for resource, old in sorted(before.items())
        if resource in after and _less(after[resource], old)
    ]


def capacity_freed(name: str, before: QuotaState | None, after: QuotaState | None) -> str | None:
    """Why the change of ResourceQuota `name` from `before` to `after` (None: unseen, or deleted) may let a
    refused pod in now, or None when it cannot. A quota first seen frees nothing (it only adds a limit)."""
    if before is None:
        return None
    if after is None:
        return f"ResourceQuota {name} was deleted"
    raised = _raised(before.spec_hard, after.spec_hard) or _raised(before.status_hard, after.status_hard)
    if raised:
        return f"ResourceQuota {name} raised: {', '.join(raised)}"
    dropped = _dropped(before.used, after.used)
    if dropped:
        return f"ResourceQuota {name} usage dropped: {', '.join(dropped)}"
    return None
