"""A fake of Slack's Web API (and Socket Mode) on loopback, recording every call.

It checks the bot token like Slack does and answers with Slack's shapes, errors included,
so the app under test talks to it through SLACK_API_URL exactly as it would to Slack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-111-222-fakebottoken"
APP_TOKEN = "xapp-1-A111-fakeapptoken"
BOT_USER_ID = "UBOT00001"
TEAM_ID = "T0000TEAM"
BOT_NAME = "pixelbot"
# What Slack's missing_scope answer says is `needed` (only methods that need a scope).
NEEDED_SCOPES = {"conversations.info": "channels:read,groups:read"}


@dataclass
class Call:
    """One Web API call as the fake received it."""

    method: str
    params: dict[str, Any]


@dataclass
class FakeSlack:
    """Start with `await fake.start()`; `base_url` then goes into SLACK_API_URL."""

    calls: list[Call] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    hooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    # The next answers of a method, before it works again: 429 (rate limited, with
    # Retry-After), 500 or 503, as Slack sends them; see `outage`.
    outages: dict[str, list[int]] = field(default_factory=dict)
    # conversations.info answers from here by id, e.g. {"C0APPR": {"name": "approvals",
    # "is_member": True}}; an id not in it is channel_not_found, as Slack says.
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    socket_inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    # Slack takes five posts per response_url within 30 minutes; `expire_hooks` plays the 30.
    hook_uses: int = 5
    hooks_expired: bool = False
    _runner: web.AppRunner | None = None
    port: int = 0
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url to put in payloads; what the app posts there lands in `webhooks`."""
        return f"http://127.0.0.1:{self.port}/webhook/{name}"

    def posted_to(self, name: str) -> list[dict[str, Any]]:
        """What the app posted to the response_url called `name`, in order."""
        return self.hooks.get(name, [])

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one Web API method."""
        return [c for c in self.calls if c.method == method]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk GETs conversations.info
        app.router.add_post("/webhook/{name}", self._webhook)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.outages.get(method):
            return _outage(self.outages[method].pop(0))
        if method in self.failures:
            return web.json_response(self._failure(method, self.failures[method]))
        if method == "conversations.info" and params.get("channel") not in self.channels:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        return web.json_response({"ok": True, **self._answer(method, params)})

    def outage(self, method: str, *statuses: int) -> None:
        """Answer the next calls of `method` with these HTTP statuses, then normally again."""
        self.outages.setdefault(method, []).extend(statuses)

    def _failure(self, method: str, error: str) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": error}
        if error == "missing_scope":
            body |= {"needed": NEEDED_SCOPES.get(method, ""), "provided": "commands,chat:write"}
        return body

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "user_id": BOT_USER_ID,
                "user": BOT_NAME,
                "team_id": TEAM_ID,
                "bot_id": "B0000BOT",
                "team": "T",
            }
        if method == "conversations.info":
            channel = params["channel"]
            return {"channel": {"id": channel, "is_archived": False, **self.channels[channel]}}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"channel": params.get("channel"), "ts": ts, "message": {"text": ""}}
        if method == "chat.postEphemeral":
            return {"message_ts": f"1700000000.{next(self._ts):06d}"}
        if method in ("views.publish", "views.open", "views.update", "views.push"):
            return {"view": {"id": "V0000VIEW", "hash": "h1"}}
        if method == "apps.connections.open":
            return {"url": f"ws://127.0.0.1:{self.port}/socket"}
        return {}

    def expire_hooks(self) -> None:
        """Every response_url from now on is past its 30 minutes."""
        self.hooks_expired = True

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = request.match_info["name"]
        if self.hooks_expired:
            return web.Response(status=404, text="expired_url")
        if len(self.hooks.get(name, [])) >= self.hook_uses:
            return web.Response(status=404, text="used_url")
        self.webhooks.append(body)
        self.hooks.setdefault(name, []).append(body)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        sender = asyncio.create_task(self._pump(ws))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.socket_outbox.put(json.loads(msg.data))
        finally:
            sender.cancel()
        return ws

    async def _pump(self, ws: web.WebSocketResponse) -> None:
        while True:
            await ws.send_json(await self.socket_inbox.get())


async def _params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.post()
    return {k: str(v) for k, v in form.items()}


def _outage(status: int) -> web.Response:
    if status == 429:  # Slack's rate limit: an HTTP 429 with the seconds to wait
        body = {"ok": False, "error": "ratelimited"}
        return web.json_response(body, status=429, headers={"Retry-After": "0"})
    return web.Response(status=status, text="Slack is having trouble")
