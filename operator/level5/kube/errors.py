"""The one place that turns the Kubernetes API's expected refusals into values: a missing object (404) and
an object that already exists (409). Every other error propagates to the caller."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from kubernetes_asyncio.client.exceptions import ApiException

T = TypeVar("T")
NOT_FOUND = 404
CONFLICT = 409


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
