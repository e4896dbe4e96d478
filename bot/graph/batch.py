"""Graph batch requests: chunks of 50, per-item results and errors, null items retried."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from bot.flows.meta.errors import GraphError, GraphTimeout
from bot.flows.meta.port import OnChunk
from bot.graph.encoding import encode_params, validate_edge, validate_id
from bot.graph.errors import error_from_response, parse_body
from bot.graph.retry import backoff
from bot.graph.session import GraphSession
from bot.graph.usage import pause_for

logger = logging.getLogger(__name__)

MAX_BATCH = 50  # Meta's limit per HTTP call


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A successful batch item: its HTTP code and its body, parsed."""

    status: int
    body: Mapping[str, Any] = field(hash=False)


Outcome = BatchResult | GraphError


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One operation: method on `/{node_id}[/{edge}]`; ids are validated on creation."""

    method: str
    node_id: str
    edge: str | None = None
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    # True when repeating the operation cannot do harm (set by the caller for writes).
    safe_to_retry: bool = False

    def __post_init__(self) -> None:
        if self.method not in ("GET", "POST", "DELETE"):
            raise ValueError(f"batch method must be GET, POST or DELETE, not {self.method!r}")
        validate_id(self.node_id, "node id")
        if self.edge is not None:
            validate_edge(self.edge)

    @property
    def idempotent(self) -> bool:
        """Whether a timed-out attempt may be sent again."""
        return self.method == "GET" or self.safe_to_retry

    def to_graph(self) -> dict[str, str]:
        """The operation as Graph's batch format wants it (relative to the batch's version)."""
        path = self.node_id + (f"/{self.edge}" if self.edge else "")
        wire = dict(sorted(encode_params(self.params).items()))  # stable: same ops, same bytes
        if "access_token" in wire:
            raise ValueError("the token travels in the Authorization header, never as a param")
        if self.method == "POST":
            return {"method": "POST", "relative_url": path, "body": urlencode(wire)}
        query = f"?{urlencode(wire)}" if wire else ""
        return {"method": self.method, "relative_url": path + query}


def item_outcome(item: object) -> Outcome | None:
    """A batch answer item as a result or an error; None for a null (timed-out) item."""
    if item is None:
        return None
    if not isinstance(item, dict) or not isinstance(item.get("code"), int):
        return GraphTimeout("unreadable batch item; it may have been applied")
    status: int = item["code"]
    raw_body = item.get("body")
    raw = raw_body.encode() if isinstance(raw_body, str) else b""
    body = parse_body(raw)  # the item's body is a JSON string: parse it a second time
    error = error_from_response(status, body, raw)
    if error is not None:
        return error
    return BatchResult(status, body if isinstance(body, dict) else {"success": body is True})


async def _send_chunk(
    session: GraphSession, token: SecretStr, ops: Sequence[BatchOperation]
) -> list[Outcome | None]:
    form = {"batch": [op.to_graph() for op in ops], "include_headers": False}
    idempotent = all(op.idempotent for op in ops)
    answer = await session.call("POST", session.root, token, form, idempotent=idempotent)
    if not isinstance(answer, list) or len(answer) != len(ops):
        # Meta answered but we cannot tell which item did what.
        return [GraphTimeout("unreadable batch answer; it may have been applied")] * len(ops)
    return [item_outcome(item) for item in answer]


async def _run_chunk(
    session: GraphSession, token: SecretStr, ops: Sequence[BatchOperation]
) -> list[Outcome]:
    """One chunk; null items are sent again (bounded) when that is safe."""
    outcomes = await _send_chunk(session, token, ops)
    for round_ in range(session.retry.batch_null_rounds):
        again = [i for i, o in enumerate(outcomes) if o is None and ops[i].idempotent]
        if not again:
            break
        logger.info("graph batch: resending %d timed-out items", len(again))
        await session.sleep(backoff(session.retry, round_, session.jitter))
        resent = await _send_chunk(session, token, [ops[i] for i in again])
        for index, outcome in zip(again, resent, strict=True):
            outcomes[index] = outcome
    unanswered = GraphTimeout("batch item timed out; it may have been applied")
    return [unanswered if o is None else o for o in outcomes]


async def run_batch(
    session: GraphSession,
    token: SecretStr,
    operations: Sequence[BatchOperation],
    on_chunk: OnChunk | None = None,
) -> list[Outcome]:
    """Every operation's outcome, in request order, in HTTP calls of at most 50 operations."""
    # A failed HTTP call fails its own items; unless it timed out it also fails every later
    # item, since a rejected token or an exhausted quota would reject them too.
    outcomes: list[Outcome] = []
    for start in range(0, len(operations), MAX_BATCH):
        chunk = operations[start : start + MAX_BATCH]
        pause = min(pause_for(session.last_usage), session.retry.max_delay) if start else 0.0
        if pause > 0:
            # Give the quota room before the next chunk, as the last usage headers advise.
            await session.sleep(pause)
        try:
            outcomes += await _run_chunk(session, token, chunk)
        except GraphTimeout as error:
            outcomes += [error] * len(chunk)
        except GraphError as error:
            return outcomes + [error] * (len(operations) - start)
        if on_chunk is not None:
            await on_chunk(len(outcomes), len(operations))
    return outcomes
