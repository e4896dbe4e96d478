"""One Graph HTTP session: encoding, auth header, appsecret_proof, errors, retries, usage."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from bot import metrics
from bot.flows.meta.errors import (
    GraphConnectError,
    GraphError,
    GraphOtherError,
    GraphRateLimited,
    GraphTimeout,
    outcome_unknown,
)
from bot.graph.encoding import appsecret_proof, encode_params
from bot.graph.errors import as_timeout, error_from_response, parse_body, transport_error
from bot.graph.retry import RetryPolicy, retry_delay
from bot.graph.usage import Usage, parse_usage

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
JsonObject = dict[str, Any]

# Graph reads are usually fast, but a 50-operation batch can take tens of seconds.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0, pool=5.0)
USER_AGENT = "pixelbot-graph/0.1"
TRACE_HEADER = "x-fb-trace-id"

# For metric labels: the path with every id replaced, so that series stay few.
_VERSION_SEGMENT = re.compile(r"v\d+\.\d+")
_ID_SEGMENT = re.compile(r"(?:act_)?\d+")
_EDGE_SEGMENT = re.compile(r"[a-z_]{1,40}")


def _redact(text: str, token: SecretStr) -> str:
    secret = token.get_secret_value()
    return text.replace(secret, "***") if secret else text


class GraphSession:
    """One `httpx.AsyncClient` and everything every Graph call shares."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        app_secret: SecretStr | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.origin = httpx.URL(base_url.rstrip("/") + "/")
        self.root = self.origin.join(f"{version}/")
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.last_usage: Usage | None = None
        self._app_secret = app_secret
        # Redirects are refused: a Graph redirect is unexpected and could carry the token away.
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    def url(self, path: str) -> httpx.URL:
        """Absolute URL of a path below the version root (path built from validated ids)."""
        return self.root.join(path)

    def proof_params(self, token: SecretStr) -> dict[str, str]:
        """`appsecret_proof` for this token, when an app secret was configured."""
        if self._app_secret is None:
            return {}
        return {"appsecret_proof": appsecret_proof(self._app_secret, token)}

    async def call(
        self,
        method: str,
        url: httpx.URL,
        token: SecretStr,
        params: Mapping[str, object] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> object:
        """Make one Graph call with bounded retries; the parsed JSON answer or a GraphError."""
        idempotent = method == "GET" if idempotent is None else idempotent
        start = self.clock()
        attempt = 0
        while True:
            try:
                return await self._attempt(method, url, token, params or {})
            except GraphError as error:
                if not idempotent and outcome_unknown(error):
                    # Meta may have applied this write: never repeat it blindly.
                    if isinstance(error, GraphTimeout):
                        raise
                    raise as_timeout(error) from error
                delay = retry_delay(
                    error,
                    policy=self.retry,
                    attempt=attempt,
                    elapsed=self.clock() - start,
                    idempotent=idempotent,
                    usage=self.last_usage,
                    jitter=self.jitter,
                )
                if delay is None:
                    raise
                kind = type(error).__name__
                logger.info("graph %s %s: retry in %.1fs after %s", method, url.path, delay, kind)
                await self.sleep(delay)
                attempt += 1

    async def call_object(
        self,
        method: str,
        url: httpx.URL,
        token: SecretStr,
        params: Mapping[str, object] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> JsonObject:
        """Like `call`, for answers that must be a JSON object."""
        body = await self.call(method, url, token, params, idempotent=idempotent)
        if body is True:  # some legacy writes answer a bare `true`
            return {"success": True}
        if not isinstance(body, dict):
            raise GraphOtherError("Graph answered something other than a JSON object")
        return body

    def _build(
        self, method: str, url: httpx.URL, token: SecretStr, params: Mapping[str, object]
    ) -> httpx.Request:
        if "access_token" in params:
            raise ValueError("the token travels in the Authorization header, never as a param")
        wire = encode_params(params) | self.proof_params(token)
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        if method == "POST":
            return self._http.build_request(method, url, data=wire, headers=headers)
        return self._http.build_request(method, url.copy_merge_params(wire), headers=headers)

    async def _attempt(
        self, method: str, url: httpx.URL, token: SecretStr, params: Mapping[str, object]
    ) -> object:
        request = self._build(method, url, token, params)
        # Every request the client sends passes here, retries included: counted per attempt.
        started = time.perf_counter()
        try:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                raise self._transport_error(request, exc) from None
            result = self._result(request, response, token)
        except GraphError as error:
            self._observe(request, started, error)
            raise
        self._observe(request, started, None)
        return result

    def _observe(self, request: httpx.Request, started: float, error: GraphError | None) -> None:
        seconds = time.perf_counter() - started
        edge = self.path_template(request.method, request.url)
        metrics.observe_graph_request(request.method, edge, _outcome(error), seconds)

    def path_template(self, method: str, url: httpx.URL) -> str:
        """The path with ids as `{id}` (`/{id}/agencies`); the version root is `batch`."""
        parts = [p for p in url.path.removeprefix(self.origin.path).split("/") if p]
        if parts and _VERSION_SEGMENT.fullmatch(parts[0]):
            parts = parts[1:]
        if not parts:
            return "batch" if method == "POST" else "/"
        return "/" + "/".join(
            "{id}" if _ID_SEGMENT.fullmatch(p) else p if _EDGE_SEGMENT.fullmatch(p) else "{other}"
            for p in parts
        )

    def _transport_error(self, request: httpx.Request, exc: httpx.TransportError) -> GraphError:
        # Only the exception's class is logged: its text could in theory name the URL.
        name = type(exc).__name__
        logger.warning("graph %s %s failed: %s", request.method, request.url.path, name)
        return transport_error(exc, request.extensions.get("timeout") or {})

    def _result(self, request: httpx.Request, response: httpx.Response, token: SecretStr) -> object:
        usage = parse_usage(response.headers)
        if usage is not None:
            self.last_usage = usage
            metrics.record_quota_usage(usage.readings())
        raw = response.content
        body = parse_body(raw)
        trace = response.headers.get(TRACE_HEADER)
        error = error_from_response(response.status_code, body, raw, trace)
        self._log(request, response.status_code, error, trace)
        if error is None:
            return body
        error.message = _redact(error.message, token)
        error.error_user_msg = error.error_user_msg and _redact(error.error_user_msg, token)
        error.args = (error.message,)
        if isinstance(error, GraphRateLimited) and usage is not None and usage.regain_seconds:
            error.retry_after = usage.regain_seconds
        raise error

    @staticmethod
    def _log(
        request: httpx.Request, status: int, error: GraphError | None, trace: str | None
    ) -> None:
        code = error.code if error else None
        fbtrace_id = (error.fbtrace_id if error else None) or trace
        fields = {
            "graph_method": request.method,
            "graph_path": request.url.path,
            "graph_status": status,
            "graph_code": code,
            "fbtrace_id": fbtrace_id,
        }
        level = logging.DEBUG if error is None else logging.WARNING
        logger.log(
            level,
            "graph %s %s -> HTTP %s code=%s fbtrace_id=%s",
            request.method,
            request.url.path,
            status,
            code,
            fbtrace_id,
            extra=fields,
        )


def _outcome(error: GraphError | None) -> str:
    """`ok`, Meta's error code, or what failed when Meta gave no code."""
    if error is None:
        return "ok"
    if error.code is not None:
        return str(error.code) if 0 <= error.code < 1_000_000 else "other"
    if error.http_status is not None:
        # Below 400 without a code: `success: false`, or a body that is not Graph's.
        return f"http_{error.http_status}" if error.http_status >= 400 else "no_code"
    if isinstance(error, GraphConnectError):
        return "connect_error"
    if isinstance(error, GraphTimeout):
        return "timeout"
    return "transport_error"
