"""A row that moves between the claim and the outcome: the step is told, the audit says
`conflict` with both states, and the user reads that someone got there first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from bot.store.models import AuditEvent, ShareRequest
from tests.e2e.conftest import ACME, BRIGHT, CHECKOUT, NOVA, NOVA_ADMIN, WEBSITE, Bot


def _meanwhile(bot: Bot, monkeypatch: pytest.MonkeyPatch, method: str, status: ShareStatus) -> None:
    """While Meta is being asked, another pass (a recovery, a replica) moves the last row."""
    meta = bot.services.flows.meta
    call: Callable[..., Any] = getattr(meta, method)

    async def moved_then_call(*args: Any, **kwargs: Any) -> Any:
        row = (await bot.requests())[-1]
        async with bot.services.sessions.begin() as session:
            await session.execute(
                update(ShareRequest).where(ShareRequest.id == row.id).values(status=status.value)
            )
        return await call(*args, **kwargs)

    monkeypatch.setattr(meta, method, moved_then_call)


async def _events(bot: Bot, action: str) -> list[AuditEvent]:
    return [e for e in await bot.audit() if e.action == action]


def _assert_conflict(event: AuditEvent, was: ShareStatus, found: ShareStatus) -> None:
    assert event.outcome == "conflict"
    assert event.detail is not None and was.value in event.detail and found.value in event.detail


async def test_a_share_whose_row_moved_while_meta_answered_is_a_conflict(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _meanwhile(bot, monkeypatch, "share_pixel", ShareStatus.FAILED)
    reply = await bot.command(f"share {CHECKOUT} {BRIGHT} ANALYZE")
    [row] = await bot.requests()
    assert row.status == ShareStatus.FAILED  # what the other pass wrote is kept
    [event] = await _events(bot, "share")
    _assert_conflict(event, ShareStatus.SUBMITTING, ShareStatus.FAILED)
    assert event.share_request_id == row.id
    assert f"Request #{row.id}" in reply.text and "Nothing was changed" in reply.text
    assert "shared with" not in reply.text


async def test_a_refused_share_whose_row_moved_is_a_conflict_not_a_failure(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.sandbox.faults.expire_token(business_id=ACME, method="POST")
    _meanwhile(bot, monkeypatch, "share_pixel", ShareStatus.PENDING)
    reply = await bot.command(f"share {WEBSITE} {NOVA}")
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.graph_error_code is None
    [event] = await _events(bot, "share")
    _assert_conflict(event, ShareStatus.SUBMITTING, ShareStatus.PENDING)
    assert event.graph_code == 190  # Meta's answer is still kept with the conflict
    assert "still waiting for a decision" in reply.text and "Nothing was changed" in reply.text


async def _pending(bot: Bot) -> ShareRequest:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    row = (await bot.requests())[-1]
    assert row.status == ShareStatus.PENDING
    return row


async def test_an_approval_whose_row_moved_before_it_settled_is_a_conflict(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = await _pending(bot)
    _meanwhile(bot, monkeypatch, "decide_request", ShareStatus.DECLINED)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    row = (await bot.requests())[-1]
    assert row.status == ShareStatus.DECLINED
    [event] = await _events(bot, "approve")
    _assert_conflict(event, ShareStatus.APPROVING, ShareStatus.DECLINED)
    assert ShareStatus.ACTIVE.value in (event.detail or "")  # the state it was to become
    assert f"Request #{request.id} was already" in click.text
    assert "Nothing was changed" in click.text


async def test_a_failed_approval_whose_row_moved_is_a_conflict_not_a_failure(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = await _pending(bot)
    path = rf"^/{request.pending_request_id}$"
    bot.sandbox.faults.rate_limit(times=None, method="POST", path=path)
    _meanwhile(bot, monkeypatch, "decide_request", ShareStatus.CANCELLED)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    row = (await bot.requests())[-1]
    assert row.status == ShareStatus.CANCELLED and row.graph_error_code is None
    [event] = await _events(bot, "approve")
    _assert_conflict(event, ShareStatus.APPROVING, ShareStatus.CANCELLED)
    assert event.graph_code is not None
    assert "try again" not in click.text.lower()
    assert f"Request #{request.id} was already" in click.text
