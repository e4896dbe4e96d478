"""`pixelbot doctor` against fake Slack, the Graph sandbox and a real database of each backend.

Most cases run the real `doctor` command in-process (in a worker thread, so that fake Slack
keeps answering on the test's event loop) against `pixelbot sandbox` as a real server; one
runs the console command as a separate process, end to end.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.config import Settings
from bot.doctor import Check, missing_permission, run_checks
from bot.flows.meta.errors import GraphPermissionError
from bot.flows.registry import Registry
from bot.graph.client import GraphClient
from bot.sandbox import create_sandbox
from bot.sandbox_mode import SANDBOX_BASE_URL
from bot.store import migrate
from bot.store.db import session_factory
from bot.tokens import TokenBox, fingerprint
from tests.conftest import SECRET_KEY
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.processes import free_port, wait_answering_sync

ACME, BRIGHT, NOVA = "100200300400501", "100200300400502", "100200300400503"
CHANNELS = {ACME: "C0ACMEAPPR", BRIGHT: "C0BRIGHTAP", NOVA: "C0NOVAAPPR"}
NAMES = {ACME: "Acme Shoes", BRIGHT: "Bright Agency", NOVA: "Nova Media"}
ADMINS = {ACME: "U0ACMEOWN1", BRIGHT: "U0BRIGHTA1", NOVA: "U0NOVAADM1"}
WORLD = create_sandbox().world
SECRETS = [t for b in WORLD.businesses.values() for t in b.tokens] + [BOT_TOKEN, SECRET_KEY]


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pixelbot sandbox` (the demo world) as a real server on loopback."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    command = [sys.executable, "-m", "bot", "sandbox", "--port", str(port)]
    # A file, not a pipe: the sandbox logs every call and a full pipe would stall it.
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering_sync(f"{url}/_sandbox/world", proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def graph_url(sandbox_server: str) -> str:
    """The sandbox, back to the demo world as loaded (no expired tokens, no faults)."""
    httpx.post(f"{sandbox_server}/_sandbox/reset").raise_for_status()
    return sandbox_server


@pytest.fixture
def registry(engine: AsyncEngine) -> Registry:
    return Registry(session_factory(engine), TokenBox(SecretStr(SECRET_KEY)))


@pytest.fixture
async def registered(registry: Registry, fake_slack: FakeSlack) -> None:
    """The demo world's three businesses, each with its token, channel (bot in it) and admin."""
    for business_id, name in NAMES.items():
        token = SecretStr(WORLD.token_for(business_id))
        await registry.add_business(business_id, name, CHANNELS[business_id], token)
        await registry.grant_admin(ADMINS[business_id], business_id)
        fake_slack.channels[CHANNELS[business_id]] = {"name": "approvals", "is_member": True}


@pytest.fixture
def env(settings_env: dict[str, str], graph_url: str) -> dict[str, str]:
    return {**settings_env, "GRAPH_API_URL": graph_url}


async def _expire_tokens(graph_url: str, business_id: str) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{graph_url}/_sandbox/tokens/expire", json={"business_id": business_id}
        )
        answer.raise_for_status()


async def _doctor(env: dict[str, str]) -> tuple[int, list[str]]:
    """Run `pixelbot doctor`; its exit code and report lines (stdout and stderr hold no secret)."""
    result = await asyncio.to_thread(CliRunner().invoke, main, ["doctor"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    for secret in SECRETS:
        assert secret not in result.output
    return result.exit_code, result.stdout.splitlines()


def _line(lines: list[str], start: str) -> str:
    (found,) = [line for line in lines if line.startswith(start)]
    return found


def _failures(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


async def test_all_good_exits_0_with_every_line_ok(env: dict[str, str], registered: None) -> None:
    code, lines = await _doctor(env)
    assert code == 0, "\n".join(lines)
    *checks, summary = lines
    assert len(checks) == 12  # database, secret key, slack, then 3 x (channel, token, admins)
    assert all(line.startswith("ok    ") for line in checks)
    assert summary == "all 12 checks passed"
    assert _line(lines, "ok    slack:").endswith("auth.test as pixelbot (UBOT00001) in T0000TEAM")
    assert "at migration head" in _line(lines, "ok    database:")
    acme = _line(lines, f"ok    token {fingerprint(SecretStr(WORLD.token_for(ACME)))}")
    assert "valid, acts for 'Acme Shoes'" in acme and "3 owned pixel(s)" in acme
    assert "bot is a member" in _line(lines, f"ok    channel {CHANNELS[NOVA]} of Nova Media")


async def test_wrong_slack_token(env: dict[str, str], registered: None) -> None:
    code, lines = await _doctor({**env, "SLACK_BOT_TOKEN": "xoxb-not-the-right-one"})
    assert code == 1
    (failure,) = _failures(lines)
    assert failure.startswith("FAIL  slack: auth.test: Slack refused the bot token (invalid_auth)")
    assert "fix: set SLACK_BOT_TOKEN" in failure
    assert "xoxb-not-the-right-one" not in "\n".join(lines)


async def test_expired_business_token(
    env: dict[str, str], registered: None, graph_url: str
) -> None:
    await _expire_tokens(graph_url, NOVA)
    code, lines = await _doctor(env)
    assert code == 1
    (failure,) = _failures(lines)
    fp = fingerprint(SecretStr(WORLD.token_for(NOVA)))
    assert failure.startswith(f"FAIL  token {fp} of Nova Media ({NOVA}): token expired or revoked")
    assert f"pixelbot business add {NOVA} --name 'Nova Media' --token-stdin --replace" in failure


async def test_missing_channel_and_bot_not_in_channel(
    env: dict[str, str], registered: None, fake_slack: FakeSlack
) -> None:
    del fake_slack.channels[CHANNELS[ACME]]
    fake_slack.channels[CHANNELS[NOVA]]["is_member"] = False
    code, lines = await _doctor(env)
    assert code == 1
    assert len(_failures(lines)) == 2
    missing = _line(lines, f"FAIL  channel {CHANNELS[ACME]} of Acme Shoes")
    assert "the channel does not exist" in missing and "--channel CHANNEL_ID" in missing
    assert _line(lines, f"FAIL  channel {CHANNELS[NOVA]} of Nova Media") == (
        f"FAIL  channel {CHANNELS[NOVA]} of Nova Media: the bot is not a member"
        " — fix: /invite @pixelbot in that channel"
    )


async def test_missing_slack_scope_is_named(
    env: dict[str, str], registered: None, fake_slack: FakeSlack
) -> None:
    fake_slack.failures["conversations.info"] = "missing_scope"
    code, lines = await _doctor(env)
    assert code == 1
    assert len(_failures(lines)) == 3
    assert all("lacks the scope channels:read,groups:read" in f for f in _failures(lines))


async def test_business_without_admins(
    env: dict[str, str], registered: None, registry: Registry
) -> None:
    await registry.revoke_admin(ADMINS[BRIGHT], BRIGHT)
    code, lines = await _doctor(env)
    assert code == 1
    assert _failures(lines) == [
        f"FAIL  admins of Bright Agency ({BRIGHT}): nobody may approve or act for it"
        f" — fix: `pixelbot admin grant SLACK_USER_ID {BRIGHT}`"
    ]


async def test_database_behind_head(
    env: dict[str, str], registered: None, engine: AsyncEngine
) -> None:
    await migrate.downgrade(engine, "0002")
    code, lines = await _doctor(env)
    assert code == 1
    (failure,) = _failures(lines)
    assert failure.startswith("FAIL  database: ")
    assert f"is at revision 0002, this pixelbot needs {migrate.head_revision()}" in failure
    assert failure.endswith("fix: run `pixelbot db upgrade`")


async def test_database_never_upgraded(
    settings_env: dict[str, str], graph_url: str, database_url: str
) -> None:
    code, lines = await _doctor({**settings_env, "GRAPH_API_URL": graph_url})
    assert code == 1
    failure = _line(lines, "FAIL  database: ")
    assert "pixelbot db upgrade" in failure
    if database_url.startswith("sqlite"):
        assert "does not exist" in failure
        path = Path(database_url.removeprefix("sqlite:///"))
        assert not await asyncio.to_thread(path.exists)  # the doctor did not create it
    else:
        assert "empty (no migration applied)" in failure


async def test_wrong_secret_key(env: dict[str, str], registered: None) -> None:
    code, lines = await _doctor({**env, "PIXELBOT_SECRET_KEY": Fernet.generate_key().decode()})
    assert code == 1
    (failure,) = _failures(lines)
    assert failure.startswith("FAIL  secret key: cannot decrypt the stored token of Acme Shoes")
    assert f"Nova Media ({NOVA})" in failure
    assert "PIXELBOT_SECRET_KEY is not the key they were stored with" in failure
    assert not any(line.startswith("ok    token") for line in lines)  # nothing to check with


async def test_token_of_another_business(
    settings: Settings, registered: None, registry: Registry
) -> None:
    """In-process sandbox: Nova registered with Acme's token (a copy-paste mistake)."""
    sandbox = create_sandbox()
    acme_token = SecretStr(WORLD.token_for(ACME))
    await registry.add_business(NOVA, "Nova Media", CHANNELS[NOVA], acme_token, replace=True)
    transport = httpx.ASGITransport(app=sandbox)
    async with GraphClient(base_url=SANDBOX_BASE_URL, transport=transport) as graph:
        checks = await run_checks(settings, graph=graph)
    (failure,) = [c for c in checks if not c.ok]
    assert failure.name == f"token {fingerprint(acme_token)} of Nova Media ({NOVA})"
    assert "owned_pixels: permission denied (#200)" in failure.detail
    assert "A token of Acme Shoes cannot read the pixels of another business" in failure.detail


@pytest.mark.parametrize(
    ("message", "permission"),
    [
        (
            "(#200) Requires business_management permission to manage the object",
            "business_management",
        ),
        ("(#283) Requires extended permission: ads_management", "ads_management"),
        ("(#294) Managing ads requires the extended permission ads_management", "ads_management"),
        ("(#10) Application does not have permission for this action", None),
    ],
)
def test_missing_permission_is_read_from_metas_message(
    message: str, permission: str | None
) -> None:
    assert missing_permission(GraphPermissionError(message, code=200)) == permission


def test_a_failed_check_names_its_fix() -> None:
    check = Check("channel C0NOVA of Nova Media", False, "the bot is not a member", "/invite")
    assert (
        check.line() == "FAIL  channel C0NOVA of Nova Media: the bot is not a member — fix: /invite"
    )
    assert Check("slack", True, "fine").line() == "ok    slack: fine"


@pytest.mark.slow
async def test_console_command_end_to_end(
    env: dict[str, str], registered: None, graph_url: str
) -> None:
    await _expire_tokens(graph_url, ACME)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "doctor",
        env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    output = out.decode() + err.decode()
    assert proc.returncode == 1, output
    assert not any(secret in output for secret in SECRETS)
    lines = out.decode().splitlines()
    assert [line[:6] for line in lines[:-1]].count("FAIL  ") == 1
    assert "token expired or revoked (#190/463)" in _line(lines, "FAIL  token")
    assert lines[-1] == "1 of 12 checks failed"


async def test_reconcile_command_settles_a_request_declined_in_meta(
    env: dict[str, str], registered: None, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    """`pixelbot reconcile`: one upkeep pass against the configured Meta, Slack and database."""
    from sqlalchemy import select

    from bot.store.models import ShareRequest

    graph = env["GRAPH_API_URL"]
    async with httpx.AsyncClient() as client:
        shared = await client.post(
            f"{graph}/v25.0/300400500600701/agencies",
            data={"business": NOVA, "permitted_tasks": '["ANALYZE"]'},
            headers={"Authorization": f"Bearer {WORLD.token_for(ACME)}"},
        )
        pending = shared.json()["pending_request_id"]
        decided = await client.post(
            f"{graph}/_sandbox/requests/{pending}/decide", json={"request_status": "DECLINE"}
        )
        decided.raise_for_status()
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        session.add(
            ShareRequest(
                pixel_id="300400500600701",
                owner_business_id=ACME,
                agency_business_id=NOVA,
                permitted_tasks=["ANALYZE"],
                status="pending",
                pending_request_id=pending,
                requester_slack_id=ADMINS[ACME],
                slack_channel=CHANNELS[NOVA],
                slack_ts="1700000000.000001",
            )
        )
    result = await asyncio.to_thread(CliRunner().invoke, main, ["reconcile"], env=env)
    assert result.exit_code == 0, result.output
    assert "settled 1 decided in Meta" in result.stdout
    async with sessions() as session:
        row = await session.scalar(select(ShareRequest))
    assert row is not None and row.status == "declined"
    [update] = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == "1700000000.000001"
    assert "Declined in Meta" in str(update.params)
