"""Graph errors: the one place where Meta's error object (or a lost answer) becomes an exception.

The classes are the port's (`bot.flows.meta.errors`); which code maps to which is decided here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from bot.flows.meta.errors import (
    GraphAnswerUnclear,
    GraphAuthError,
    GraphBlocked,
    GraphConnectError,
    GraphConnectionLost,
    GraphError,
    GraphInvalidParameter,
    GraphOtherError,
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
    GraphTransientError,
)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TRANSIENT_CODES = frozenset({1, 2, 341})
AUTH_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
INVALID_PARAMETER_CODE = 100
BLOCKED_CODE = 368


def error_class(code: int | None, is_transient: bool, http_status: int | None) -> type[GraphError]:
    """The exception class for a Graph error code (codes win over the HTTP status)."""
    if code in RATE_LIMIT_CODES:
        return GraphRateLimited
    if code in TRANSIENT_CODES or is_transient:
        return GraphTransientError
    if code in AUTH_CODES:
        return GraphAuthError
    if code in PERMISSION_CODES:
        return GraphPermissionError
    if code == INVALID_PARAMETER_CODE:
        return GraphInvalidParameter
    if code == BLOCKED_CODE:
        return GraphBlocked
    if http_status == 429:
        return GraphRateLimited
    if http_status is not None and http_status >= 500:
        return GraphTransientError
    return GraphOtherError


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _error_data(value: object) -> Mapping[str, Any] | None:
    # Meta sends error_data either as an object or as a JSON string of one.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"raw": value}
    return value if isinstance(value, dict) else None


def from_error_object(error: object, http_status: int | None) -> GraphError:
    """Map Graph's `error` value (normally an object) to the matching exception."""
    if not isinstance(error, dict):
        return error_class(None, False, http_status)(
            str(error) or "Graph error", http_status=http_status
        )
    code = _int(error.get("code"))
    is_transient = error.get("is_transient") is True
    return error_class(code, is_transient, http_status)(
        _text(error.get("message")) or "Graph error without a message",
        code=code,
        error_subcode=_int(error.get("error_subcode")),
        type=_text(error.get("type")),
        error_user_title=_text(error.get("error_user_title")),
        error_user_msg=_text(error.get("error_user_msg")),
        fbtrace_id=_text(error.get("fbtrace_id")),
        http_status=http_status,
        is_transient=is_transient,
        error_data=_error_data(error.get("error_data")),
    )


def parse_body(raw: bytes) -> object:
    """The JSON value of a body, or None when it is empty or not JSON."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:  # includes UnicodeDecodeError
        return None


def error_from_response(
    http_status: int, body: object, raw: bytes, fbtrace_id: str | None = None
) -> GraphError | None:
    """The error a Graph answer carries, or None when it is a success."""
    # Graph may answer HTTP 200 with an `error` object or with `success: false`; an empty or
    # non-JSON body is never a success, since no result can be read from it.
    if isinstance(body, dict) and "error" in body:
        err = from_error_object(body["error"], http_status)
        err.fbtrace_id = err.fbtrace_id or fbtrace_id
        return err
    if body is False or (isinstance(body, dict) and body.get("success") is False):
        return error_class(None, False, http_status)(
            "Graph answered success: false", http_status=http_status, fbtrace_id=fbtrace_id
        )
    if body is None:
        what = "an empty body" if not raw.strip() else "a body that is not JSON"
        cls = error_class(None, False, http_status)
        if cls is GraphOtherError and (http_status < 300 or b"Service Unavailable" in raw):
            # A proxy's page or a cut answer: Meta's outcome is unknown, not a rejection.
            cls = GraphTransientError
        return cls(f"Graph answered {what}", http_status=http_status, fbtrace_id=fbtrace_id)
    if http_status >= 400:
        return error_class(None, False, http_status)(
            f"Graph answered HTTP {http_status} without an error object",
            http_status=http_status,
            fbtrace_id=fbtrace_id,
        )
    return None


def as_timeout(error: GraphError) -> GraphTimeout:
    """The same failure as a GraphTimeout, so callers know a write may have happened.

    An answer that said nothing of the outcome (a 5xx or an unreadable body) stays what it
    was, a GraphAnswerUnclear with its HTTP status: it must not be described as a timeout.
    """
    if isinstance(error, GraphTimeout):
        return error
    unclear = GraphAnswerUnclear(
        f"{error.message}; the request may have been applied",
        http_status=error.http_status,
        fbtrace_id=error.fbtrace_id,
    )
    unclear.__cause__ = error
    return unclear


def transport_error(exc: httpx.TransportError, timeouts: Mapping[str, object]) -> GraphError:
    """What a failure below HTTP means for the call; `timeouts` is httpx's per-request map.

    Only the exception's class is named: its text could in theory carry the URL.
    """
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return GraphConnectError(f"could not reach Graph ({name}); nothing was sent")
    if isinstance(exc, httpx.TimeoutException):
        phase = "write" if isinstance(exc, httpx.WriteTimeout) else "read"
        seconds = timeouts.get(phase)
        waited = float(seconds) if isinstance(seconds, int | float) else None
        within = f" within {waited:g} s" if waited is not None else ""
        timeout = GraphTimeout(f"no answer from Graph{within} ({name}); it may have been applied")
        timeout.waited = waited
        return timeout
    if isinstance(exc, httpx.NetworkError | httpx.ProtocolError):
        return GraphConnectionLost(
            f"the connection to Graph broke before its answer ({name}); it may have been applied"
        )
    return GraphTransientError(f"Graph transport failure ({name})")
