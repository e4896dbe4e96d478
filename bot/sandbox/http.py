"""Raw ASGI plumbing for the sandbox: read a request, parse Graph params, send JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.faults import FaultRule

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[str, str]]
MAX_BODY = 10 * 1024 * 1024
JSON_TYPE = "application/json; charset=UTF-8"


class BadRequest(ValueError):
    """The body could not be read as form data or JSON."""


@dataclass
class RawRequest:
    """An HTTP request as received, before any Graph meaning is given to it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    base_url: str


@dataclass
class Outcome:
    """The answer to one Graph call (or batch operation), before it is sent."""

    status: int
    body: Any
    headers: Headers = field(default_factory=list)
    fault: FaultRule | None = None  # a timeout, drop or batch_null still to apply


async def read_request(scope: Scope, receive: Receive) -> RawRequest:
    """Read the whole body (bounded) and the bits of the scope the sandbox uses."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest("request body too large")
        chunks.append(chunk)
        more = message.get("more_body", False)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("localhost", 80))
    # Mounted under a prefix, `path` may start with `root_path`; links must keep it.
    root, path = scope.get("root_path", ""), scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    return RawRequest(
        method=scope["method"].upper(),
        path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"".join(chunks),
        base_url=f"{scope.get('scheme', 'http')}://{host}{root}",
    )


def parse_params(request: RawRequest) -> dict[str, str]:
    """Query and body params merged (the body wins); JSON bodies become JSON-encoded strings."""
    params = dict(parse_qsl(request.query, keep_blank_values=True))
    if not request.body:
        return params
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            raise BadRequest("the JSON body could not be parsed") from None
        if not isinstance(data, dict):
            raise BadRequest("a JSON body must be an object")
        # Graph's SDKs send lists and bools JSON-encoded; treat JSON bodies the same way.
        params |= {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        return params
    try:
        params |= dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise BadRequest("the form body is not UTF-8") from None
    return params


def bearer_token(headers: dict[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` (or Meta's `OAuth <token>`) header."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


def compact_json(value: Any) -> str:
    """JSON without spaces, as Graph writes it."""
    return json.dumps(value, separators=(",", ":"))


async def send_json(send: Send, status: int, body: Any, headers: Headers) -> None:
    """Send a complete JSON response (an empty body when `body` is None)."""
    payload = b"" if body is None else compact_json(body).encode()
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if body is not None:
        raw.append((b"content-type", JSON_TYPE.encode()))
    raw.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer a server's startup and shutdown; the sandbox needs no setup."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
