"""A `pixelbot serve` killed with SIGKILL mid-decision is recovered by the next start.

Real processes: the Graph sandbox on its own port (Meta's state outlives the bot), the
bot, the fake Slack. The sandbox holds the approve call's answer so the kill lands while
the claim is committed and the call is at Meta: applied (Meta answered, the outcome was
never written) or not applied (killed right after claiming).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.slack.ids import Action
from bot.store.db import create_engine, session_factory
from bot.store.models import ShareRequest
from tests.fakes.slack import FakeSlack
from tests.processes import free_port, run_pixelbot, wait_answering
from tests.signing import action_body, command_body, signed_headers
from tests.waiting import until

pytestmark = pytest.mark.slow

ACME, NOVA, PIXEL = "100200300400501", "100200300400503", "300400500600701"
OWNER, NOVA_ADMIN, CHANNEL = "U0ACMEOWN1", "U0NOVAADM1", "C0NOVAAPPR"
TOKENS = {ACME: "EAASandboxAcmeShoesAdmin0001", NOVA: "EAASandboxNovaMediaAdmin0001"}


async def _daemon(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
async def world(
    settings_env: dict[str, str], fake_slack: FakeSlack
) -> AsyncIterator[dict[str, Any]]:
    """The sandbox running, the database upgraded, Acme and Nova registered."""
    graph_port = free_port()
    env = {
        **settings_env,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GRAPH_API_URL": f"http://127.0.0.1:{graph_port}",
        "PIXELBOT_CLAIM_LEASE_SECONDS": "1",
        "PIXELBOT_RECONCILE_SECONDS": "1",
    }
    sandbox = await _daemon(env, "sandbox", "--port", str(graph_port))
    try:
        await wait_answering(f"http://127.0.0.1:{graph_port}/_sandbox/world")
        await run_pixelbot(env, "db", "upgrade")
        for business, name, channel in (
            (ACME, "Acme Shoes", []),
            (NOVA, "Nova", ["--channel", CHANNEL]),
        ):
            args = ["business", "add", business, "--name", name, *channel, "--token-stdin"]
            await run_pixelbot(env, *args, stdin=TOKENS[business])
        await run_pixelbot(env, "admin", "grant", OWNER, ACME)
        await run_pixelbot(env, "admin", "grant", NOVA_ADMIN, NOVA)
        procs: list[asyncio.subprocess.Process] = []
        yield {"env": env, "graph": f"http://127.0.0.1:{graph_port}", "procs": procs}
    finally:
        for proc in procs:  # a failed test must not leave a bot running
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        sandbox.send_signal(signal.SIGTERM)
        await sandbox.wait()


async def _serve(
    world: dict[str, Any], claim_lease: str = "1"
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {
        **world["env"],
        "PIXELBOT_CLAIM_LEASE_SECONDS": claim_lease,
        "PIXELBOT_JOB_LEASE_SECONDS": "3",  # the killed process's jobs resumed soon
    }
    proc = await _daemon(env, "serve", "--port", str(port))
    world["procs"].append(proc)
    await wait_answering(f"http://127.0.0.1:{port}/healthz")
    return proc, f"http://127.0.0.1:{port}/slack/events"


async def _status(database_url: str) -> ShareRequest:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            row = await session.scalar(select(ShareRequest))
            assert row is not None
            return row
    finally:
        await engine.dispose()


async def _graph(graph: str, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient() as client:
        response = await client.request(method, graph + path, json=body)
        response.raise_for_status()
        return response.json()


def _decisions(calls: dict[str, Any], request_id: str) -> list[dict[str, Any]]:
    return [
        c for c in calls["calls"] if c["method"] == "POST" and c["path"].endswith(f"/{request_id}")
    ]


@pytest.mark.parametrize("applied", [True, False], ids=["meta-applied", "never-applied"])
async def test_a_killed_approval_is_finished_by_the_next_start(
    world: dict[str, Any], fake_slack: FakeSlack, database_url: str, applied: bool
) -> None:
    graph = world["graph"]
    # The first process must not "recover" its own live claim while Meta holds the answer.
    bot, url = await _serve(world, claim_lease="600")
    async with httpx.AsyncClient() as client:
        body = command_body(f"share {PIXEL} {NOVA}", OWNER, fake_slack.response_url("share"))
        await client.post(url, content=body, headers=signed_headers(body))
        await until(lambda: bool(fake_slack.calls_to("chat.postMessage")), 10)
        row = await _status(database_url)
        assert row.status == "pending" and row.pending_request_id
        # Meta holds its answer to the approval: the bot dies waiting for it.
        # (a held timeout is applied first; a held drop that does not take effect is not)
        hold = {"kind": "timeout" if applied else "drop", "method": "POST",
                "path": rf"^/{row.pending_request_id}$", "hold_ms": 30000, "times": 1,
                "takes_effect": applied}  # fmt: skip
        await _graph(graph, "POST", "/_sandbox/faults", {"rules": [hold]})
        click = action_body(Action.APPROVE, str(row.id), NOVA_ADMIN, fake_slack.response_url("c"))
        await client.post(url, content=click, headers=signed_headers(click))
    for _ in range(200):
        calls = await _graph(graph, "GET", "/_sandbox/calls")
        if (
            _decisions(calls, row.pending_request_id)
            and (await _status(database_url)).status == "approving"
        ):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the approval never reached Meta")
    bot.send_signal(signal.SIGKILL)
    await bot.wait()
    await _graph(graph, "DELETE", "/_sandbox/faults")
    assert (await _status(database_url)).status == "approving"  # what the crash left behind

    bot, _ = await _serve(world)
    try:
        expected = "active" if applied else "pending"
        for _ in range(200):
            if (await _status(database_url)).status == expected:
                break
            await asyncio.sleep(0.05)
        recovered = await _status(database_url)
        assert recovered.status == expected
        calls = await _graph(graph, "GET", "/_sandbox/calls")
        assert len(_decisions(calls, row.pending_request_id)) == 1  # never a second call
        if applied:
            assert recovered.decider_slack_id == NOVA_ADMIN
            await until(lambda: bool(fake_slack.calls_to("chat.update")), 10)
            assert "Approved by" in json.dumps(fake_slack.calls_to("chat.update")[-1].params)
        else:
            # The clicker hears the end once: from their resumed click when it found the
            # request pending again, else by DM once recovery reopened it (a resumed click
            # that found the approval still in flight says only that).
            def told() -> list[str]:
                dms = [
                    json.dumps(c.params)
                    for c in fake_slack.calls_to("chat.postMessage")
                    if c.params.get("channel") == NOVA_ADMIN
                ]
                return dms + [json.dumps(p) for p in fake_slack.posted_to("c")]

            def ends() -> list[str]:
                return [t for t in told() if "decide it again" in t or "aiting for an" in t]

            await until(lambda: bool(ends()), 15)
            await asyncio.sleep(1.0)  # time for a second one to show up (none should)
            assert len(ends()) == 1, told()
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 15) == 0


async def test_sigterm_with_a_slow_graph_call_exits_within_the_deadline(
    world: dict[str, Any], fake_slack: FakeSlack, database_url: str
) -> None:
    """An orchestrator's SIGTERM: the process is gone within PIXELBOT_SHUTDOWN_SECONDS though
    Meta holds its answer for 60 s, says what it cut short, and leaves the claim exactly as a
    SIGKILL would, for the next start to finish."""
    graph = world["graph"]
    port = free_port()
    env = {**world["env"], "PIXELBOT_CLAIM_LEASE_SECONDS": "600", "PIXELBOT_SHUTDOWN_SECONDS": "2"}
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    world["procs"].append(bot)
    url = f"http://127.0.0.1:{port}/slack/events"
    await wait_answering(f"http://127.0.0.1:{port}/livez")
    async with httpx.AsyncClient() as client:
        body = command_body(f"share {PIXEL} {NOVA}", OWNER, fake_slack.response_url("share"))
        await client.post(url, content=body, headers=signed_headers(body))
        await until(lambda: bool(fake_slack.calls_to("chat.postMessage")), 10)
        row = await _status(database_url)
        hold = {"kind": "drop", "method": "POST", "path": rf"^/{row.pending_request_id}$",
                "hold_ms": 60000, "times": 1, "takes_effect": False}  # fmt: skip
        await _graph(graph, "POST", "/_sandbox/faults", {"rules": [hold]})
        click = action_body(Action.APPROVE, str(row.id), NOVA_ADMIN, fake_slack.response_url("c"))
        await client.post(url, content=click, headers=signed_headers(click))
    for _ in range(200):
        calls = await _graph(graph, "GET", "/_sandbox/calls")
        if _decisions(calls, row.pending_request_id):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the approval never reached Meta")

    bot.send_signal(signal.SIGTERM)
    # Far sooner than Meta's 60 s answer: the 2 s budget, plus start-up of the shutdown.
    assert await asyncio.wait_for(bot.wait(), 15) == 0
    stderr = (await bot.stderr.read()).decode()  # type: ignore[union-attr]
    assert "shutdown: 1 background task(s) still running after" in stderr
    assert "were cut short; crash recovery finishes what they had claimed" in stderr
    assert "Traceback" not in stderr
    await _graph(graph, "DELETE", "/_sandbox/faults")
    assert (await _status(database_url)).status == "approving"  # as a SIGKILL leaves it

    restarted, _ = await _serve(world)  # claim lease 1 s: recovery asks Meta, then reopens
    try:
        for _ in range(200):
            if (await _status(database_url)).status == "pending":
                break
            await asyncio.sleep(0.05)
        assert (await _status(database_url)).status == "pending"
        calls = await _graph(graph, "GET", "/_sandbox/calls")
        assert len(_decisions(calls, row.pending_request_id)) == 1  # never repeated
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(restarted.wait(), 15) == 0
