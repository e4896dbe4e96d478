"""The HTTP face of pixelbot: `POST /slack/events` (Bolt) and `GET /healthz`, as one ASGI app."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__
from bot.store.db import ping

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[dict[str, str]]]

HEALTH_DB_TIMEOUT_S = 2.0
SLACK_PATH = "/slack/events"


class Server:
    """Routes requests to Bolt or the health check; runs shutdown hooks on lifespan end."""

    def __init__(
        self,
        app: AsyncApp,
        engine: AsyncEngine,
        extra_checks: dict[str, Callable[[], bool]] | None = None,
        on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
    ) -> None:
        self._slack = AsyncSlackRequestHandler(app, path=SLACK_PATH)
        self._engine = engine
        self._extra_checks = extra_checks or {}
        self._on_shutdown = on_shutdown or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == "/healthz":
            await self._health(scope, send)
        elif scope["type"] == "http":
            # Bolt answers 404 off its path; its ASGI types are narrower than the spec's.
            await self._slack(scope, receive, send)  # type: ignore[arg-type]

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


async def _respond(send: Send, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
