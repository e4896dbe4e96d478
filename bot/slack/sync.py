"""Slack brought up to the database: the approval card, its thread, the requester's DM and
reminders, for every request whose state Slack does not show yet (`flows.announcing`).

Each replica runs a loop over the due rows (leased, so two replicas never send the same
thing), and the work that made a change delivers it at once. A call Slack does not take is
tried again later: after Retry-After when rate-limited (per Web API method, so one busy
method does not hold up the others), with growing backoff after a server or network error,
and slowly when Slack refused it outright (a channel the bot is not in may be joined later).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import announcing
from bot.flows.announcing import Due
from bot.flows.context import Context
from bot.flows.leases import new_worker_id
from bot.flows.reminding import Reminder
from bot.flows.states import ShareStatus
from bot.slack.blocks import Message
from bot.slack.request_blocks import (
    approval_message,
    requester_dm,
    settled_message,
    thread_reply,
)
from bot.slack.times import now
from bot.slack.upkeep_blocks import reminder_message, watcher_message
from bot.slack.web_client import without_rate_limit_waits

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
BATCH = 10  # rows leased at once: a batch must be sent well within its lease
MAX_BACKOFF_SECONDS = 300.0
REFUSED_RETRY_SECONDS = 3600.0  # e.g. not_in_channel: someone may invite the bot
# Slack refuses every call until an operator fixes the app: kept, and tried again slowly.
_APP_BROKEN = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
    }
)
_TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


_Calls = Mapping[str, Callable[..., Awaitable[Any]]]


class _Later(Exception):
    """Slack did not take a call; try the row again in `seconds`."""

    def __init__(self, seconds: float, why: str) -> None:
        super().__init__(why)
        self.seconds = seconds


class _Gone(Exception):
    """Slack will never take this call (the message or user is gone)."""


@dataclass(frozen=True)
class CardResult:
    """What became of an approval card the work tried to post at once."""

    channel: str | None  # where it is now
    refused: str | None  # Slack's reason, when it refused the post outright
    delayed: bool  # Slack did not take it yet; the sync keeps trying


class SlackSync:
    """Brings Slack up to the database for due rows; one per process."""

    def __init__(self, ctx: Context, client: AsyncWebClient, poll: float = 2.0) -> None:
        self._ctx, self._client, self._poll = ctx, client, poll
        self._worker = new_worker_id()
        self._not_before: dict[str, float] = {}  # Web API method -> monotonic time
        # Cards someone waits on (post_card_now), and Slack's refusal of each, if it refused.
        self._watched: set[int] = set()
        self._refused: dict[int, str] = {}
        self._task: asyncio.Task[None] | None = None
        # Work that delivers its own change (someone waits for the answer) rides out a short
        # 429 inside the call, as every client here does; the sweeps must not sleep in a
        # call (the batch would outlast its lease): a 429 reaches the per-method backoff.
        sweeping = without_rate_limit_waits(client)
        self._inline: _Calls = {
            "chat.postMessage": client.chat_postMessage,
            "chat.update": client.chat_update,
        }
        self._sweeping: _Calls = {
            "chat.postMessage": sweeping.chat_postMessage,
            "chat.update": sweeping.chat_update,
        }

    async def deliver(self, request_ids: Sequence[int]) -> None:
        """Bring these rows up to date now (those another worker holds are left to it)."""
        if request_ids:
            for due in await announcing.lease_due(
                self._ctx, self._worker, LEASE_SECONDS, ids=list(request_ids)
            ):
                await self._bring(due, self._inline)

    async def post_card_now(self, request_id: int) -> CardResult:
        """Deliver one row at once and say where its card is (for the requester's reply)."""
        self._watched.add(request_id)
        try:
            await self.deliver([request_id])
        finally:
            self._watched.discard(request_id)
        row = await announcing.card_of(self._ctx, request_id)
        refused = self._refused.pop(request_id, None)
        delayed = row.channel is None and refused is None and row.due
        return CardResult(row.channel, refused, delayed)

    async def run_due(self, limit: int = BATCH) -> int:
        """One sweep over rows due now; how many were looked at."""
        seen = 0
        while True:
            batch = await announcing.lease_due(self._ctx, self._worker, LEASE_SECONDS, limit=limit)
            for due in batch:
                await self._bring(due, self._sweeping)
            seen += len(batch)
            if len(batch) < limit:
                return seen

    def start(self) -> None:
        """Run sweeps until stopped: at once, then every `poll` seconds (the work that makes
        a change delivers it itself; the sweeps catch what Slack did not take, and what
        another process changed or left behind)."""
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop after the current call; leased rows are picked up again after the lease."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:  # a failed sweep must not end the loop; the next one retries
                log.exception("Slack sync sweep failed")
            await asyncio.sleep(self._poll)

    async def _bring(self, due: Due, calls: _Calls) -> None:
        if time.monotonic() - due.leased_at > LEASE_SECONDS / 2:
            # Server errors' retries ate the batch's time: another worker may take the row
            # when the lease ends, so it is given back unsent rather than sent twice.
            await announcing.release(self._ctx, due)
            return
        try:
            await self._places(due, calls)
        except _Later as later:
            log.info(
                "request %s: Slack did not take it (%s); again in %.0f s",
                due.request.id,
                later,
                later.seconds,
            )
            at = self._ctx.clock() + timedelta(seconds=later.seconds)
            await announcing.retry_later(self._ctx, due, at)
            return
        except BaseException:
            await announcing.release(self._ctx, due)
            raise
        await announcing.synced(self._ctx, due)

    async def _places(self, due: Due, calls: _Calls) -> None:
        req = due.request
        status = ShareStatus(req.status)
        if due.post_card and due.approvals_channel:
            await self._post_card(due, due.approvals_channel, calls)
        if due.update_card and req.slack_channel and req.slack_ts:
            card = (
                approval_message(req, now())
                if announcing.card_state(status) is ShareStatus.PENDING
                else settled_message(req)
            )
            kwargs = {"channel": req.slack_channel, "ts": req.slack_ts, **card.as_kwargs()}
            await self._call(calls, "chat.update", due, **kwargs)  # gone: nothing to redraw
            await announcing.card_updated(self._ctx, due)
        if due.thread_reply:
            await self._thread(due, thread_reply(req), calls)
            await announcing.thread_replied(self._ctx, due)
        if due.reminder is not None:
            reminder = Reminder(req, due.reminder_admins, due.reminder)
            await self._thread(due, reminder_message(reminder, now()), calls)
            await announcing.reminder_sent(self._ctx, due)
        if due.tell_requester:
            message = requester_dm(req)
            dm = {"channel": req.requester, **message.as_kwargs()}
            await self._call(calls, "chat.postMessage", due, **dm)
            await announcing.requester_told(self._ctx, due)
        if due.watcher is not None:
            message = watcher_message(req, due.watched_from)
            await self._call(
                calls, "chat.postMessage", due, channel=due.watcher, **message.as_kwargs()
            )
            await announcing.watcher_told(self._ctx, due)

    async def _post_card(self, due: Due, channel: str, calls: _Calls) -> None:
        message = approval_message(due.request, now())
        try:
            # Patient: not_in_channel and the like end when someone invites the bot.
            post = {"channel": channel, **message.as_kwargs()}
            answer = await self._call(calls, "chat.postMessage", due, patient=True, **post)
        except _Later as later:
            if later.seconds >= REFUSED_RETRY_SECONDS and due.request.id in self._watched:
                self._refused[due.request.id] = str(later)
            raise
        if answer is not None:
            await announcing.card_posted(self._ctx, due, channel, str(answer["ts"]))

    async def _thread(self, due: Due, message: Message, calls: _Calls) -> None:
        req = due.request
        kwargs = {"channel": req.slack_channel, "thread_ts": req.slack_ts, **message.as_kwargs()}
        await self._call(calls, "chat.postMessage", due, **kwargs)

    async def _call(
        self, calls: _Calls, method: str, due: Due, *, patient: bool = False, **kwargs: Any
    ) -> Any:
        """One Web API call; None when Slack refused it for good (the place is given up:
        the message or user is gone), unless `patient`: then it is tried again slowly."""
        wait = self._not_before.get(method, 0.0) - time.monotonic()
        if wait > 0:
            raise _Later(wait, f"{method} is rate-limited")
        try:
            return await calls[method](**kwargs)
        except SlackApiError as exc:
            judged = self._judge(method, due, exc, patient)
            if isinstance(judged, _Gone):
                return None
            raise judged from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise _Later(_backoff(due), f"{method}: {type(exc).__name__}") from None

    def _judge(self, method: str, due: Due, exc: SlackApiError, patient: bool) -> Exception:
        response = exc.response
        data = response.data if isinstance(response.data, dict) else {}
        error = str(data.get("error") or f"http_{response.status_code}")
        if response.status_code == 429 or error == "ratelimited":
            seconds = _retry_after(response.headers) or _backoff(due)
            self._not_before[method] = time.monotonic() + seconds
            return _Later(seconds, f"{method}: rate-limited")
        if response.status_code >= 500 or error in _TRANSIENT:
            return _Later(_backoff(due), f"{method}: {error}")
        if patient or error in _APP_BROKEN:
            log.warning("request %s: Slack refused %s (%s)", due.request.id, method, error)
            return _Later(REFUSED_RETRY_SECONDS, error)
        log.warning(
            "request %s: Slack will not take %s (%s); given up", due.request.id, method, error
        )
        return _Gone(error)


def _backoff(due: Due) -> float:
    return float(min(MAX_BACKOFF_SECONDS, 2 ** min(due.attempts, 16)))


def _retry_after(headers: Any) -> float | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == "retry-after":
            try:
                return max(1.0, float(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError):
                return None
    return None
