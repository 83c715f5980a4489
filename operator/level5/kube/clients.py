"""The operator's Kubernetes API clients, made without aiohttp's look-ups of the environment per request.

kubernetes_asyncio makes its aiohttp session with ``trust_env=True``. aiohttp then, for every request, reads
the proxy variables (``HTTPS_PROXY``, ``NO_PROXY``...) in a worker thread and ``~/.netrc`` in another: two
hand-offs to a thread and back per API call, about 11,000 of each in the bench's 1,000-task ramp (a
profile of 2026-12-02), on the event loop that every task shares. The environment does not change while
the operator runs: when aiohttp's own rule (``get_env_proxy_for_url``, ``NO_PROXY`` honoured) gives no
proxy for the API server, as in a cluster, every one of those look-ups would answer "direct", so the
session stops making them. With a proxy the session is left as it is (the websocket client's attach
requests take no proxy argument: they need the look-up). A netrc entry was never usable: the client sends
its bearer token in an ``Authorization`` header, and aiohttp refuses that header together with netrc
credentials.

Weighed: a session of our own (a copy of kubernetes_asyncio's TLS and connection-pool set-up to keep in
step), and ``trust_env=False`` always (a proxy set for the operator's API server would be ignored).
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp.helpers import get_env_proxy_for_url
from kubernetes_asyncio import client
from yarl import URL

Client = TypeVar("Client", bound=client.ApiClient)


def proxied(host: str) -> bool:
    """Whether requests to `host` (the API server's URL) go through a proxy from the environment, as aiohttp
    picks one for each request with ``trust_env``."""
    try:
        get_env_proxy_for_url(URL(host))
    except LookupError:
        return False
    return True


def without_env_lookups(api: Client) -> Client:
    """`api` (an ``ApiClient`` or a ``WsApiClient``, just made), its session no longer reading the
    environment per request when the environment names no proxy for the API server."""
    host = api.configuration.host
    if host is not None and not proxied(host):
        # aiohttp has no public setter: this is the attribute its ``trust_env`` property reads (a unit test
        # reads the property, so a rename in aiohttp fails there rather than silently).
        api.rest_client.pool_manager._trust_env = False
    return api
