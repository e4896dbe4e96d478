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

import re
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Info
from prometheus_client import disable_created_metrics as _disable_created_metrics

from bot import __version__
from bot.metrics.collectors import (
    BackgroundTasks,
    QuotaUsage,
    Tasks,
    UsageReading,
    database_families,
    exposition,
)

__all__ = ["database_families", "exposition"]  # served by bot.server, made in collectors

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


QUOTA_USAGE = QuotaUsage()
BACKGROUND = BackgroundTasks()
REGISTRY.register(QUOTA_USAGE)
REGISTRY.register(BACKGROUND)


def watch_background(tasks: Tasks) -> None:
    """Report this background runner's tasks in `pixelbot_background_tasks`."""
    BACKGROUND.watch(tasks)


def record_quota_usage(readings: Iterable[UsageReading]) -> None:
    """Keep what a Graph answer's usage headers said."""
    QUOTA_USAGE.record(readings)
