"""Prometheus metrics: what an operator watches, served by `GET /metrics`.

The metric objects live in prometheus_client's default registry, at module level, as is
usual: one process serves one app, every part (Graph session, Slack clients, background,
upkeep) counts into the same place without wiring, and the registry brings the process
and garbage-collector metrics along. Tests create several apps in one process, so they
compare values before and after. What needs a particular app's resources is read at
scrape time: live `Background`s through a weak set, the database through the `Server` that
owns the engine (`database_families`).

Labels are small fixed vocabularies (kinds, methods, path templates, Meta's error codes,
Slack's error strings): never an id, a token or text someone typed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Info
from prometheus_client import disable_created_metrics as _disable_created_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__
from bot.store.models import ShareRequest

log = logging.getLogger(__name__)

# `*_created` series double the count of every counter and histogram for a timestamp that
# Prometheus reads from the text format as one more gauge.
_disable_created_metrics()  # type: ignore[no-untyped-call]  # (prometheus_client: no hints)

# Slack wants an answer within 3 s; the buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
# A Graph read takes ~0.1-1 s; a 50-operation batch can take tens of seconds.
GRAPH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UPKEEP_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

BUILD = Info("pixelbot_build", "The running pixelbot's version.")
BUILD.info({"version": __version__})

SLACK_REQUESTS = Counter(
    "pixelbot_slack_requests",
    "Requests to POST /slack/events, by kind (rejected: refused before its kind was trusted) "
    "and HTTP status answered.",
    ["kind", "status"],
)
SLACK_ACK_SECONDS = Histogram(
    "pixelbot_slack_ack_duration_seconds",
    "Time from a Slack request's arrival to the end of pixelbot's answer, by kind.",
    ["kind"],
    buckets=ACK_BUCKETS,
)
GRAPH_REQUESTS = Counter(
    "pixelbot_graph_requests",
    "Graph API HTTP requests, each attempt counted (a retried call counts once per attempt), "
    "by method, path template and outcome: ok, Meta's error code, http_STATUS, or a "
    "transport failure (timeout, connect_error, transport_error).",
    ["method", "edge", "code"],
)
GRAPH_SECONDS = Histogram(
    "pixelbot_graph_request_duration_seconds",
    "Duration of each Graph API HTTP attempt, by method and path template.",
    ["method", "edge"],
    buckets=GRAPH_BUCKETS,
)
SLACK_API_CALLS = Counter(
    "pixelbot_slack_api_calls",
    "Slack Web API requests, each attempt counted, by method and outcome: ok, Slack's error "
    "string (e.g. ratelimited, channel_not_found), http_STATUS, timeout or connection_error.",
    ["method", "outcome"],
)
BACKGROUND_REFUSED = Counter(
    "pixelbot_background_refused",
    "Work refused after an ack because the background backlog was full (the user was told).",
)
UPKEEP_PASSES = Counter(
    "pixelbot_upkeep_passes", "Upkeep passes, by result (ok or error).", ["result"]
)
UPKEEP_ITEMS = Counter(
    "pixelbot_upkeep_items",
    "What upkeep passes did, by outcome (checked, settled, revoked, recovered, reopened, "
    "submitted, interrupted, attention, reminded, expired, unknown_status, unreadable).",
    ["outcome"],
)
UPKEEP_SECONDS = Histogram(
    "pixelbot_upkeep_pass_duration_seconds",
    "Duration of upkeep passes, failed ones included.",
    buckets=UPKEEP_BUCKETS,
)
UPKEEP_LAST_SUCCESS = Gauge(
    "pixelbot_upkeep_last_success_timestamp_seconds",
    "Unix time at which the latest successful upkeep pass ended.",
)
for _result in ("ok", "error"):
    UPKEEP_PASSES.labels(_result)

_SLACK_ERROR = re.compile(r"[a-z0-9_]{1,64}")
_SLACK_METHOD = re.compile(r"[a-z]+(?:\.[A-Za-z0-9]+){1,4}")
_USE_CASE = re.compile(r"[a-z_]{1,40}")


# Payload types Slack sends to the events URL, as metric labels; any other is "other".
_SLACK_KINDS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
        "url_verification",
        "app_rate_limited",
    }
)


def slack_kind(data: dict[str, Any]) -> str:
    """The kind of a parsed Slack request, from a fixed vocabulary (a metric label)."""
    kind = data.get("type")
    if kind is None and "command" in data:
        return "slash_command"
    if kind == "event_callback":
        return "event"
    return kind if isinstance(kind, str) and kind in _SLACK_KINDS else "other"


def observe_slack_request(kind: str, status: int, seconds: float) -> None:
    """Count one request to the Slack endpoint and the time until its answer was sent."""
    SLACK_REQUESTS.labels(kind, str(status)).inc()
    SLACK_ACK_SECONDS.labels(kind).observe(seconds)


def observe_graph_request(method: str, edge: str, code: str, seconds: float) -> None:
    """Count one Graph HTTP attempt (`edge` a template, `code` ok or Meta's code)."""
    GRAPH_REQUESTS.labels(method, edge, code).inc()
    GRAPH_SECONDS.labels(method, edge).observe(seconds)


def observe_slack_api_call(method: str, outcome: str) -> None:
    """Count one Web API attempt; anything outside Slack's vocabularies becomes `other`."""
    method = method if _SLACK_METHOD.fullmatch(method) else "other"
    outcome = outcome if _SLACK_ERROR.fullmatch(outcome) else "other"
    SLACK_API_CALLS.labels(method, outcome).inc()


def observe_upkeep_pass(counts: Mapping[str, int] | None, seconds: float) -> None:
    """Count one upkeep pass: its outcomes, or None when it failed."""
    UPKEEP_SECONDS.observe(seconds)
    if counts is None:
        UPKEEP_PASSES.labels("error").inc()
        return
    UPKEEP_PASSES.labels("ok").inc()
    for outcome, count in counts.items():
        UPKEEP_ITEMS.labels(outcome).inc(count)
    UPKEEP_LAST_SUCCESS.set_to_current_time()


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


QUOTA_USAGE = QuotaUsage()
BACKGROUND = BackgroundTasks()
REGISTRY.register(QUOTA_USAGE)
REGISTRY.register(BACKGROUND)


async def _count_by_status(engine: AsyncEngine) -> dict[str, int]:
    query = select(ShareRequest.status, func.count()).group_by(ShareRequest.status)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {str(status): int(count) for status, count in rows}


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
    shares = GaugeMetricFamily(
        "pixelbot_share_requests",
        "Share requests in the database by status (the same figure from every replica).",
        labels=["status"],
    )
    for status in statuses:
        shares.add_metric([status], float(counts.pop(status, 0)))
    if counts:  # a status this version does not know: counted, but not as its own label
        shares.add_metric(["unknown"], float(sum(counts.values())))
    return [up, shares]


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


def watch_background(tasks: Tasks) -> None:
    """Report this background runner's tasks in `pixelbot_background_tasks`."""
    BACKGROUND.watch(tasks)


def record_quota_usage(readings: Iterable[UsageReading]) -> None:
    """Keep what a Graph answer's usage headers said."""
    QUOTA_USAGE.record(readings)
