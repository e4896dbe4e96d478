"""`pixelbot serve` as a real process: first run on a fresh SQLite file, real HTTP on
loopback, signed requests, clean SIGTERM; and the same app over Socket Mode."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.slack.ids import Action
from tests.fakes.slack import FakeSlack
from tests.processes import free_port, wait_healthy
from tests.signing import action_body, command_body, signed_headers
from tests.waiting import until

pytestmark = pytest.mark.slow


async def _start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        *args,
        env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _start_sandboxed(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    """`serve --sandbox` as the README's demo runs it: one admin, one approvals channel."""
    return await _start(
        env,
        *("--port", str(port), "--sandbox"),
        *("--sandbox-admin", "U0000USER", "--sandbox-channel", "C0APPROVAL"),
    )


@pytest.fixture
def sqlite_env(settings_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    # No DATABASE_URL: the default `pixelbot.db` in the working folder, as a newcomer runs it.
    return {k: v for k, v in settings_env.items() if k != "DATABASE_URL"}


@pytest.fixture
async def http_server(
    sqlite_env: dict[str, str],
) -> AsyncIterator[tuple[int, asyncio.subprocess.Process]]:
    port = free_port()
    proc = await _start(sqlite_env, "--port", str(port))
    yield port, proc
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_first_run_creates_schema_and_answers(
    http_server: tuple[int, asyncio.subprocess.Process], tmp_path: Path
) -> None:
    port, proc = http_server
    health = await wait_healthy(port, proc)
    assert health.status_code == 200
    assert (tmp_path / "pixelbot.db").exists()
    body = command_body("help")
    async with httpx.AsyncClient() as client:
        ok = await client.post(
            f"http://127.0.0.1:{port}/slack/events", content=body, headers=signed_headers(body)
        )
        forged = await client.post(
            f"http://127.0.0.1:{port}/slack/events",
            content=body,
            headers=signed_headers(body, secret="forged"),
        )
    assert ok.status_code == 200
    assert "/pixel unshare PIXEL_ID AGENCY_BUSINESS_ID" in json.dumps(ok.json())
    assert forged.status_code == 401

    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 15) == 0
    stderr = (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    assert "pixelbot stopped" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_socket_mode_answers_help_over_the_socket(
    sqlite_env: dict[str, str], fake_slack: FakeSlack
) -> None:
    port = free_port()
    proc = await _start(sqlite_env, "--socket-mode", "--port", str(port))
    try:
        health = await wait_healthy(port, proc)
        for _ in range(200):
            if health.json().get("slack_socket") == "ok":
                break
            await asyncio.sleep(0.05)
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert health.json()["slack_socket"] == "ok"
        envelope = {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/pixel",
                "text": "help",
                "user_id": "U0000USER",
                "team_id": "T0000TEAM",
                "channel_id": "C0000CHAN",
                "response_url": fake_slack.response_url(),
                "trigger_id": "t",
            },
        }
        # A payload Bolt would crash on is acknowledged, refused, and changes nothing.
        odd = {**envelope, "envelope_id": "env-0"}
        odd["payload"] = {**envelope["payload"], "user_id": 42, "trigger_id": ["t"]}
        await fake_slack.socket_inbox.put(odd)
        refused = await asyncio.wait_for(fake_slack.socket_outbox.get(), 10)
        assert refused == {"envelope_id": "env-0"}
        await fake_slack.socket_inbox.put(envelope)
        ack = await asyncio.wait_for(fake_slack.socket_outbox.get(), 10)
        assert ack["envelope_id"] == "env-1"
        assert "/pixel link PIXEL_ID" in json.dumps(ack["payload"])
        # Counted like an HTTP request, on the health server's /metrics.
        async with httpx.AsyncClient() as client:
            scraped = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        counted = {
            (sample.labels["kind"], sample.labels["status"]): sample.value
            for family in text_string_to_metric_families(scraped)
            if family.name == "pixelbot_slack_requests"
            for sample in family.samples
        }
        assert counted == {("slash_command", "200"): 1.0, ("slash_command", "400"): 1.0}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_socket_mode_needs_the_app_token(sqlite_env: dict[str, str]) -> None:
    env = {k: v for k, v in sqlite_env.items() if k != "SLACK_APP_TOKEN"}
    proc = await _start(env, "--socket-mode")
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip() == (
        "pixelbot: SLACK_APP_TOKEN is not set: expected an app-level token starting with "
        "xapp- (Socket Mode only)"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_serve_sandbox_registers_the_demo_world_and_says_so(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    proc = await _start_sandboxed(sqlite_env, port)
    try:
        assert (await wait_healthy(port, proc)).status_code == 200
        body = command_body("help")
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"http://127.0.0.1:{port}/slack/events", content=body, headers=signed_headers(body)
            )
        assert "Sandbox mode" in json.dumps(reply.json())
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    assert not (tmp_path / "pixelbot.db").exists()  # the real database is left alone
    listing = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "business",
        "list",
        env={**sqlite_env, "DATABASE_URL": "sqlite:///pixelbot-sandbox.db"},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await listing.communicate()
    lines = out.decode().splitlines()
    assert len(lines) == 4  # header + Acme Shoes, Bright Agency, Nova Media
    assert all("C0APPROVAL" in line and line.split()[-1] == "1" for line in lines[1:])


async def test_pixelbot_sandbox_serves_graph_over_http() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        str(port),
        "--latency-ms",
        "5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    reply = await client.get(
                        f"http://127.0.0.1:{port}/v25.0/300400500600701?fields=id,name",
                        headers={"Authorization": "Bearer EAASandboxAcmeShoesAdmin0001"},
                    )
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        assert reply.status_code == 200
        assert reply.json() == {"id": "300400500600701", "name": "Acme Shoes - Website"}
        assert "x-business-use-case-usage" in reply.headers
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
    stderr = (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    assert "EAASandboxAcmeShoesAdmin0001" not in stderr


async def test_pixelbot_sandbox_refuses_a_bad_world_file(tmp_path: Path) -> None:
    world = tmp_path / "world.yaml"
    world.write_text("businesses: [{id: 12, name: X}]\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--world",
        str(world),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    (line,) = err.decode().strip().splitlines()
    assert line.startswith("pixelbot: ") and "world.yaml" in line


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_serve_sandbox_runs_share_and_approve_from_slack(
    sqlite_env: dict[str, str], fake_slack: FakeSlack
) -> None:
    """The demo as a newcomer runs it: one person, every business, one approvals channel."""
    port = free_port()
    proc = await _start_sandboxed(sqlite_env, port)
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        await wait_healthy(port, proc)
        async with httpx.AsyncClient() as client:
            # Acme's Website pixel to Nova Media, which is not a partner yet: Meta asks Nova.
            body = command_body(
                "share 300400500600701 100200300400503 ANALYZE",
                response_url=fake_slack.response_url("share"),
            )
            ack = await client.post(url, content=body, headers=signed_headers(body))
            assert ack.status_code == 200
            await until(lambda: bool(fake_slack.posted_to("share")), 10)
            assert "<#C0APPROVAL>" in json.dumps(fake_slack.posted_to("share")[-1])
            [posted] = fake_slack.calls_to("chat.postMessage")
            blocks = posted.params["blocks"]
            approve = next(
                e
                for b in blocks
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == Action.APPROVE
            )
            click = action_body(
                Action.APPROVE, approve["value"], "U0000USER", fake_slack.response_url("click")
            )
            ack = await client.post(url, content=click, headers=signed_headers(click))
            assert ack.status_code == 200
            await until(lambda: bool(fake_slack.calls_to("chat.update")), 10)
        [update] = fake_slack.calls_to("chat.update")
        assert "Approved by <@U0000USER>" in json.dumps(update.params)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
