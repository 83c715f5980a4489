"""The one place that turns the Kubernetes API's expected refusals into values: a missing object (404), an
object that already exists (409) and a ResourceQuota's refusal (403 "exceeded quota"). Every other error
propagates to the caller."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from typing import TypeVar

from kubernetes_asyncio.client.exceptions import ApiException

T = TypeVar("T")
NOT_FOUND = 404
CONFLICT = 409
FORBIDDEN = 403
_QUOTA = re.compile(r"exceeded quota: ([a-z0-9.-]+)")


async def unless_missing(call: Awaitable[T]) -> T | None:
    """The call's result, or None when its object does not exist."""
    try:
        return await call
    except ApiException as exc:
        if exc.status == NOT_FOUND:
            return None
        raise


async def created(call: Awaitable[object]) -> bool:
    """True when the call created its object, False when the object already existed."""
    try:
        await call
    except ApiException as exc:
        if exc.status == CONFLICT:
            return False
        raise
    return True


def quota_refusal(exc: ApiException) -> tuple[str, str] | None:
    """(quota name, the API server's message) when a ResourceQuota refused the request, else None (other
    403s, such as PodSecurity's, are not a matter of waiting)."""
    if exc.status != FORBIDDEN:
        return None
    try:
        message = str(json.loads(exc.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        message = str(exc.body or "")
    found = _QUOTA.search(message)
    return None if found is None else (found.group(1), message)
