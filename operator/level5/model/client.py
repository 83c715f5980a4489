"""Talking to OpenAI-compatible models: one AsyncOpenAI client per endpoint, shared by all tasks, with a
global cap on requests in flight so a thousand tasks cannot flood the model server."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

import openai
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, Field

from level5.api.spec import ModelSettings
from level5.core.config import OperatorConfig

Message = dict[str, str]
"""One chat message: role and content."""


class ModelUnavailableError(Exception):
    """The model could not be reached or is overloaded; worth retrying later."""


class ModelRejectedError(Exception):
    """The model endpoint refused the request (auth, unknown model, bad request); retrying will not help."""


class Endpoint(BaseModel):
    """Everything needed to call one model."""

    base_url: str
    model: str
    api_key: str = Field(repr=False)
    temperature: float | None = None
    max_tokens: int | None = None


class Completion(BaseModel):
    """A model's answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def resolve_endpoint(settings: ModelSettings | None, config: OperatorConfig, api_key: str | None) -> Endpoint:
    """The task's endpoint: its own settings where given, the operator's defaults elsewhere. api_key is the
    value of spec.model.apiKeySecretRef, already read from the Secret by the caller."""
    settings = settings or ModelSettings()
    return Endpoint(
        base_url=settings.base_url or config.model_base_url,
        model=settings.model or config.model_name,
        api_key=api_key if api_key is not None else config.model_api_key,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )


class ModelGateway:
    """Caches AsyncOpenAI clients per (base URL, key) and limits concurrent requests, in all and per endpoint.
    A request waits for its slots before it is sent; the timeout covers only the request itself."""

    def __init__(self, max_concurrent: int, per_endpoint: int = 4, timeout_seconds: float = 300.0) -> None:
        self._clients: dict[tuple[str, str], openai.AsyncOpenAI] = {}
        self._slots = asyncio.Semaphore(max_concurrent)
        self._per_endpoint = per_endpoint
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._timeout = timeout_seconds

    def _endpoint_slot(self, endpoint: Endpoint) -> asyncio.Semaphore:
        if endpoint.base_url not in self._endpoint_slots:
            self._endpoint_slots[endpoint.base_url] = asyncio.Semaphore(self._per_endpoint)
        return self._endpoint_slots[endpoint.base_url]

    def client(self, endpoint: Endpoint) -> openai.AsyncOpenAI:
        key = (endpoint.base_url, endpoint.api_key)
        if key not in self._clients:
            self._clients[key] = openai.AsyncOpenAI(
                base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=self._timeout, max_retries=2
            )
        return self._clients[key]

    async def complete(self, endpoint: Endpoint, messages: Sequence[Message]) -> Completion:
        """One chat completion. Transient failures raise ModelUnavailableError, refusals
        ModelRejectedError."""
        # The endpoint's slot first: a request queued for a busy endpoint holds no slot another could use.
        async with self._endpoint_slot(endpoint), self._slots:
            try:
                response = await self.client(endpoint).chat.completions.create(
                    model=endpoint.model,
                    messages=cast("list[ChatCompletionMessageParam]", list(messages)),
                    temperature=openai.omit if endpoint.temperature is None else endpoint.temperature,
                    max_tokens=openai.omit if endpoint.max_tokens is None else endpoint.max_tokens,
                )
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                raise ModelUnavailableError(f"{type(exc).__name__}: {exc}") from exc
            except openai.APIStatusError as exc:
                raise ModelRejectedError(f"model endpoint answered {exc.status_code}: {exc.message}") from exc
        text = response.choices[0].message.content if response.choices else None
        usage = response.usage
        return Completion(
            text=text or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
