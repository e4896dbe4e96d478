"""Two `pixelbot serve` replicas on one PostgreSQL database, Meta simulated by `pixelbot sandbox`.

A storm of Approve clicks spread over both replicas and two admins reaches Meta once: the
conditional UPDATE in the shared database is the only lock there is.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.flows.states import ShareStatus
from bot.sandbox.loader import load_demo_world
from bot.slack.ids import Action
from bot.store.db import create_engine, session_factory
from bot.store.models import ShareRequest
from tests.conftest import PG_URL
from tests.e2e.conftest import ACME, NOVA, NOVA_ADMIN, NOVA_ADMIN2, NOVA_CHANNEL, OWNER, WEBSITE
from tests.fakes.slack import FakeSlack
from tests.processes import Running, free_port, run_pixelbot
from tests.signing import action_body, command_body, signed_headers
from tests.waiting import until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="PIXELBOT_TEST_DATABASE_URL is not set"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

CLICKS = 50


@pytest.fixture
async def env(settings_env: dict[str, str]) -> dict[str, str]:
    """The replicas' environment, over a database migrated, with Acme and Nova registered."""
    env = {
        **settings_env,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # No periodic upkeep: the Graph call log holds only what the clicks caused.
        "PIXELBOT_RECONCILE_SECONDS": "0",
        "PIXELBOT_REMIND_AFTER_HOURS": "0",
    }
    await run_pixelbot(env, "db", "upgrade")  # `serve` refuses a shared database not at head
    world = load_demo_world()
    await asyncio.gather(
        *(
            run_pixelbot(
                env,
                *("business", "add", business_id, "--name", world.businesses[business_id].name),
                *(("--channel", channel) if channel else ()),
                "--token-stdin",
                stdin=world.token_for(business_id),  # never on a command line
            )
            for business_id, channel in ((ACME, None), (NOVA, NOVA_CHANNEL))
        )
    )
    grants = ((OWNER, ACME), (NOVA_ADMIN, NOVA), (NOVA_ADMIN2, NOVA))
    await asyncio.gather(*(run_pixelbot(env, "admin", "grant", user, bid) for user, bid in grants))
    return env


@pytest.fixture
async def cluster(env: dict[str, str], tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """One Graph sandbox and two replicas: (sandbox URL, [replica URLs])."""
    graph_port, ports = free_port(), [free_port(), free_port()]
    graph_url = f"http://127.0.0.1:{graph_port}"
    # A little latency: the first clicks are still at Meta when the others are claimed.
    graph_args = ("sandbox", "--port", str(graph_port), "--latency-ms", "50")
    graph = await Running.start(env, tmp_path / "sandbox.log", *graph_args)
    replicas = [
        await Running.start(
            env | {"GRAPH_API_URL": graph_url},
            tmp_path / f"serve{port}.log",
            "serve",
            "--port",
            str(port),
        )
        for port in ports
    ]
    try:
        await graph.wait_answering(f"{graph_url}/_sandbox/calls")
        for port, replica in zip(ports, replicas, strict=True):
            await replica.wait_answering(f"http://127.0.0.1:{port}/healthz")
        yield graph_url, [f"http://127.0.0.1:{port}/slack/events" for port in ports]
    finally:
        stopped = await asyncio.gather(
            *(p.stop() for p in (graph, *replicas)), return_exceptions=True
        )
    for outcome in stopped:
        assert not isinstance(outcome, BaseException), outcome
        status, output = outcome
        assert status == 0, output
        assert "Traceback" not in output, output


def _approve_value(message: dict[str, Any]) -> str:
    blocks = message.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    [value] = [
        element["value"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == Action.APPROVE
    ]
    return str(value)


def _top_level_posts(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        c.params
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("channel") == channel and not c.params.get("thread_ts")
    ]


async def _row(database_url: str, request_id: int) -> ShareRequest:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return (
                await session.scalars(select(ShareRequest).where(ShareRequest.id == request_id))
            ).one()
    finally:
        await engine.dispose()


async def test_a_click_storm_over_two_replicas_approves_once(
    cluster: tuple[str, list[str]], fake_slack: FakeSlack, database_url: str
) -> None:
    graph_url, replicas = cluster
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(url: str, body: str) -> httpx.Response:
            return await client.post(url, content=body, headers=signed_headers(body))

        # Nova is not Acme's partner: Meta opens a request that Nova's admins must approve.
        share = command_body(f"share {WEBSITE} {NOVA}", OWNER, fake_slack.response_url("share"))
        assert (await post(replicas[0], share)).status_code == 200
        await until(lambda: bool(_top_level_posts(fake_slack, NOVA_CHANNEL)), 15)
        [approval] = _top_level_posts(fake_slack, NOVA_CHANNEL)
        request_id = int(_approve_value(approval))
        row = await _row(database_url, request_id)
        assert row.status == ShareStatus.PENDING and row.pending_request_id and row.slack_ts
        ts = row.slack_ts

        async def click(i: int) -> httpx.Response:
            """Click i: both admins on both replicas, each answer to its own response_url."""
            user = (NOVA_ADMIN, NOVA_ADMIN2)[i // 2 % 2]
            url = fake_slack.response_url(f"click{i}")
            body = action_body(
                Action.APPROVE, str(request_id), user, url, channel=NOVA_CHANNEL, message_ts=ts
            )
            return await post(replicas[i % 2], body)

        answers = await asyncio.gather(*(click(i) for i in range(CLICKS)))
        assert [a.status_code for a in answers] == [200] * CLICKS
        # The winner's answer is the edited message; every other clicker is told why not.
        await until(
            lambda: len(_told(fake_slack, CLICKS)) == CLICKS - 1 and bool(_edits(fake_slack, ts)),
            30,
        )
        # Clicks after the approval (one per replica and per admin) change nothing either.
        late = [CLICKS, CLICKS + 3]
        assert [(await click(i)).status_code for i in late] == [200, 200]
        await until(lambda: all(fake_slack.posted_to(f"click{i}") for i in late), 15)
        calls = (await client.get(f"{graph_url}/_sandbox/calls")).json()["calls"]

    decisions = [
        c["params"].get("request_status")
        for c in calls
        if c["method"] == "POST" and c["path"].rstrip("/").endswith(f"/{row.pending_request_id}")
    ]
    assert decisions == ["APPROVE"]
    settled = await _row(database_url, request_id)
    assert settled.status == ShareStatus.ACTIVE
    winner = settled.decider_slack_id
    assert winner in (NOVA_ADMIN, NOVA_ADMIN2)
    edits = _edits(fake_slack, ts)
    # The winner's edit, and redraws for clicks that found the request settled (what they
    # saw was stale; redraws asked for at once may be one): always the same settled card,
    # never its buttons again.
    assert 2 <= len(edits) <= CLICKS + len(late), len(edits)
    assert all(f"Approved by <@{winner}>" in json.dumps(e) for e in edits)
    assert all(Action.APPROVE not in json.dumps(e) for e in edits)
    losers = _told(fake_slack, max(late) + 1)
    assert len(losers) == CLICKS - 1 + len(late)
    for i in losers:
        [reply] = fake_slack.posted_to(f"click{i}")
        assert reply.get("response_type") == "ephemeral"
        assert f"approved by <@{winner}>" in reply["text"]
        assert "right now" in reply["text"] or "already" in reply["text"]
    for i in late:
        assert "was already approved" in fake_slack.posted_to(f"click{i}")[0]["text"]


def _edits(slack: FakeSlack, ts: str) -> list[dict[str, Any]]:
    """chat.update calls on the approval message."""
    updates = slack.calls_to("chat.update")
    return [
        c.params for c in updates if (c.params["channel"], c.params["ts"]) == (NOVA_CHANNEL, ts)
    ]


def _told(slack: FakeSlack, clicks: int) -> list[int]:
    """The clicks whose response_url got an answer."""
    return [i for i in range(clicks) if slack.posted_to(f"click{i}")]
