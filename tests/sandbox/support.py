"""Shared pieces of the sandbox tests: demo-world ids, a fake clock and sleep, HTTP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.sandbox import Sandbox, create_sandbox

# Ids of the demo world (bot/sandbox/demo_world.yaml).
ACME = "100200300400501"
BRIGHT = "100200300400502"
NOVA = "100200300400503"
PIXEL_WEB = "300400500600701"  # shared with Bright (ANALYZE, ADVERTISE)
PIXEL_CHECKOUT = "300400500600702"
PIXEL_OUTLET = "300400500600703"
PIXEL_NOVA = "300400500600731"
ACME_ACCOUNT = "500600700800901"
ACME_ACCOUNT_FOR_BRIGHT = "500600700800902"  # owned by Acme, usable by Bright
BRIGHT_ACCOUNT = "500600700800911"
NOVA_ACCOUNT = "500600700800921"
V = "/v25.0"
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ERROR_KEYS = {
    "message",
    "type",
    "code",
    "error_subcode",
    "error_user_title",
    "error_user_msg",
    "fbtrace_id",
    "is_transient",
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Sleeps:
    """A sleep that returns at once and remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def new_sandbox() -> tuple[Sandbox, Clock, Sleeps]:
    """A demo-world sandbox on a fake clock and a fake sleep."""
    clock, sleeps = Clock(), Sleeps()
    return create_sandbox(clock=clock, sleep=sleeps), clock, sleeps


@asynccontextmanager
async def graph_client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the sandbox in-process, as the bot's client would talk to Meta."""
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as client:
        yield client


def auth(sandbox: Sandbox, business: str) -> dict[str, str]:
    """The Authorization header of a business's first token."""
    return {"Authorization": f"Bearer {sandbox.world.token_for(business)}"}


def tasks(*names: str) -> str:
    """permitted_tasks as Meta's SDK sends it: a compact JSON array."""
    return json.dumps(list(names), separators=(",", ":"))


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of a Graph error answer, after checking its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"message", "type", "code", "fbtrace_id"} <= set(error) <= ERROR_KEYS, error
    assert error["fbtrace_id"].isalnum()
    assert response.headers["x-fb-trace-id"] == error["fbtrace_id"]
    return error


async def share(
    client: httpx.AsyncClient, sandbox: Sandbox, pixel: str, business: str, *names: str
) -> httpx.Response:
    """POST /{pixel}/agencies as the pixel's owner (Acme)."""
    return await client.post(
        f"{V}/{pixel}/agencies",
        data={"business": business, "permitted_tasks": tasks(*(names or ("ANALYZE",)))},
        headers=auth(sandbox, ACME),
    )
