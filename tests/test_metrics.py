"""`GET /metrics` on the real app: Slack requests, Graph calls, Meta's usage, background work,
share requests, Slack Web API errors and upkeep passes, read back as Prometheus reads them.

The metrics live in the process-wide default registry, and other tests run in the same
process: every assertion compares a scrape taken before with one taken after.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from slack_sdk.http_retry.response import HttpResponse

from bot.flows.context import Context
from bot.flows.states import ShareStatus
from bot.graph.session import GraphSession
from bot.graph.usage import APP_USAGE, BUC_USAGE, UsageReading
from bot.metrics import QuotaUsage
from bot.slack.background import Background
from bot.slack.ids import Action
from bot.slack.web_client import outcome, web_client
from bot.store.db import create_engine, session_factory
from bot.tokens import TokenBox
from bot.upkeep import UpkeepOptions, upkeep_pass
from tests import secrets_guard
from tests.conftest import SECRET_KEY
from tests.e2e import conftest as e2e
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    BRIGHT_ADMIN,
    BRIGHT_CHANNEL,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_ADMIN2,
    NOVA_CHANNEL,
    OUTLET,
    OWNER,
    OWNER2,
    STRANGER,
    WEBSITE,
    Bot,
)
from tests.fakes.slack import BOT_TOKEN
from tests.signing import command_body, signed_headers

# The e2e fixtures (a bot in-process over the sandbox and the fake Slack), for these tests.
make_bot = e2e.make_bot
bot = e2e.bot

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    """Every sample of `GET /metrics`, parsed as Prometheus parses the text format."""
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    """The label sets of every sample called `name`."""
    return [dict(labels) for (sample, labels) in samples if sample == name]


async def _share_then_approve(bot: Bot) -> None:
    """A share that waits for Nova, then a Nova admin's Approve; Meta and Slack stumble once."""
    bot.sandbox.faults.transient(times=1, method="GET")  # Meta's code 2, then the retry works
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    [request] = await bot.requests()
    assert request.status == ShareStatus.PENDING
    bot.slack.failures["chat.postMessage"] = "channel_not_found"  # the thread reply and DM
    await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN, ts=request.slack_ts or "")
    [request] = await bot.requests()
    assert request.status == ShareStatus.ACTIVE


async def test_a_share_and_its_approval_are_counted(bot: Bot) -> None:
    before = await scrape(bot.http)
    await _share_then_approve(bot)
    after = await scrape(bot.http)

    requests = "pixelbot_slack_requests_total"
    assert delta(before, after, requests, kind="slash_command", status="200") == 1
    assert delta(before, after, requests, kind="block_actions", status="200") == 1
    ack = "pixelbot_slack_ack_duration_seconds"
    assert delta(before, after, f"{ack}_count", kind="slash_command") == 1
    assert delta(before, after, f"{ack}_count", kind="block_actions") == 1
    assert 0 < delta(before, after, f"{ack}_sum", kind="slash_command") < 3
    assert delta(before, after, f"{ack}_bucket", kind="block_actions", le="+Inf") == 1

    graph = "pixelbot_graph_requests_total"
    assert delta(before, after, graph, method="POST", edge="/{id}/agencies", code="ok") == 1
    assert delta(before, after, graph, method="POST", edge="/{id}", code="ok") == 1  # APPROVE
    assert delta(before, after, graph, method="GET", edge="/{id}", code="2") == 1  # retried
    graph_calls = sum(delta(before, after, graph, **labels) for labels in series(after, graph))
    timed = sum(
        delta(before, after, "pixelbot_graph_request_duration_seconds_count", **labels)
        for labels in series(after, "pixelbot_graph_request_duration_seconds_count")
    )
    assert graph_calls == timed == len(bot.sandbox.calls)  # every attempt, once

    slack_api = "pixelbot_slack_api_calls_total"
    post = "chat.postMessage"
    assert delta(before, after, slack_api, method=post, outcome="ok") == 1  # approval message
    # Listeners call Slack through the client Bolt builds per request: counted all the same.
    failed = delta(before, after, slack_api, method=post, outcome="channel_not_found")
    assert failed == len(bot.slack.calls_to(post)) - 1 >= 1
    assert delta(before, after, slack_api, method="chat.update", outcome="ok") == 1

    assert value(after, "pixelbot_database_up") == 1
    shares = {s.value: value(after, "pixelbot_share_requests", status=s.value) for s in ShareStatus}
    assert shares == {s.value: (1 if s is ShareStatus.ACTIVE else 0) for s in ShareStatus}
    for state in ("running", "queued"):
        assert ("pixelbot_background_tasks", frozenset({("state", state)})) in after
    # Two jobs (the command and the click), both done; Slack shows every change.
    assert value(after, "pixelbot_jobs", status="done") == 2
    assert value(after, "pixelbot_jobs", status="queued") == 0
    assert value(after, "pixelbot_slack_behind_requests") == 0
    assert value(after, "pixelbot_slack_behind_seconds") == 0


async def test_slack_lagging_behind_the_database_shows_in_the_metrics(bot: Bot) -> None:
    bot.slack.outage("chat.postMessage", 429, 429, 429, 429)
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    after = await scrape(bot.http)
    assert value(after, "pixelbot_slack_behind_requests") == 1
    assert value(after, "pixelbot_slack_behind_seconds") >= 0


async def test_quota_usage_comes_from_metas_headers_without_business_ids(bot: Bot) -> None:
    bot.sandbox.world.settings.hourly_call_budget = 10  # a few calls use a good share of it
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    usage = bot.services.graph.last_usage
    assert usage is not None and usage.business, "the sandbox sends Meta's usage headers"
    assert usage.business[0].call_count >= 10
    after = await scrape(bot.http)
    gauge = "pixelbot_graph_quota_usage_ratio"
    for reading in usage.readings():
        labels = {"header": reading.header, "use_case": reading.use_case, "metric": reading.metric}
        # The highest recent reading: at least this answer's (other tests' may be higher).
        assert value(after, gauge, **labels) >= reading.percent / 100 > 0
    assert {labels["header"] for labels in series(after, gauge)} >= {APP_USAGE, BUC_USAGE}
    assert {"header": BUC_USAGE, "use_case": "ads_management", "metric": "call_count"} in series(
        after, gauge
    )


def test_quota_usage_shows_the_busiest_subject_and_forgets_old_readings() -> None:
    quota = QuotaUsage(window=600)
    quota.record([UsageReading(BUC_USAGE, "ads_management", "call_count", 91.0, "1")], now=0)
    quota.record([UsageReading(BUC_USAGE, "ads_management", "call_count", 12.0, "2")], now=100)
    quota.record([UsageReading(BUC_USAGE, "not a use case!", "call_count", 5.0, "2")], now=100)
    quota.record([UsageReading(APP_USAGE, "", "call_count", 40.0)], now=100)
    quota.record([UsageReading(APP_USAGE, "", "call_count", 7.0)], now=200)

    def shown(now: float) -> dict[tuple[str, ...], float]:
        [family] = quota.collect(now=now)
        return {tuple(s.labels.values()): s.value for s in family.samples}

    assert shown(300) == {
        (APP_USAGE, "", "call_count"): 0.07,  # the app's quota: its latest reading
        (BUC_USAGE, "ads_management", "call_count"): 0.91,  # the busier business
        (BUC_USAGE, "other", "call_count"): 0.05,
    }
    assert shown(650)[(BUC_USAGE, "ads_management", "call_count")] == 0.12  # 91 % is too old
    assert shown(2000) == {}


async def test_no_label_value_names_an_id_or_a_secret(bot: Bot) -> None:
    await _share_then_approve(bot)
    bot.sandbox.faults.expire_token(business_id=ACME)
    await bot.command(f"info {CHECKOUT}")  # Meta: 190, with Acme's token in the header
    samples = await scrape(bot.http)
    [request] = await bot.requests()
    ids = [ACME, BRIGHT, NOVA, WEBSITE, CHECKOUT, OUTLET, str(request.pending_request_id)]
    ids += [OWNER, OWNER2, NOVA_ADMIN, NOVA_ADMIN2, BRIGHT_ADMIN, STRANGER]
    ids += [NOVA_CHANNEL, BRIGHT_CHANNEL, str(request.slack_ts)]
    forbidden = ids + sorted(secrets_guard.KNOWN)
    assert value(samples, "pixelbot_graph_requests_total", method="GET", edge="/{id}",
                 code="190") >= 1  # fmt: skip
    for name, labels in samples:
        for label, text in labels:
            leaked = [f for f in forbidden if f in text]
            assert not leaked, f"{name}{{{label}={text!r}}} names {leaked}"
            # Any long run of digits would be a Meta id, whatever its kind.
            assert not re.search(r"\d{6,}", text), f"{name}{{{label}={text!r}}}"


async def test_background_gauges_show_running_and_queued_work(bot: Bot) -> None:
    background = Background(running=1, queued=10)
    release = asyncio.Event()
    before = await scrape(bot.http)
    for _ in range(3):
        background.spawn(release.wait(), None)
    await asyncio.sleep(0)  # the tasks start: one takes the slot, two wait
    during = await scrape(bot.http)
    release.set()
    await background.drain()
    after = await scrape(bot.http)
    tasks = "pixelbot_background_tasks"
    assert delta(before, during, tasks, state="running") == 1
    assert delta(before, during, tasks, state="queued") == 2
    assert delta(before, after, tasks, state="running") == 0
    assert delta(before, after, tasks, state="queued") == 0


async def test_background_refusals_are_counted(bot: Bot) -> None:
    background = Background(running=1, queued=1)
    release = asyncio.Event()
    before = await scrape(bot.http)
    background.spawn(release.wait(), None)
    refused = release.wait()
    background.spawn(refused, None)  # the backlog is full: refused, never started
    release.set()
    await background.drain()
    after = await scrape(bot.http)
    assert delta(before, after, "pixelbot_background_refused_total") == 1


async def test_an_upkeep_pass_is_counted(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    [request] = await bot.requests()
    assert request.pending_request_id
    bot.sandbox.world.decide(request.pending_request_id, "APPROVE")  # in Business Settings
    client = web_client(BOT_TOKEN, bot.slack.base_url)
    before = await scrape(bot.http)
    report = await upkeep_pass(bot.services.flows, client, UpkeepOptions(remind_after=None))
    after = await scrape(bot.http)
    assert [v.id for v in report.reconciled.settled] == [request.id]
    items = "pixelbot_upkeep_items_total"
    assert delta(before, after, items, outcome="settled") == 1
    assert delta(before, after, items, outcome="checked") == report.reconciled.checked >= 1
    assert delta(before, after, items, outcome="revoked") == 0
    assert ("pixelbot_upkeep_items_total", frozenset({("outcome", "reminded")})) in after
    assert delta(before, after, "pixelbot_upkeep_passes_total", result="ok") == 1
    assert delta(before, after, "pixelbot_upkeep_pass_duration_seconds_count") == 1
    last = "pixelbot_upkeep_last_success_timestamp_seconds"
    assert value(after, last) > value(before, last)
    # The upkeep's own Slack client is counted too (the approval message was redrawn).
    calls = "pixelbot_slack_api_calls_total"
    assert delta(before, after, calls, method="chat.update", outcome="ok") == 1


async def test_a_failed_upkeep_pass_is_counted_as_an_error(bot: Bot) -> None:
    # No database behind this context: the pass fails at its first query.
    broken = create_engine("postgresql://nobody@127.0.0.1:9/none")
    ctx = Context(session_factory(broken), bot.services.graph, TokenBox(SecretStr(SECRET_KEY)))
    client = web_client(BOT_TOKEN, bot.slack.base_url)
    before = await scrape(bot.http)
    try:
        with pytest.raises(ConnectionRefusedError):
            await upkeep_pass(ctx, client, UpkeepOptions(remind_after=None))
    finally:
        await broken.dispose()
    after = await scrape(bot.http)
    assert delta(before, after, "pixelbot_upkeep_passes_total", result="error") == 1
    assert delta(before, after, "pixelbot_upkeep_passes_total", result="ok") == 0


def test_slack_api_outcomes_are_slacks_error_strings_or_what_failed() -> None:
    def answer(status: int, body: dict[str, object] | None) -> HttpResponse:
        return HttpResponse(status_code=status, headers={}, body=body)

    assert outcome(answer(200, {"ok": True}), None) == "ok"
    assert outcome(answer(200, {"ok": False, "error": "channel_not_found"}), None) == (
        "channel_not_found"
    )
    assert outcome(answer(429, {"ok": False, "error": "ratelimited"}), None) == "ratelimited"
    assert outcome(answer(502, None), None) == "http_502"
    assert outcome(None, TimeoutError()) == "timeout"
    assert outcome(None, ConnectionResetError()) == "connection_error"


async def test_slack_requests_refused_or_answered_by_the_gate_are_counted(bot: Bot) -> None:
    before = await scrape(bot.http)
    body = command_body("help")
    forged = await bot.http.post(
        "/slack/events", content=body, headers=signed_headers(body, secret="forged")
    )
    probe = await bot.http.post(
        "/slack/events",
        content="ssl_check=1&token=legacy",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    wrong_method = await bot.http.get("/slack/events")
    after = await scrape(bot.http)
    assert (forged.status_code, probe.status_code, wrong_method.status_code) == (401, 200, 405)
    requests = "pixelbot_slack_requests_total"
    assert delta(before, after, requests, kind="rejected", status="401") == 1
    assert delta(before, after, requests, kind="ssl_check", status="200") == 1
    assert delta(before, after, requests, kind="rejected", status="405") == 1
    assert delta(before, after, "pixelbot_slack_ack_duration_seconds_count", kind="rejected") == 2


async def test_a_graph_answer_lost_on_the_way_is_counted_as_a_timeout(bot: Bot) -> None:
    before = await scrape(bot.http)
    bot.sandbox.faults.drop(times=1, method="GET")  # the connection drops: retried (a read)
    await bot.command(f"info {CHECKOUT}")
    after = await scrape(bot.http)
    graph = "pixelbot_graph_requests_total"
    assert delta(before, after, graph, method="GET", edge="/{id}", code="timeout") == 1
    assert delta(before, after, graph, method="GET", edge="/{id}", code="ok") >= 1


async def test_graph_paths_become_templates_without_ids() -> None:
    session = GraphSession(base_url="https://graph.facebook.com", version="v25.0")
    template = session.path_template
    try:
        assert template("POST", session.url(f"{WEBSITE}/agencies")) == "/{id}/agencies"
        assert template("GET", session.url("act_500600700800911")) == "/{id}"
        assert template("POST", session.root) == "batch"
        # A paging link may name another version; its query is no part of the label.
        link = httpx.URL(f"https://graph.facebook.com/v24.0/{ACME}/owned_pixels?after=QVFIUj")
        assert template("GET", link) == "/{id}/owned_pixels"
        odd = httpx.URL(f"https://graph.facebook.com/v25.0/{ACME}/Not-An-Edge")
        assert template("GET", odd) == "/{id}/{other}"
    finally:
        await session.aclose()
