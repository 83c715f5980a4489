"""Fixtures shared by all tests: access to the real local cluster and throwaway namespaces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kube import KubectlError, kubectl, unavailable, unique_name


@pytest.fixture(scope="session")
def cluster() -> None:
    """The local cluster must answer; in CI a missing cluster is an error, locally a skip."""
    try:
        kubectl("get", "--raw", "/readyz", timeout=15)
    except (KubectlError, OSError) as exc:
        unavailable(
            f'local cluster not reachable ({exc}); run: make cluster-up && eval "$(make -s cluster-env)"'
        )


@pytest.fixture
def namespace(cluster: None, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted (without waiting) afterwards."""
    name = unique_name(request.node.name.lower().replace("_", "-")[:40].strip("-[]"))
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name).strip("-")
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
