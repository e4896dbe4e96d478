"""Fixtures for Graph client tests: a fake clock and a recording MockTransport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import SecretStr

from bot.graph import GraphClient, RetryPolicy
from tests import secrets_guard

TOKEN = SecretStr("EAAB-secret-token-value-123")
APP_SECRET = SecretStr("app-secret-xyz")
secrets_guard.KNOWN.update({TOKEN.get_secret_value(), APP_SECRET.get_secret_value()})
BASE_URL = "https://graph.facebook.com"
PIXEL = "1111111111"
BIZ = "2222222222"
AGENCY = "3333333333"
REQUEST = "4444444444"
ACCOUNT = "5555555555"

Handler = Callable[[httpx.Request], httpx.Response]


def graph_json(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A Graph-like JSON answer."""
    return httpx.Response(status, json=body, headers=headers)


def params_of(request: httpx.Request) -> dict[str, str]:
    """Query and form parameters of a recorded request."""
    params = dict(request.url.params)
    if request.method == "POST":
        params |= dict(parse_qsl(request.content.decode(), keep_blank_values=True))
    return params


def batch_ops(request: httpx.Request) -> list[dict[str, str]]:
    """The operations of a recorded batch request."""
    ops: list[dict[str, str]] = json.loads(params_of(request)["batch"])
    return ops


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """A MockTransport that records requests and answers with a swappable handler."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: graph_json({"success": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    def transport(self) -> httpx.MockTransport:
        """The transport to inject into GraphClient."""
        return httpx.MockTransport(self)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(recorder: Recorder, clock: FakeClock) -> AsyncIterator[GraphClient]:
    async with GraphClient(
        base_url=BASE_URL,
        version="v25.0",
        app_secret=APP_SECRET,
        transport=recorder.transport(),
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda: 1.0,
        retry=RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=30.0, budget=600.0),
    ) as graph:
        yield graph
