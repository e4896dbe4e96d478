"""The HTTP face of pixelbot: `POST /slack/events` (Bolt) and `GET /healthz`, as one ASGI app."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__
from bot.slack import gate
from bot.store.db import ping

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[dict[str, str]]]

HEALTH_DB_TIMEOUT_S = 2.0
SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 1 << 20  # Slack's payloads are far smaller; a bigger body is not Slack


class Server:
    """Routes requests to Bolt or the health check; runs shutdown hooks on lifespan end."""

    def __init__(
        self,
        app: AsyncApp,
        engine: AsyncEngine,
        *,
        signing_secret: str,
        extra_checks: dict[str, Callable[[], bool]] | None = None,
        on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
    ) -> None:
        self._app = app
        self._secret = signing_secret
        self._engine = engine
        self._extra_checks = extra_checks or {}
        self._on_shutdown = on_shutdown or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == "/healthz":
            await self._health(scope, send)
        elif scope["type"] == "http" and scope["path"] == SLACK_PATH:
            await self._slack(scope, receive, send)
        elif scope["type"] == "http":
            await _respond(send, 404, {"error": "not found"})

    async def _slack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Verify, parse and check the request, then let Bolt dispatch the parsed body."""
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "method not allowed"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await _read_body(receive)
            if gate.is_ssl_check(body):
                await _respond(send, 200, None)
                return
            gate.verify(headers, body, self._secret)
            data = gate.parse(body, headers.get("content-type", ""))
        except gate.Rejected as rejected:
            log.warning("refused a request to %s: %s", SLACK_PATH, rejected.reason)
            await _respond(send, rejected.status, {"error": rejected.reason})
            return
        # Verified above, so Bolt is told not to verify again (it needs the raw body for that).
        request = AsyncBoltRequest(
            body=data,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            mode="socket_mode",
        )
        response = await self._app.async_dispatch(request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, values in response.headers.items()
                    for value in values
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body.encode("utf-8")})

    async def health(self) -> tuple[int, dict[str, str]]:
        """200 when the database answers (and every extra check passes), else 503."""
        body = {"status": "ok", "version": __version__, "database": "ok"}
        try:
            await asyncio.wait_for(ping(self._engine), HEALTH_DB_TIMEOUT_S)
        except Exception as exc:  # any failure to answer means "not healthy"
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            body["database"] = "unreachable"
        for name, check in self._extra_checks.items():
            body[name] = "ok" if check() else "down"
        healthy = all(v == "ok" for k, v in body.items() if k not in ("status", "version"))
        body["status"] = "ok" if healthy else "unavailable"
        return (200 if healthy else 503), body

    async def _health(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method not allowed"})
            return
        status, body = await self.health()
        await _respond(send, status, body)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self._on_shutdown:
                    await hook()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(send: Send, status: int, body: dict[str, str] | None) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise gate.Rejected(413, "body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
