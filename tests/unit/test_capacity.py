"""When a ResourceQuota's change frees capacity for a refused sandbox pod (level5.sandbox.capacity)."""

from __future__ import annotations

from level5.sandbox.capacity import QuotaState, capacity_freed


def state(
    hard: dict[str, str], used: dict[str, str], status_hard: dict[str, str] | None = None
) -> QuotaState:
    return QuotaState.of(
        {
            "spec": {"hard": hard},
            "status": {"hard": hard if status_hard is None else status_hard, "used": used},
        }
    )


def test_a_raised_or_lifted_limit_frees_capacity() -> None:
    before = state({"pods": "1", "limits.cpu": "1500m"}, {"pods": "1"})
    assert capacity_freed("q", before, state({"pods": "2", "limits.cpu": "1500m"}, {"pods": "1"})) == (
        "ResourceQuota q raised: pods 1 -> 2"
    )
    assert capacity_freed("q", before, state({"pods": "1", "limits.cpu": "2"}, {"pods": "1"})) == (
        "ResourceQuota q raised: limits.cpu 1500m -> 2"
    )
    assert capacity_freed("q", before, state({"limits.cpu": "1500m"}, {})) == (
        "ResourceQuota q raised: pods 1 -> unlimited"
    )


def test_the_status_copy_of_a_limit_counts_too() -> None:
    # The quota controller copies spec.hard to status.hard a moment later; admission checks status.hard.
    before = state({"pods": "2"}, {"pods": "1"}, status_hard={"pods": "1"})
    after = state({"pods": "2"}, {"pods": "1"})
    assert capacity_freed("q", before, after) == "ResourceQuota q raised: pods 1 -> 2"


def test_a_drop_in_usage_or_a_deletion_frees_capacity() -> None:
    before = state({"pods": "2"}, {"pods": "2", "limits.memory": "512Mi"})
    assert capacity_freed("q", before, state({"pods": "2"}, {"pods": "1", "limits.memory": "512Mi"})) == (
        "ResourceQuota q usage dropped: pods 2 -> 1"
    )
    assert capacity_freed("q", before, state({"pods": "2"}, {"pods": "2", "limits.memory": "0.25Gi"})) == (
        "ResourceQuota q usage dropped: limits.memory 512Mi -> 0.25Gi"
    )
    assert capacity_freed("q", before, None) == "ResourceQuota q was deleted"


def test_nothing_else_frees_capacity() -> None:
    before = state({"pods": "2", "limits.cpu": "1"}, {"pods": "1"})
    assert capacity_freed("q", None, before) is None  # first seen: it only adds a limit
    assert capacity_freed("q", before, before) is None  # a resync
    assert capacity_freed("q", before, state({"pods": "1", "limits.cpu": "1"}, {"pods": "1"})) is None
    assert capacity_freed("q", before, state({"pods": "2", "limits.cpu": "1000m"}, {"pods": "2"})) is None
    assert (
        capacity_freed("q", before, state({"pods": "2", "limits.cpu": "1", "pods.x": "1"}, {"pods": "1"}))
        is None
    )


def test_a_quantity_the_parser_does_not_know_counts_as_a_change() -> None:
    before = state({"limits.cpu": "1e3"}, {})
    assert capacity_freed("q", before, state({"limits.cpu": "2e3"}, {})) == (
        "ResourceQuota q raised: limits.cpu 1e3 -> 2e3"
    )
