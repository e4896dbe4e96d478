"""Conditional status updates: of many concurrent claims on one request, exactly one wins."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.states import ShareStatus
from bot.store.db import session_factory
from bot.store.models import ShareRequest
from bot.store.repositories import ShareRequests


async def _pending(engine: AsyncEngine) -> int:
    async with session_factory(engine).begin() as session:
        row = await ShareRequests(session).add(
            ShareRequest(
                pixel_id="300400500600702",
                owner_business_id="100200300400501",
                agency_business_id="100200300400503",
                permitted_tasks=["ANALYZE"],
                status=ShareStatus.PENDING,
                pending_request_id="900000000000001",
                requester_slack_id="U0OWNER01",
            )
        )
        return row.id


async def test_concurrent_claims_change_the_row_once(engine: AsyncEngine) -> None:
    request_id = await _pending(engine)
    sessions = session_factory(engine)

    async def claim(clicker: str) -> bool:
        async with sessions.begin() as session:
            return await ShareRequests(session).move(
                request_id, ShareStatus.PENDING, ShareStatus.APPROVING, decider_slack_id=clicker
            )

    results = await asyncio.gather(*(claim(f"U0CLICK{n:02d}") for n in range(20)))
    assert results.count(True) == 1
    winner = f"U0CLICK{results.index(True):02d}"
    async with sessions() as session:
        row = await ShareRequests(session).get(request_id)
    assert row is not None
    assert row.status == ShareStatus.APPROVING
    assert row.decider_slack_id == winner


async def test_move_from_a_stale_state_changes_nothing(engine: AsyncEngine) -> None:
    request_id = await _pending(engine)
    async with session_factory(engine).begin() as session:
        moved = await ShareRequests(session).move(
            request_id, ShareStatus.ACTIVE, ShareStatus.REVOKING
        )
    assert moved is False
    async with session_factory(engine)() as session:
        row = await ShareRequests(session).get(request_id)
    assert row is not None and row.status == ShareStatus.PENDING
