"""The operator's own Kubernetes API clients (kubernetes_asyncio), made once at startup.

kubernetes_asyncio opens its aiohttp session with `trust_env=True`, so before every request aiohttp hands two
lookups to the default thread pool: the proxy for the URL (from the environment) and `~/.netrc` credentials
for the host (the file is read again each time). With 1,000 tasks that is thousands of thread hand-offs on
the event loop, and each one hands the GIL to a worker thread that, on a busy machine, must first wait for a
CPU while the loop waits for it: in a profiled 1,000-task ramp (py-spy, 2026-12-01) the loop's thread was
in `ThreadPoolExecutor.submit` or `run_in_executor` for 4.6 % of its samples, most of it for these two
lookups. kopf, which makes the operator's watches and its own patches, never reads the environment
(`settings.networking.trust_env` is False), so an operator that needs an environment proxy to reach the API
server cannot run today anyway: these clients read it neither.

Weighed and dropped: a smaller connection pool for the API client (32 instead of the library's 100), to
bound TLS handshake bursts (up to 51 in one loop iteration of a ramp, about 1.3 ms of the loop's CPU each) and
how many responses arrive together. In two 1,000-task ramps (2026-12-01) the requests queued in the client,
first come first served, behind the ramp's Approval writes, and a cancel waited 26 and 46 s for its status
write (1 s with the library's pool in the run between them): the cancel is a kill switch, so the pool keeps
the library's size."""

from __future__ import annotations

from aiohttp import ClientSession
from kubernetes_asyncio import client
from kubernetes_asyncio.stream import WsApiClient


def _without_environment(session: ClientSession) -> None:
    # The library gives no way to pass trust_env; aiohttp reads the attribute on every request.
    session._trust_env = False


def api_client() -> client.ApiClient:
    """The operator's API client, from the loaded configuration (in-cluster or kubeconfig)."""
    api = client.ApiClient()
    _without_environment(api.rest_client.pool_manager)
    return api


def ws_api_client() -> WsApiClient:
    """The websocket client for attach streams to warm pool pods."""
    api = WsApiClient()
    _without_environment(api.rest_client.pool_manager)
    return api
