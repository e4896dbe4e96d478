"""The Slack Web API clients the process makes: each call counted, by method and outcome.

Bolt does not use the app's client for listeners: it builds a plain `AsyncWebClient` per
request from the app client's settings, so a subclass of the app's client would miss most
calls. Its retry handlers are among the settings it copies, and slack_sdk shows every
attempt's answer (or failure) to each handler in turn. The counting is therefore a handler
that never asks for a retry: every client made from the app's client counts, and the
client's behaviour (slack_sdk's default handlers, then `SlackApiError` as before) is as it
was.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics

log = logging.getLogger(__name__)


# Slack asks a client it rate-limits to wait Retry-After seconds; a few waits ride out a
# burst. A 500/503 is retried twice with backoff (slack_sdk's own handler): Slack documents
# these as transient.
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client for SLACK_API_URL: every attempt counted in the metrics; connection
    errors, rate limits (honouring Retry-After) and Slack's server errors retried."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            CallCounter(),
            *async_default_handlers(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
    )


def without_rate_limit_waits(client: AsyncWebClient) -> AsyncWebClient:
    """`client`'s twin that answers a 429 at once instead of sleeping Retry-After inside the
    call: for a caller with its own per-method backoff (the Slack sync), which then goes on
    with other methods and rows instead of stalling, and outlasting its leases, in a sleep."""
    handlers = [
        h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)
    ]
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=handlers,
    )


class CallCounter(AsyncRetryHandler):
    """Counts each Web API attempt in `pixelbot_slack_api_calls_total`; never retries."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Count the attempt; answer that this handler does not retry it."""
        try:
            metrics.observe_slack_api_call(_method(request.url), outcome(response, error))
        except Exception:  # counting must never change what the call does
            log.debug("could not count a Slack Web API call", exc_info=True)
        return False


def _method(url: str) -> str:
    # The API URL ends with the method's name (base_url + "chat.postMessage").
    return urlsplit(url).path.rsplit("/", 1)[-1]


def outcome(response: HttpResponse | None, error: Exception | None) -> str:
    """`ok`, Slack's `error` string, `http_STATUS`, or what failed on the way."""
    if error is not None:
        if isinstance(error, TimeoutError):
            return "timeout"
        return "unreadable_answer" if isinstance(error, SlackApiError) else "connection_error"
    if response is None:
        return "no_answer"
    body = response.body
    if isinstance(body, dict):
        if body.get("ok") is True:
            return "ok"
        if isinstance(body.get("error"), str):
            return str(body["error"])
    return f"http_{response.status_code}"
