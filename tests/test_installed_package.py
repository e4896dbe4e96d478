"""pixelbot as an operator installs it: `pip install <checkout>` (not editable) into a
virtual environment of its own, then every command run from an empty folder.

The environment is made by `.ci/run` (installing needs the package index, and tests reach
nothing beyond loopback) and named by PIXELBOT_INSTALLED_VENV; without it these tests skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from bot.slack.ids import Action
from tests.fakes.slack import FakeSlack
from tests.processes import free_port, wait_healthy
from tests.signing import action_body, command_body, signed_headers
from tests.waiting import until

pytestmark = pytest.mark.slow

VENV = os.environ.get("PIXELBOT_INSTALLED_VENV")
CHECKOUT = Path(__file__).resolve().parents[1]

if VENV is None:
    pytest.skip(
        "PIXELBOT_INSTALLED_VENV is not set: .ci/run makes a virtualenv with "
        "`pip install <checkout>` (not editable) and names it there",
        allow_module_level=True,
    )


def _pixelbot(empty: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [f"{VENV}/bin/pixelbot", *args],
        cwd=empty,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_installed_code_is_not_the_checkouts(empty: Path) -> None:
    where = subprocess.run(
        [f"{VENV}/bin/python", "-c", "import bot; print(bot.__file__)"],
        cwd=empty,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(VENV))
    assert not where.startswith(str(CHECKOUT))
    shipped = Path(where).parent
    assert (shipped / "py.typed").is_file()
    assert (shipped / "migrations" / "env.py").is_file()


def test_db_upgrade_from_an_empty_folder(empty: Path, database_url: str) -> None:
    env = {} if database_url.startswith("sqlite") else {"DATABASE_URL": database_url}
    done = _pixelbot(empty, env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("is at revision 0005 (head)")
    if database_url.startswith("sqlite"):
        assert sorted(p.name for p in empty.iterdir())[:1] == ["pixelbot.db"]
    again = _pixelbot(empty, env, "db", "upgrade")
    assert again.returncode == 0, again.stderr


def test_manifest_and_version_from_the_installed_package(empty: Path) -> None:
    manifest = _pixelbot(empty, {}, "manifest", "--url", "https://bot.acme.com")
    assert manifest.returncode == 0, manifest.stderr
    rendered = yaml.safe_load(manifest.stdout)
    assert rendered["settings"]["interactivity"]["request_url"] == (
        "https://bot.acme.com/slack/events"
    )
    version = _pixelbot(empty, {}, "--version")
    from bot import __version__

    assert version.stdout.strip() == f"pixelbot, version {__version__}"


async def test_serve_sandbox_from_an_empty_folder(
    empty: Path, settings_env: dict[str, str], fake_slack: FakeSlack, database_url: str
) -> None:
    """The README's sandbox demo, run by the installed command: share, then approve."""
    env = dict(settings_env)
    if database_url.startswith("sqlite"):
        del env["DATABASE_URL"]  # the sandbox's own SQLite file in the empty folder
    else:  # a shared database is upgraded deliberately, once, as the README says
        upgraded = _pixelbot(empty, {"DATABASE_URL": database_url}, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        f"{VENV}/bin/pixelbot",
        *("serve", "--sandbox", "--sandbox-admin", "U0000USER", "--sandbox-channel", "C0APPROV"),
        cwd=empty,
        env={**env, "PORT": str(port), "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        assert (await wait_healthy(port, proc, seconds=60)).status_code == 200
        async with httpx.AsyncClient() as client:
            body = command_body(
                "share 300400500600701 100200300400503 ANALYZE",
                response_url=fake_slack.response_url("share"),
            )
            assert (await client.post(url, content=body, headers=signed_headers(body))).is_success
            await until(lambda: bool(fake_slack.calls_to("chat.postMessage")), 20)
            [posted] = fake_slack.calls_to("chat.postMessage")
            approve = next(
                element
                for block in posted.params["blocks"]
                if block["type"] == "actions"
                for element in block["elements"]
                if element["action_id"] == Action.APPROVE
            )
            click = action_body(
                Action.APPROVE, approve["value"], "U0000USER", fake_slack.response_url("click")
            )
            assert (await client.post(url, content=click, headers=signed_headers(click))).is_success
            await until(lambda: bool(fake_slack.calls_to("chat.update")), 20)
        assert "Approved by <@U0000USER>" in json.dumps(
            fake_slack.calls_to("chat.update")[0].params
        )
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    stderr = (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    assert "Traceback" not in stderr
    assert " WARNING " not in stderr


async def test_the_playground_page_ships_inside_the_package(empty: Path) -> None:
    """`pixelbot playground` from an empty folder: the page and its assets are in the wheel,
    and a command typed on it comes back from pixelbot."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        f"{VENV}/bin/pixelbot",
        *("playground", "--port", str(port)),
        cwd=empty,
        env={"PATH": "/usr/bin:/bin", "HOME": str(empty)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert (await wait_healthy(port, proc, seconds=60)).status_code == 200
        async with httpx.AsyncClient(base_url=base) as client:
            for path in ("/", "/static/app.js", "/static/style.css"):
                assert (await client.get(path)).status_code == 200, path
            user = {"user": "U0PLAYACME"}
            typed = {**user, "channel": "C0PLAYACME", "text": "/pixel help"}
            assert (await client.post("/play/command", json=typed)).json() == {"ok": True}
            seen = (await client.get("/play/state", params=user)).json()
        assert "/pixel share" in json.dumps(seen["messages"]["C0PLAYACME"])
        assert (empty / "pixelbot-playground.db").exists()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    stderr = (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    assert "Traceback" not in stderr
