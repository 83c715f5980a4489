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

The API client also opens at most API_CONNECTIONS connections (the library's default is 100): a burst of
1,000 daemons' first requests otherwise opened up to 100 TLS connections at once, each handshake about
1.3 ms of the loop's CPU (51 in one loop iteration of the ramp, 65 ms), and a smaller pool also bounds how
many responses arrive together in one loop iteration. None of its requests is held open (no watch, no
followed log), so a request waits only for others to finish. The websocket client, which holds two attach
streams per idle warm pool pod, keeps the library's limit."""

from __future__ import annotations

from aiohttp import ClientSession
from kubernetes_asyncio import client
from kubernetes_asyncio.stream import WsApiClient

API_CONNECTIONS = 32
"""Connections the operator's API client opens to the API server at most (requests beyond wait for one)."""


def _without_environment(session: ClientSession) -> None:
    # The library gives no way to pass trust_env; aiohttp reads the attribute on every request.
    session._trust_env = False


def api_client() -> client.ApiClient:
    """The operator's API client, from the loaded configuration (in-cluster or kubeconfig)."""
    configuration = client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = API_CONNECTIONS
    api = client.ApiClient(configuration)
    _without_environment(api.rest_client.pool_manager)
    return api


def ws_api_client() -> WsApiClient:
    """The websocket client for attach streams to warm pool pods."""
    api = WsApiClient()
    _without_environment(api.rest_client.pool_manager)
    return api
