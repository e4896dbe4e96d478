"""What `GET /metrics` reads at scrape time: Meta's recent quota usage, the live background
runners, and the database (share requests by status)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Job, ShareRequest, utcnow

log = logging.getLogger(__name__)

_USE_CASE = re.compile(r"[a-z_]{1,40}")


class UsageReading(Protocol):
    """One percentage from Meta's usage headers (bot.graph.usage makes them)."""

    @property
    def header(self) -> str: ...
    @property
    def use_case(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def percent(self) -> float: ...
    @property
    def subject(self) -> str: ...


class QuotaUsage:
    """The highest quota usage Meta reported recently, per header, use case and figure.

    X-Business-Use-Case-Usage speaks of one business per answer. A gauge of the latest
    answer would show whichever business was called last and hide one near its limit, and
    business ids are no labels (one series each, without bound). So the latest reading of
    each subject is kept, and the highest of those not older than `window` is shown.
    """

    # Two upkeep intervals: a business's reading lives until the next pass refreshes it.
    WINDOW_SECONDS = 600.0

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self._window = window
        self._latest: dict[tuple[str, str, str, str], tuple[float, float]] = {}

    def record(self, readings: Iterable[UsageReading], now: float | None = None) -> None:
        """Keep the readings of one Graph answer."""
        at = time.monotonic() if now is None else now
        for r in readings:
            use_case = r.use_case if not r.use_case or _USE_CASE.fullmatch(r.use_case) else "other"
            self._latest[(r.header, use_case, r.metric, r.subject)] = (r.percent, at)

    def collect(self, now: float | None = None) -> Iterator[Metric]:
        """`pixelbot_graph_quota_usage_ratio`, the highest recent reading per series."""
        at = time.monotonic() if now is None else now
        highest: dict[tuple[str, str, str], float] = {}
        for key, (percent, seen) in list(self._latest.items()):
            if at - seen > self._window:
                del self._latest[key]  # forgotten, so the dict stays as small as the window
                continue
            series = key[:3]
            highest[series] = max(highest.get(series, 0.0), percent)
        family = GaugeMetricFamily(
            "pixelbot_graph_quota_usage_ratio",
            "Meta's rate-limit usage from its usage headers (1 = throttled): the highest "
            "reading of any business or ad account in the last 10 minutes.",
            labels=["header", "use_case", "metric"],
        )
        for (header, use_case, metric), percent in sorted(highest.items()):
            family.add_metric([header, use_case, metric], percent / 100.0)
        yield family

    def describe(self) -> Iterator[Metric]:
        """Registration needs only the name: no need to collect."""
        yield GaugeMetricFamily("pixelbot_graph_quota_usage_ratio", "", labels=[])


class Tasks(Protocol):
    """What a background runner tells (bot.slack.background.Background)."""

    @property
    def running(self) -> int: ...
    @property
    def waiting(self) -> int: ...


class BackgroundTasks:
    """`pixelbot_background_tasks`, read from every live background runner at scrape time."""

    def __init__(self) -> None:
        self._live: weakref.WeakSet[Tasks] = weakref.WeakSet()

    def watch(self, tasks: Tasks) -> None:
        """Include this runner until it is garbage-collected."""
        self._live.add(tasks)

    def collect(self) -> Iterator[Metric]:
        """Tasks holding a slot, and tasks waiting for one."""
        live = list(self._live)
        family = GaugeMetricFamily(
            "pixelbot_background_tasks",
            "Work after Slack's ack: running (holding one of the slots) or queued (waiting).",
            labels=["state"],
        )
        family.add_metric(["running"], sum(t.running for t in live))
        family.add_metric(["queued"], sum(t.waiting for t in live))
        yield family

    def describe(self) -> Iterator[Metric]:
        """Registration needs only the name: no need to collect."""
        yield GaugeMetricFamily("pixelbot_background_tasks", "", labels=[])


@dataclass(frozen=True)
class _Counts:
    shares: dict[str, int]
    jobs: dict[str, int]
    slack_behind: int
    oldest_due: datetime | None


async def _count_by_status(engine: AsyncEngine) -> _Counts:
    shares = select(ShareRequest.status, func.count()).group_by(ShareRequest.status)
    work = select(Job.status, func.count()).group_by(Job.status)
    behind = select(func.count(), func.min(ShareRequest.updated_at)).where(
        ShareRequest.slack_due_at.is_not(None)
    )
    async with engine.connect() as conn:
        share_rows = (await conn.execute(shares)).all()
        job_rows = (await conn.execute(work)).all()
        due, oldest = (await conn.execute(behind)).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite drops the zone; stored in UTC
        oldest = oldest.replace(tzinfo=UTC)
    return _Counts(
        {str(status): int(count) for status, count in share_rows},
        {str(status): int(count) for status, count in job_rows},
        int(due or 0),
        oldest,
    )


async def database_families(
    engine: AsyncEngine, statuses: Sequence[str], seconds: float
) -> list[Metric]:
    """`pixelbot_database_up` and, when it answered in time, share requests by status."""
    up = GaugeMetricFamily(
        "pixelbot_database_up", "Whether the database answered this scrape's query in time."
    )
    try:
        counts = await asyncio.wait_for(_count_by_status(engine), seconds)
    except Exception as exc:  # any failure: the scrape still answers, and says so
        log.warning("metrics: the database did not answer: %s", type(exc).__name__)
        up.add_metric([], 0.0)
        return [up]
    up.add_metric([], 1.0)
    return [up, _shares(counts.shares, statuses), *_work(counts)]


def _work(counts: _Counts) -> list[Metric]:
    jobs = GaugeMetricFamily(
        "pixelbot_jobs",
        "Acknowledged work in the database by status: queued and running are not finished.",
        labels=["status"],
    )
    for status in ("queued", "running", "done", "given_up"):
        jobs.add_metric([status], float(counts.jobs.get(status, 0)))
    behind = GaugeMetricFamily(
        "pixelbot_slack_behind_requests",
        "Share requests whose latest state Slack does not show yet (card, thread, DM).",
    )
    behind.add_metric([], float(counts.slack_behind))
    age = GaugeMetricFamily(
        "pixelbot_slack_behind_seconds",
        "Age of the oldest change Slack does not show yet (0: Slack shows every change).",
    )
    lag = 0.0 if counts.oldest_due is None else (utcnow() - counts.oldest_due).total_seconds()
    age.add_metric([], max(0.0, lag))
    return [jobs, behind, age]


def _shares(counts: dict[str, int], statuses: Sequence[str]) -> Metric:
    shares = GaugeMetricFamily(
        "pixelbot_share_requests",
        "Share requests in the database by status (the same figure from every replica).",
        labels=["status"],
    )
    for status in statuses:
        shares.add_metric([status], float(counts.pop(status, 0)))
    if counts:  # a status this version does not know: counted, but not as its own label
        shares.add_metric(["unknown"], float(sum(counts.values())))
    return shares


class _Scrape:
    """The default registry followed by families computed for this one scrape."""

    def __init__(self, extra: Sequence[Metric]) -> None:
        self._extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self._extra


def exposition(extra: Sequence[Metric], accept: str) -> tuple[bytes, str]:
    """Every metric in the format the scraper asked for (`Accept`), and its content type."""
    encode, content_type = choose_encoder(accept)
    return encode(_Scrape(extra)), content_type
