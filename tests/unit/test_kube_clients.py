"""The API clients stop reading the environment per request only when it names no proxy for the API server."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.stream import WsApiClient

from level5.kube.clients import proxied, without_env_lookups

API_SERVER = "https://10.96.0.1:443"
PROXY_VARIABLES = (
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"
)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _configuration() -> client.Configuration:
    configuration = client.Configuration()
    configuration.host = API_SERVER
    return configuration


async def test_direct_connection_stops_the_lookups(no_proxy_env: pytest.MonkeyPatch) -> None:
    for api in (client.ApiClient(_configuration()), WsApiClient(_configuration())):
        assert api.rest_client.pool_manager.trust_env  # as kubernetes_asyncio makes it
        assert without_env_lookups(api) is api
        assert not api.rest_client.pool_manager.trust_env
        await api.close()


async def test_a_proxy_for_the_api_server_keeps_them(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert proxied(API_SERVER)
    api = without_env_lookups(client.ApiClient(_configuration()))
    assert api.rest_client.pool_manager.trust_env
    await api.close()


async def test_no_proxy_naming_the_api_server_is_direct(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    no_proxy_env.setenv("NO_PROXY", "10.96.0.1,.svc")
    assert not proxied(API_SERVER)
    api = without_env_lookups(client.ApiClient(_configuration()))
    assert not api.rest_client.pool_manager.trust_env
    await api.close()
