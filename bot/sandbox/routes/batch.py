"""Graph batch requests: `POST /{version}/` with `batch=[{method, relative_url, body}]`.

The batch endpoint has no handler of its own: the pipeline runs each operation as a call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.sandbox.errors import MetaError, invalid_param
from bot.sandbox.http import Outcome, compact_json
from bot.sandbox.router import Operation, Param, Route, split_version

MAX_BATCH = 50
_METHODS = ("GET", "POST", "DELETE")
BATCH_ITEM_TYPE = "text/javascript; charset=UTF-8"  # what Meta labels batch item bodies
BATCH_ROUTE = Route(
    "POST",
    None,
    None,
    None,
    (Param("batch", required=True, type="list"), Param("include_headers", type="bool")),
)


def parse_batch(raw: str, token: str | None, proof: str | None) -> list[Operation]:
    """The operations of a `batch` param; the top-level token is each one's fallback."""
    try:
        items: Any = json.loads(raw)
    except ValueError:
        items = None
    if not isinstance(items, list):
        raise invalid_param("Param batch must be a JSON array of operations")
    if len(items) > MAX_BATCH:
        raise MetaError(100, "Too many requests in batch message. Maximum batch size is 50")
    return [_operation(index, item, token, proof) for index, item in enumerate(items)]


def _operation(index: int, item: Any, token: str | None, proof: str | None) -> Operation:
    if not isinstance(item, dict) or not isinstance(item.get("relative_url"), str):
        raise invalid_param(f"batch[{index}] must be an object with a relative_url")
    method = str(item.get("method", "GET")).upper()
    if method not in _METHODS:
        raise invalid_param(f"batch[{index}].method must be one of {', '.join(_METHODS)}")
    body = item.get("body", "")
    if not isinstance(body, str):
        raise invalid_param(f"batch[{index}].body must be a URL-encoded string")
    if "{result=" in item["relative_url"] + body:
        raise invalid_param(f"batch[{index}]: the sandbox does not support batch dependencies")
    url = urlsplit(item["relative_url"])
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    params |= dict(parse_qsl(body, keep_blank_values=True))
    own_token = params.pop("access_token", None)
    own_proof = params.pop("appsecret_proof", None)
    _, _, path = split_version(url.path)
    if own_token is not None:
        return Operation(method, path, params, own_token, own_proof)
    return Operation(method, path, params, token, proof)


def run_batch(
    operations: list[Operation],
    execute: Callable[[Operation], Outcome],
    include_headers: bool,
) -> list[dict[str, Any] | None]:
    """Run operations in order; each answer is `{code, headers, body}` with a JSON-string body."""
    results: list[dict[str, Any] | None] = []
    for operation in operations:
        outcome = execute(operation)
        if outcome.fault is not None:
            # A timed-out operation comes back as null, for the client to retry (GA batch).
            results.append(None)
            continue
        item: dict[str, Any] = {"code": outcome.status}
        if include_headers:
            headers = [("Content-Type", BATCH_ITEM_TYPE), *outcome.headers]
            item["headers"] = [{"name": k, "value": v} for k, v in headers]
        item["body"] = compact_json(outcome.body)
        results.append(item)
    return results
