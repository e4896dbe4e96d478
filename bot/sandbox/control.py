"""The control API under `/_sandbox/...`: what happens behind the bot's back, for tests and demos.

Not part of Meta's API and not authenticated: serve the sandbox on loopback only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from bot.sandbox.faults import Faults
from bot.sandbox.http import RawRequest
from bot.sandbox.state import State
from bot.sandbox.variants import parse_variants
from bot.sandbox.world import DECISIONS, WorldStateError, agreement_view

Answer = tuple[int, Any]
Body = dict[str, Any]
ControlHandler = Callable[[State, re.Match[str], Body], Answer]


class ControlError(Exception):
    """A control call that cannot be done; carries the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _field(body: Body, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"JSON body needs a string {name!r}")
    return value


def _request_id(state: State, match: re.Match[str]) -> str:
    request_id = match.group("id")
    if request_id not in state.world.agreements:
        raise ControlError(404, f"no sharing request {request_id}")
    return request_id


def _decide(state: State, match: re.Match[str], body: Body) -> Answer:
    status = body.get("request_status", body.get("status"))
    if status not in DECISIONS:
        raise ControlError(400, "JSON body needs request_status APPROVE or DECLINE")
    return 200, agreement_view(state.world.decide(_request_id(state, match), status))


def _expire(state: State, match: re.Match[str], body: Body) -> Answer:
    return 200, agreement_view(state.world.expire_request(_request_id(state, match)))


def _cancel(state: State, match: re.Match[str], body: Body) -> Answer:
    return 200, agreement_view(state.world.cancel_request(_request_id(state, match)))


def _remove_partner(state: State, match: re.Match[str], body: Body) -> Answer:
    """{"pixel_id", "business_id"} removes a business from a pixel; {"business_ids": [a, b]}
    ends a relationship (later shares between them go pending again)."""
    world = state.world
    if "business_ids" in body:
        a, b = _pair(body)
        world.remove_partnership(a, b)
        return 200, {"ok": True}
    pixel_id, business_id = _field(body, "pixel_id"), _field(body, "business_id")
    if pixel_id not in world.pixels or business_id not in world.businesses:
        raise ControlError(404, "unknown pixel_id or business_id")
    return 200, {"ok": True, "changed": world.unshare(pixel_id, business_id)}


def _add_partner(state: State, match: re.Match[str], body: Body) -> Answer:
    a, b = _pair(body)
    state.world.add_partnership(a, b)
    return 200, {"ok": True}


def _pair(body: Body) -> tuple[str, str]:
    ids = body.get("business_ids")
    if not isinstance(ids, list) or len(set(ids)) != 2 or not all(isinstance(i, str) for i in ids):
        raise ControlError(400, "JSON body needs business_ids: two different business ids")
    return ids[0], ids[1]


def _expire_tokens(state: State, match: re.Match[str], body: Body) -> Answer:
    business_id = _field(body, "business_id")
    if business_id not in state.world.businesses:
        raise ControlError(404, f"no business {business_id}")
    state.world.expire_tokens(business_id)
    return 200, {"ok": True}


def _set_variants(state: State, match: re.Match[str], body: Body) -> Answer:
    """{"variants": [names]}: the readings of Meta played from now on (none: the default)."""
    names = body.get("variants")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ControlError(400, "JSON body needs variants: a list of names")
    try:
        chosen = parse_variants(names)
    except ValueError as unknown:
        raise ControlError(400, str(unknown)) from None
    state.world.settings = replace(state.world.settings, variants=chosen)
    return 200, {"variants": sorted(chosen)}


def _get_faults(state: State, match: re.Match[str], body: Body) -> Answer:
    return 200, state.faults.public()


def _set_faults(state: State, match: re.Match[str], body: Body) -> Answer:
    try:
        state.faults = Faults.from_dict(body)
    except (ValueError, TypeError) as exc:
        raise ControlError(400, f"bad faults: {exc}") from None
    return 200, state.faults.public()


def _clear_faults(state: State, match: re.Match[str], body: Body) -> Answer:
    state.faults.clear()
    return 200, state.faults.public()


def _calls(state: State, match: re.Match[str], body: Body) -> Answer:
    return 200, {"calls": [asdict(c) | {"at": c.at.isoformat()} for c in state.calls]}


def _clear_calls(state: State, match: re.Match[str], body: Body) -> Answer:
    state.calls.clear()
    return 200, {"ok": True}


def _world(state: State, match: re.Match[str], body: Body) -> Answer:
    return 200, state.world.snapshot()


def _requests(state: State, match: re.Match[str], body: Body) -> Answer:
    return 200, {"requests": [agreement_view(a) for a in state.world.agreements.values()]}


def _reset(state: State, match: re.Match[str], body: Body) -> Answer:
    state.reset()
    return 200, {"ok": True}


_REQUEST = r"/_sandbox/requests/(?P<id>\d+)"
CONTROL_ROUTES: tuple[tuple[str, re.Pattern[str], ControlHandler], ...] = tuple(
    (method, re.compile(pattern + "/?"), handler)
    for method, pattern, handler in (
        ("GET", "/_sandbox/world", _world),
        ("GET", "/_sandbox/requests", _requests),
        ("POST", _REQUEST + "/decide", _decide),
        ("POST", _REQUEST + "/expire", _expire),
        ("POST", _REQUEST + "/cancel", _cancel),
        ("POST", "/_sandbox/partners/remove", _remove_partner),
        ("POST", "/_sandbox/partners/add", _add_partner),
        ("POST", "/_sandbox/tokens/expire", _expire_tokens),
        ("POST", "/_sandbox/variants", _set_variants),
        ("GET", "/_sandbox/faults", _get_faults),
        ("POST", "/_sandbox/faults", _set_faults),
        ("DELETE", "/_sandbox/faults", _clear_faults),
        ("GET", "/_sandbox/calls", _calls),
        ("DELETE", "/_sandbox/calls", _clear_calls),
        ("POST", "/_sandbox/reset", _reset),
    )
)


def handle_control(state: State, request: RawRequest) -> Answer:
    """Answer one control call: (HTTP status, JSON body)."""
    try:
        for method, pattern, handler in CONTROL_ROUTES:
            match = pattern.fullmatch(request.path)
            if match is not None and method == request.method:
                return handler(state, match, _json_body(request))
        raise ControlError(404, f"no control route {request.method} {request.path}")
    except ControlError as exc:
        return exc.status, {"error": str(exc)}
    except WorldStateError as exc:
        return 409, {"error": str(exc)}


def _json_body(request: RawRequest) -> Body:
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise ControlError(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body
