"""Talking to OpenAI-compatible models: one AsyncOpenAI client per endpoint, shared by all tasks, with a
global cap on requests in flight so a thousand tasks cannot flood the model server. Every transient fault
(timeout, 429, 5xx, a closed connection, a reply that is not a chat completion) is one ModelUnavailableError
with its reason: the caller retries it visibly (an Event, a condition), within the bounds set here."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum
from typing import cast

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from pydantic import BaseModel, Field

from level5.api.spec import ModelSettings
from level5.core.config import OperatorConfig

Message = dict[str, str]
"""One chat message: role and content."""


class RetryReason(StrEnum):
    """Why a model call is worth retrying."""

    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CONNECTION = "connection"
    MALFORMED = "malformed"
    """The reply was not a chat completion: not JSON, cut short, or without a choice."""


MODEL_UNAVAILABLE = "ModelUnavailable"
"""The reason a task fails with when its model calls still fail after the retries."""


class ModelUnavailableError(Exception):
    """The model could not be reached, is overloaded, or answered something that is not a completion; worth
    retrying later (after `retry_after` seconds when the server said so)."""

    def __init__(self, reason: RetryReason, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason, self.retry_after = reason, retry_after


def _retry_after(error: openai.APIStatusError) -> float | None:
    """The Retry-After header in seconds (the HTTP-date form is rare from model servers and not read)."""
    value = str(error.response.headers.get("retry-after", ""))
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class ModelRejectedError(Exception):
    """The model endpoint refused the request (auth, unknown model, bad request); retrying will not help."""


class Endpoint(BaseModel):
    """Everything needed to call one model."""

    base_url: str
    model: str
    api_key: str = Field(repr=False)
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None


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
        seed=settings.seed,
    )


class ModelGateway:
    """Caches AsyncOpenAI clients per (base URL, key) and limits concurrent requests, in all and per endpoint.
    A request waits for its slots before it is sent; the timeout covers only the request itself. The client
    does not retry on its own: `retries` and `backoff` tell the caller how to, so each retry is seen."""

    def __init__(
        self,
        max_concurrent: int,
        per_endpoint: int = 4,
        timeout_seconds: float = 300.0,
        retries: int = 3,
        backoff_seconds: float = 2.0,
    ) -> None:
        self._clients: dict[tuple[str, str], openai.AsyncOpenAI] = {}
        self._slots = asyncio.Semaphore(max_concurrent)
        self._per_endpoint = per_endpoint
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._timeout = timeout_seconds
        self.retries = retries
        """Retries of one call after a transient failure, before the call fails for good."""
        self._backoff = backoff_seconds

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number `attempt` (1-based): doubling from the base, at most a minute, or what
        the server asked for when that is longer (capped at ten minutes)."""
        delay = min(self._backoff * 2.0 ** (attempt - 1), 60.0)
        return max(delay, min(retry_after, 600.0)) if retry_after is not None else delay

    def _endpoint_slot(self, endpoint: Endpoint) -> asyncio.Semaphore:
        if endpoint.base_url not in self._endpoint_slots:
            self._endpoint_slots[endpoint.base_url] = asyncio.Semaphore(self._per_endpoint)
        return self._endpoint_slots[endpoint.base_url]

    def prepare(self, endpoint: Endpoint) -> None:
        """Make the endpoint's client and its chat resource now (at startup): made on first use, they held the
        event loop for 0.1-0.2 s (openai's lazy imports, the TLS context) just as the first tasks start."""
        _ = self.client(endpoint).chat.completions

    def client(self, endpoint: Endpoint) -> openai.AsyncOpenAI:
        key = (endpoint.base_url, endpoint.api_key)
        if key not in self._clients:
            self._clients[key] = openai.AsyncOpenAI(
                base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=self._timeout, max_retries=0
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
                    seed=openai.omit if endpoint.seed is None else endpoint.seed,
                )
            except openai.APITimeoutError as exc:
                raise ModelUnavailableError(
                    RetryReason.TIMEOUT, f"no answer within {self._timeout:g} s"
                ) from exc
            except openai.APIConnectionError as exc:
                raise ModelUnavailableError(RetryReason.CONNECTION, f"connection failed: {exc}") from exc
            except openai.RateLimitError as exc:
                raise ModelUnavailableError(
                    RetryReason.RATE_LIMITED, f"429: {exc.message}", _retry_after(exc)
                ) from exc
            except openai.APIStatusError as exc:
                if exc.status_code >= 500 or exc.status_code == 408:
                    raise ModelUnavailableError(
                        RetryReason.SERVER_ERROR,
                        f"{exc.status_code}: {exc.message}",
                        _retry_after(exc),
                    ) from exc
                raise ModelRejectedError(f"model endpoint answered {exc.status_code}: {exc.message}") from exc
            except (ValueError, openai.APIResponseValidationError) as exc:  # a body that is not JSON
                raise ModelUnavailableError(
                    RetryReason.MALFORMED, f"the reply is not a chat completion: {exc}"[:500]
                ) from exc
        if not isinstance(response, ChatCompletion) or not response.choices:
            raise ModelUnavailableError(
                RetryReason.MALFORMED, "the reply is not a chat completion with a choice"
            )
        text = response.choices[0].message.content
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
