"""Row leases: a reconciler takes rows for a while, so replicas never process one twice.

The lease is a conditional UPDATE like every claim here: on PostgreSQL a second worker's
UPDATE waits for the first to commit and then finds the rows taken; SQLite has one writer.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update

from bot.flows.context import Context
from bot.store.models import ShareRequest

CHUNK = 500


@dataclass(frozen=True)
class Leased:
    """The rows a worker holds now, and where the scan got to."""

    rows: list[ShareRequest]
    scanned_to: int | None


def new_worker_id() -> str:
    """Who holds a lease: host, process and a per-pass nonce (unique across replicas)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(ShareRequest.lease_until.is_(None), ShareRequest.lease_until < now)


async def lease(
    ctx: Context,
    worker: str,
    where: ColumnElement[bool],
    seconds: float,
    *,
    after: int = 0,
    limit: int = CHUNK,
) -> Leased:
    """Take up to `limit` free rows matching `where`, with ids above `after`, for `seconds`.

    Returns the rows this worker got (rows another worker took meanwhile are skipped) and
    the highest id looked at, from which the next chunk starts; None when nothing is left.
    """
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        ids = (
            await session.scalars(
                select(ShareRequest.id)
                .where(where, ShareRequest.id > after, _free(now))
                .order_by(ShareRequest.id)
                .limit(limit)
            )
        ).all()
        if not ids:
            return Leased([], None)
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id.in_(ids), _free(now))
            .values(lease_owner=worker, lease_until=now + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        rows = await session.scalars(
            select(ShareRequest)
            .where(ShareRequest.id.in_(ids), ShareRequest.lease_owner == worker)
            .order_by(ShareRequest.id)
            .execution_options(populate_existing=True)
        )
        return Leased(list(rows.all()), max(ids))


async def release(ctx: Context, worker: str, ids: Sequence[int]) -> None:
    """Give rows back (whatever became of them)."""
    if not ids:
        return
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id.in_(ids), ShareRequest.lease_owner == worker)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


async def leased_chunks(
    ctx: Context, worker: str, where: ColumnElement[bool], seconds: float
) -> AsyncIterator[list[ShareRequest]]:
    """Every free row matching `where`, a leased chunk at a time; each chunk is released
    after the caller has handled it (whatever became of its rows)."""
    after = 0
    while True:
        leased = await lease(ctx, worker, where, seconds, after=after)
        if leased.scanned_to is None:
            return
        after = leased.scanned_to
        try:
            if leased.rows:
                yield leased.rows
        finally:
            await release(ctx, worker, [row.id for row in leased.rows])
