"""The operator's API clients: aiohttp sessions that do not look up a proxy or ~/.netrc before each request
(two thread hand-offs per request otherwise)."""

from __future__ import annotations

import asyncio

from level5.kube.clients import api_client, ws_api_client


async def test_the_clients_do_not_read_the_environment_per_request() -> None:
    api, ws = api_client(), ws_api_client()
    try:
        for session in (api.rest_client.pool_manager, ws.rest_client.pool_manager):
            assert session.trust_env is False
    finally:
        await asyncio.gather(api.close(), ws.close())
