"""The fake Slack, able to hold a post on the wire and to answer `ratelimited` in the body.

A held call is neither recorded nor answered until the test drops it: what Slack would
have shown is exactly what was `delivered` (answered ok), so a post cut off by a kill never
counts, and one Slack took counts once however often it was tried.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.slack import Call, FakeSlack, _params

# (kind, method or response_url name, params) -> whether this call is the one to hold
Wanted = Callable[[str, str, dict[str, Any]], bool]


@dataclass
class SlackHold:
    """One held call: `arrived` once it reached the fake; `drop()` discards it unrecorded."""

    wanted: Wanted
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def drop(self) -> None:
        """The sender is gone: answer nothing, record nothing."""
        self._dropped.set()


@dataclass
class Delivered:
    """A call Slack took: a Web API call answered ok, or a response_url post."""

    kind: str  # "api" or "webhook"
    name: str  # the method, or the response_url's name
    params: dict[str, Any]

    @property
    def text(self) -> str:
        """Every text of the message, blocks included."""
        return json.dumps({k: self.params.get(k) for k in ("text", "blocks")}, default=str)


@dataclass
class HeldSlack(FakeSlack):
    """`FakeSlack` plus holds, `ratelimited` answers and the list of what was delivered."""

    holds: list[SlackHold] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    ratelimited: dict[str, int] = field(default_factory=dict)  # method -> answers left

    def hold(self, wanted: Wanted) -> SlackHold:
        """Hold the next call `wanted` picks."""
        held = SlackHold(wanted)
        self.holds.append(held)
        return held

    def drop_all(self) -> None:
        """Discard every held call (its sender was killed); holds not reached are lifted."""
        for held in self.holds:
            held.drop()
        self.holds.clear()

    def rate_limit_in_body(self, method: str, times: int) -> None:
        """Answer the next `times` calls HTTP 200 `{"ok": false, "error": "ratelimited"}`."""
        self.ratelimited[method] = self.ratelimited.get(method, 0) + times

    def posts(self, channel: str, *, thread: bool | None = None) -> list[Delivered]:
        """Delivered chat.postMessage calls to a channel or DM (thread replies or not)."""
        return [
            d
            for d in self.delivered
            if d.kind == "api"
            and d.name == "chat.postMessage"
            and d.params.get("channel") == channel
            and (thread is None or bool(d.params.get("thread_ts")) == thread)
        ]

    def updates(self, channel: str) -> list[Delivered]:
        """Delivered chat.update calls in a channel."""
        return [
            d
            for d in self.delivered
            if d.kind == "api" and d.name == "chat.update" and d.params.get("channel") == channel
        ]

    def replies(self, name: str) -> list[Delivered]:
        """What reached the response_url called `name`."""
        return [d for d in self.delivered if d.kind == "webhook" and d.name == name]

    async def _held(self, kind: str, name: str, params: dict[str, Any]) -> bool:
        """Wait while a hold keeps this call; True when it was dropped."""
        for held in self.holds:
            if not held.arrived.is_set() and held.wanted(kind, name, params):
                held.arrived.set()
                await held._dropped.wait()
                return True
        return False

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        if await self._held("api", method, params):
            return web.json_response({"ok": False, "error": "request_timeout"}, status=504)
        if self.ratelimited.get(method):
            self.ratelimited[method] -= 1
            self.calls.append(Call(method, params))
            return web.json_response({"ok": False, "error": "ratelimited"})
        answer = await super()._api(request)
        body = answer.body if answer.status == 200 else None
        if isinstance(body, bytes) and json.loads(body).get("ok"):
            self.delivered.append(Delivered("api", method, params))
        return answer

    async def _webhook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.json()
        if await self._held("webhook", name, body):
            return web.Response(status=504)
        self.delivered.append(Delivered("webhook", name, body))
        return await super()._webhook(request)
