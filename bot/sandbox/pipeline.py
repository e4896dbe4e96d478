"""One Graph call through the sandbox: authenticate, inject faults, spend budget, route, record."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.sandbox.errors import (
    MetaError,
    new_fbtrace_id,
    permission_denied,
    proof_invalid,
    rate_limited,
    token_expired,
    token_invalid,
    token_missing,
    transient,
    unsupported,
)
from bot.sandbox.faults import FaultRule
from bot.sandbox.http import Headers, Outcome
from bot.sandbox.router import Call, Operation, can_see, declared_params
from bot.sandbox.routes import ROUTES
from bot.sandbox.routes.batch import BATCH_ROUTE, parse_batch, run_batch
from bot.sandbox.state import CallRecord, State
from bot.sandbox.world import World

log = logging.getLogger(__name__)
DEFAULT_VERSION = "v25.0"
_SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})
_HOLDS = ("timeout", "drop", "batch_null")


@dataclass(frozen=True)
class Context:
    """What one HTTP request shares with every call it makes (one, or one per batch item)."""

    version: str | None
    base_url: str
    now: datetime
    in_batch: bool = False


def execute(state: State, operation: Operation, context: Context) -> Outcome:
    """Answer one call; a held answer (timeout, drop, batch null) comes back in `fault`."""
    record = _record(state, operation, context)
    trace, throttled = new_fbtrace_id(), None
    try:
        record.business_id = authenticate(state.world, operation, context.now)
        state.usage.record(record.business_id, context.now)
        fault = state.faults.decide(
            operation.method,
            operation.path,
            record.business_id,
            operation.token or "",
            in_batch=context.in_batch,
        )
        record.fault = fault.kind if fault is not None else None
        _raise_injected(fault, context.now)
        _check_budget(state, record.business_id, context.now)
        outcome = _answer(state, operation, fault, record.business_id, context, trace)
    except MetaError as error:
        throttled = error.regain_minutes
        outcome = Outcome(error.status, error.envelope(trace))
    outcome.headers = response_headers(state, record.business_id, trace, context, throttled)
    _finish(record, outcome, trace)
    return outcome


def response_headers(
    state: State,
    business_id: str | None,
    trace: str,
    context: Context | None,
    throttled: int | None = None,
) -> Headers:
    """Trace id, API version and the usage headers Meta puts on every answer."""
    world = state.world
    usage = state.usage.headers(
        business_id,
        world.settings.hourly_call_budget,
        len(world.businesses),
        state.clock(),
        throttled,
    )
    version = (context.version if context else None) or DEFAULT_VERSION
    return [("x-fb-trace-id", trace), ("facebook-api-version", version), *usage]


def _answer(
    state: State,
    operation: Operation,
    fault: FaultRule | None,
    business_id: str,
    context: Context,
    trace: str,
) -> Outcome:
    """The routed answer, or what a fault makes of it (held, hung up, a bare 5xx)."""
    held = fault if fault is not None and fault.kind in _HOLDS else None
    lost = fault is not None and fault.kind != "timeout" and not fault.takes_effect
    if fault is not None and fault.kind == "server_error":
        if not lost:
            _route(state, operation, business_id, context, trace)
        return Outcome(fault.status, None)  # no error object: whether it applied is unsaid
    if held is not None and lost:
        return Outcome(0, None, fault=held)  # lost before it reached "Meta"
    return Outcome(200, _route(state, operation, business_id, context, trace), fault=held)


def authenticate(world: World, operation: Operation, now: datetime) -> str:
    """The business of the call's token; 104, 190 or the appsecret_proof error otherwise."""
    if not operation.token:
        raise token_missing()
    business_id = world.business_of_token(operation.token)
    if business_id is None:
        raise token_invalid()
    if operation.token in world.expired_tokens:
        raise token_expired(now)
    secret = world.settings.app_secret
    if secret is not None:
        if not operation.proof:
            raise proof_invalid(missing=True)
        expected = hmac.new(secret.encode(), operation.token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, operation.proof.lower()):
            raise proof_invalid(missing=False)
    return business_id


def _raise_injected(fault: FaultRule | None, now: datetime) -> None:
    if fault is None:
        return
    if fault.kind == "token_expired":
        raise token_expired(now)
    if fault.kind == "transient":
        raise transient(fault.code)
    if fault.kind == "permission":
        raise permission_denied("You do not have permission for this action.")
    if fault.kind == "rate_limit":
        raise rate_limited(fault.regain_minutes)


def _check_budget(state: State, business_id: str, now: datetime) -> None:
    budget = state.world.settings.hourly_call_budget
    regain = state.usage.regain_minutes(business_id, budget, now)
    if regain is not None:
        raise rate_limited(regain)


def _route(
    state: State, operation: Operation, business_id: str, context: Context, trace: str
) -> Any:
    world = state.world
    if operation.path == "/" and operation.method == "POST" and not context.in_batch:
        return _batch(state, operation, context)
    route, node_id = ROUTES.match(world, operation.method, operation.path)
    if route.kind is None or route.handler is None:  # pragma: no cover - match never gives it
        raise unsupported(operation.method, operation.path)
    if not route.checks_access and not can_see(world, business_id, route.kind, node_id):
        raise unsupported(operation.method, operation.path.strip("/").split("/")[0])
    params = declared_params(route, operation.params)
    call = Call(
        method=operation.method,
        path=operation.path,
        version=context.version,
        params=params,
        business_id=business_id,
        target=node_id,
        base_url=context.base_url,
        now=context.now,
        trace_id=trace,
    )
    return route.handler(world, call)


def _batch(state: State, operation: Operation, context: Context) -> Any:
    params = declared_params(BATCH_ROUTE, operation.params)
    operations = parse_batch(params["batch"], operation.token, operation.proof)
    inner = replace(context, in_batch=True)
    include_headers = params.get("include_headers", "true").lower() != "false"
    return run_batch(operations, lambda op: execute(state, op, inner), include_headers)


def _record(state: State, operation: Operation, context: Context) -> CallRecord:
    params = {k: v for k, v in operation.params.items() if k not in _SECRET_PARAMS}
    if "batch" in params:
        # Batch bodies may carry per-operation tokens: log only how many operations there were.
        try:
            params["batch"] = f"<{len(json.loads(params['batch']))} operations>"
        except (ValueError, TypeError):
            params["batch"] = "<unreadable>"
    record = CallRecord(
        operation.method,
        operation.path,
        context.version,
        params,
        None,
        context.in_batch,
        context.now,
    )
    state.calls.append(record)
    return record


def _finish(record: CallRecord, outcome: Outcome, trace: str) -> None:
    record.status = outcome.status
    if isinstance(outcome.body, dict) and isinstance(outcome.body.get("error"), dict):
        record.error_code = outcome.body["error"]["code"]
    log.info(
        "sandbox %s %s -> %s",
        record.method,
        record.path,
        record.status,
        extra={"business_id": record.business_id, "fbtrace_id": trace},
    )
