"""The HTTP face of pixelbot, one ASGI app: `POST /slack/events` (Bolt), the probes
(`/healthz`, `/livez`, `/readyz`) and `GET /metrics`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__, metrics
from bot.flows.states import ShareStatus
from bot.slack import gate
from bot.store.db import ping

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[dict[str, str]]]
# True when a dependency is up; may be a coroutine function (Socket Mode's is_connected is).
Check = Callable[[], bool | Awaitable[bool]]

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

HEALTH_DB_TIMEOUT_S = 2.0
# Readiness and scrapes must answer within the prober's own timeout (1 s by default in
# Kubernetes, 10 s in Prometheus): a database slower than this counts as down.
READY_DB_TIMEOUT_S = 1.0
METRICS_DB_TIMEOUT_S = 1.0
SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 1 << 20  # Slack's payloads are far smaller; a bigger body is not Slack
STATUSES = [status.value for status in ShareStatus]


class Server:
    """Routes requests to Bolt, the probes or the metrics; runs shutdown hooks on lifespan end."""

    def __init__(
        self,
        app: AsyncApp,
        engine: AsyncEngine,
        *,
        signing_secret: str,
        extra_checks: Mapping[str, Check] | None = None,
        on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
    ) -> None:
        self._app = app
        self._secret = signing_secret
        self._engine = engine
        self._extra_checks = extra_checks or {}
        self._on_shutdown = on_shutdown or []
        self._stopping = False
        self._probes: dict[str, Callable[[Scope], Awaitable[Answer]]] = {
            "/healthz": self._healthz,
            "/livez": self._livez,
            "/readyz": self._readyz,
            "/metrics": self._metrics,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] in self._probes:
            await self._probe(scope, send)
        elif scope["type"] == "http" and scope["path"] == SLACK_PATH:
            await self._slack(scope, receive, send)
        elif scope["type"] == "http":
            await _respond(send, 404, {"error": "not found"})

    def begin_shutdown(self) -> None:
        """From now on `/readyz` answers 503, so that no new work is routed here."""
        self._stopping = True

    async def _slack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one Slack request; count it, with the time until its answer was sent."""
        started = time.perf_counter()
        kind, status = "other", 500  # what an exception escaping to the server becomes
        try:
            kind, status = await self._slack_answer(scope, receive, send)
        finally:
            metrics.observe_slack_request(kind, status, time.perf_counter() - started)

    async def _slack_answer(self, scope: Scope, receive: Receive, send: Send) -> tuple[str, int]:
        """Verify, parse and check the request, then let Bolt dispatch the parsed body."""
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "method not allowed"}, allow=b"POST")
            return "rejected", 405
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await _read_body(receive)
            if gate.is_ssl_check(body):
                await _respond(send, 200, None)
                return "ssl_check", 200
            gate.verify(headers, body, self._secret)
            data = gate.parse(body, headers.get("content-type", ""))
        except gate.Rejected as rejected:
            log.warning("refused a request to %s: %s", SLACK_PATH, rejected.reason)
            await _respond(send, rejected.status, {"error": rejected.reason})
            return "rejected", rejected.status
        return metrics.slack_kind(data), await self._dispatch(scope, headers, data, send)

    async def _dispatch(
        self, scope: Scope, headers: dict[str, str], data: dict[str, Any], send: Send
    ) -> int:
        # Verified above (Bolt's own check is off). Bolt takes an already parsed body only in
        # socket_mode; parsing it again from the raw text would misread a command whose text
        # contains "payload" as an interaction.
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        request = AsyncBoltRequest(
            body=data,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=bolt_headers,
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
        return response.status

    async def health(self) -> tuple[int, dict[str, str]]:
        """200 when the database answers (and every extra check passes), else 503."""
        body = {"status": "ok", "version": __version__}
        body |= await self._dependencies(HEALTH_DB_TIMEOUT_S)
        healthy = all(v == "ok" for k, v in body.items() if k not in ("status", "version"))
        body["status"] = "ok" if healthy else "unavailable"
        return (200 if healthy else 503), body

    async def readiness(self) -> tuple[int, dict[str, object]]:
        """200 when this replica should get work: not stopping, database and socket up."""
        if self._stopping:
            return 503, {"status": "shutting_down"}
        checks = await self._dependencies(READY_DB_TIMEOUT_S)
        down = [name for name, state in checks.items() if state != "ok"]
        if down:
            return 503, {"status": "unavailable", "down": down, **checks}
        return 200, {"status": "ok", **checks}

    async def _dependencies(self, db_timeout: float) -> dict[str, str]:
        """`database` (ok or unreachable), then each extra check (ok or down)."""
        states = {"database": "ok"}
        try:
            await asyncio.wait_for(ping(self._engine), db_timeout)
        except Exception as exc:  # any failure to answer means "not healthy"
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            states["database"] = "unreachable"
        for name, check in self._extra_checks.items():
            up = check()
            if inspect.isawaitable(up):
                up = await up
            states[name] = "ok" if up else "down"
        return states

    async def _probe(self, scope: Scope, send: Send) -> None:
        """GET or HEAD (the same answer without its body); any other method gets 405."""
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method not allowed"}, allow=b"GET, HEAD")
            return
        status, headers, payload = await self._probes[scope["path"]](scope)
        headers += [(b"content-length", b"%d" % len(payload))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else payload
        await send({"type": "http.response.body", "body": body})

    async def _healthz(self, _scope: Scope) -> Answer:
        return _json(*await self.health())

    async def _livez(self, _scope: Scope) -> Answer:
        # Nothing but this process: a database or Slack outage must not restart replicas.
        return _json(200, {"status": "ok"})

    async def _readyz(self, _scope: Scope) -> Answer:
        return _json(*await self.readiness())

    async def _metrics(self, scope: Scope) -> Answer:
        families = await metrics.database_families(self._engine, STATUSES, METRICS_DB_TIMEOUT_S)
        accept = next((v for k, v in scope["headers"] if k.lower() == b"accept"), b"")
        payload, content_type = metrics.exposition(families, accept.decode("latin-1"))
        return 200, [(b"content-type", content_type.encode("latin-1"))], payload

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.begin_shutdown()
                for hook in self._on_shutdown:
                    await hook()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _json(status: int, body: dict[str, Any]) -> Answer:
    return status, [(b"content-type", b"application/json")], json.dumps(body).encode()


async def _respond(
    send: Send, status: int, body: dict[str, str] | None, *, allow: bytes | None = None
) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    if allow is not None:
        headers.append((b"allow", allow))
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
