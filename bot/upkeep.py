"""The upkeep pass: reconcile with Meta, finish interrupted claims, remind, expire; then tell
Slack. It runs inside `pixelbot serve` (at start, then every PIXELBOT_RECONCILE_SECONDS) and
once with `pixelbot reconcile`. Several replicas may run it at once: rows are leased.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.config import Settings
from bot.flows import jobs
from bot.flows.access import admins_of
from bot.flows.context import Context
from bot.flows.leases import new_worker_id
from bot.flows.reconciling import ReconcileReport, reconcile
from bot.flows.recovering import RecoveryReport, recover
from bot.flows.reminding import due_reminders, expire_waiting
from bot.flows.views import RequestView
from bot.graph.client import GraphClient
from bot.slack import notify
from bot.slack.sync import SlackSync
from bot.slack.upkeep_blocks import attention_message
from bot.slack.web_client import web_client
from bot.store.db import create_engine, session_factory
from bot.tokens import TokenBox

log = logging.getLogger(__name__)

KEEP_FINISHED_JOBS = timedelta(days=30)
STOP_GRACE_SECONDS = 5.0  # a pass in progress at shutdown gets this long to end


@dataclass(frozen=True)
class UpkeepOptions:
    """The upkeep settings, in the units the flows use."""

    claim_lease: float = 300.0
    remind_after: timedelta | None = timedelta(hours=24)
    expire_after: timedelta | None = None

    @classmethod
    def of(cls, settings: Settings) -> UpkeepOptions:
        """From PIXELBOT_CLAIM_LEASE_SECONDS, _REMIND_AFTER_HOURS, _EXPIRE_AFTER_HOURS."""
        remind, expire = settings.pixelbot_remind_after_hours, settings.pixelbot_expire_after_hours
        return cls(
            claim_lease=float(settings.pixelbot_claim_lease_seconds),
            remind_after=timedelta(hours=remind) if remind > 0 else None,
            expire_after=timedelta(hours=expire) if expire > 0 else None,
        )


@dataclass
class UpkeepReport:
    """What one pass did."""

    reconciled: ReconcileReport = field(default_factory=ReconcileReport)
    recovered: RecoveryReport = field(default_factory=RecoveryReport)
    reminded: int = 0
    expired: list[RequestView] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per kind of work, for `pixelbot reconcile` and the log."""
        r, c = self.reconciled, self.recovered
        return [
            f"checked {r.checked} requests and shares with Meta",
            f"settled {len(r.settled)} decided in Meta; revoked {len(r.revoked)} removed there",
            f"recovered {len(c.finished) + len(c.reopened) + len(c.submitted)} interrupted "
            f"claims; {len(c.attention)} need attention",
            f"{self.reminded} reminders due; expired {len(self.expired)} requests",
            f"left pending: {r.unknown_statuses} with a status pixelbot does not know, "
            f"{r.unreadable} Meta could not be asked about",
        ]

    def counts(self) -> dict[str, int]:
        """How many of each outcome, for `pixelbot_upkeep_items_total`."""
        r, c = self.reconciled, self.recovered
        return {
            "checked": r.checked,
            "settled": len(r.settled),
            "revoked": len(r.revoked),
            "recovered": len(c.finished),
            "reopened": len(c.reopened),
            "submitted": len(c.submitted),
            "interrupted": len(c.interrupted),
            "attention": len(c.attention),
            "reminded": self.reminded,
            "expired": len(self.expired),
            "unknown_status": r.unknown_statuses,
            "unreadable": r.unreadable,
        }


async def upkeep_pass(ctx: Context, client: AsyncWebClient, options: UpkeepOptions) -> UpkeepReport:
    """One pass; Slack is told after each change is committed (best effort)."""
    started = time.perf_counter()
    try:
        report = await _pass(ctx, client, options)
    except Exception:
        metrics.observe_upkeep_pass(None, time.perf_counter() - started)
        raise
    metrics.observe_upkeep_pass(report.counts(), time.perf_counter() - started)
    return report


async def _pass(ctx: Context, client: AsyncWebClient, options: UpkeepOptions) -> UpkeepReport:
    """Every change made here marks its rows for the Slack sync, which the pass runs last
    (a serving process's sync loop would also pick them up; leases keep them apart)."""
    worker = new_worker_id()
    report = UpkeepReport()
    report.recovered = await recover(ctx, worker, options.claim_lease)
    await _tell_recovered(ctx, client, report.recovered)
    report.reconciled = await reconcile(ctx, worker)
    if options.expire_after is not None:
        report.expired = await expire_waiting(ctx, options.expire_after)
    if options.remind_after is not None:
        report.reminded = await due_reminders(ctx, options.remind_after)
    await SlackSync(ctx, client).run_due()
    await jobs.prune(ctx, KEEP_FINISHED_JOBS)
    return report


async def _tell_recovered(ctx: Context, client: AsyncWebClient, report: RecoveryReport) -> None:
    """A request needing a human (what is a request's state, including an interrupted
    click's end, the Slack sync tells: recovery made its clicker the row's watcher)."""
    for view in report.attention:
        # The requester, and one admin of the owner who can look into it at Meta.
        admins = await admins_of(ctx, view.owner_business_id)
        for user in dict.fromkeys([view.requester, *admins[:1]]):
            await notify.direct(client, user, attention_message(view))


class UpkeepLoop:
    """Runs `upkeep_pass` at start and then every `interval` seconds until stopped."""

    def __init__(
        self, ctx: Context, client: AsyncWebClient, options: UpkeepOptions, interval: float
    ) -> None:
        self._ctx, self._client, self._options, self._interval = ctx, client, options, interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Begin (the first pass recovers what a previous process left in flight)."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop after the current pass (cut short after STOP_GRACE_SECONDS): a pass cancelled
        in the middle of a statement would leave its connection to the garbage collector."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                report = await upkeep_pass(self._ctx, self._client, self._options)
                log.info("upkeep: %s", "; ".join(report.lines()))
            except Exception:  # a failed pass must not end the loop; the next one retries
                log.exception("upkeep pass failed")
            if self._interval <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)


async def reconcile_once(settings: Settings) -> UpkeepReport:
    """`pixelbot reconcile`: one pass against the configured database, Meta and Slack."""
    settings.require("slack_bot_token", "pixelbot_secret_key")
    engine = create_engine(settings.database_url)
    graph = GraphClient.for_settings(settings)
    client = web_client(settings.secret("slack_bot_token"), settings.slack_api_url)
    box = TokenBox(SecretStr(settings.secret("pixelbot_secret_key")))
    ctx = Context(session_factory(engine), graph, box)
    try:
        return await upkeep_pass(ctx, client, UpkeepOptions.of(settings))
    finally:
        await graph.aclose()
        await engine.dispose()
