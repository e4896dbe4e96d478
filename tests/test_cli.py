"""Operator CLI round trips on each database backend, and its refusals."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.cli import main
from bot.store.db import create_engine
from bot.store.models import AuditEvent, Business, BusinessAdmin
from bot.tokens import fingerprint
from tests import secrets_guard
from tests.conftest import SECRET_KEY

TOKEN = "EAAGm0PX4ZCpsBAtestTOKENvalue1234567890"
secrets_guard.KNOWN.add(TOKEN)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PIXELBOT_SECRET_KEY", SECRET_KEY)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, env=env)

    return invoke


def _counts(database_url: str) -> tuple[int, int, int]:
    async def count() -> tuple[int, int, int]:
        engine = create_engine(database_url)
        async with engine.connect() as conn:
            numbers = [
                (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in (Business, BusinessAdmin, AuditEvent)
            ]
        await engine.dispose()
        return numbers[0], numbers[1], numbers[2]

    return asyncio.run(count())


def test_add_with_token_from_env_then_list_shows_fingerprint_only(cli, database_url) -> None:
    added = cli(
        "business",
        "add",
        "1234567890",
        "--name",
        "Acme Shoes",
        "--channel",
        "C0APPROVAL",
        "--token-env",
        "ACME_TOKEN",
        env={"ACME_TOKEN": TOKEN},
    )
    assert added.exit_code == 0, added.output
    expected_fp = fingerprint(SecretStr(TOKEN))
    assert expected_fp in added.output
    listed = cli("business", "list")
    assert listed.exit_code == 0
    assert "1234567890" in listed.output and "Acme Shoes" in listed.output
    assert "C0APPROVAL" in listed.output and expected_fp in listed.output
    assert TOKEN not in listed.output and TOKEN[:12] not in listed.output


def test_add_with_token_from_stdin(cli) -> None:
    added = cli(
        "business", "add", "555", "--name", "Bright Agency", "--token-stdin", input=TOKEN + "\n"
    )
    assert added.exit_code == 0, added.output
    assert fingerprint(SecretStr(TOKEN)) in cli("business", "list").output


def test_grant_list_revoke_admin(cli) -> None:
    cli("business", "add", "555", "--name", "Bright", "--token-stdin", input=TOKEN)
    assert cli("admin", "grant", "U0AGENCY1", "555").exit_code == 0
    listed = cli("admin", "list", "555")
    assert "U0AGENCY1" in listed.output and "555" in listed.output
    assert "1" in cli("business", "list").output.splitlines()[1].split()[-1]
    assert cli("admin", "revoke", "U0AGENCY1", "555").exit_code == 0
    assert "no admins" in cli("admin", "list", "555").output


def test_remove_business_drops_its_admins(cli, database_url) -> None:
    cli("business", "add", "555", "--name", "Bright", "--token-stdin", input=TOKEN)
    cli("admin", "grant", "U0AGENCY1", "555")
    assert cli("business", "remove", "555").exit_code == 0
    assert "no business" in cli("business", "list").output
    businesses, admins, audits = _counts(database_url)
    assert (businesses, admins) == (0, 0)
    assert audits == 3  # add, grant, remove: the history stays


@pytest.mark.parametrize(
    ("args", "stdin", "env", "message"),
    [
        (("admin", "grant", "U0STRANGER", "999"), None, None, "business 999 is not registered"),
        (("admin", "grant", "U0STRANGER", "12x"), None, None, "business id must be a number"),
        (("admin", "grant", "nobody", "555"), None, None, "Slack user id must look like"),
        (("admin", "revoke", "U0NOTADMIN", "555"), None, None, "is not an admin"),
        (
            ("business", "add", "12ab", "--name", "X", "--token-stdin"),
            TOKEN,
            None,
            "business id must be a number",
        ),
        (
            ("business", "add", "777", "--name", "X", "--token-env", "NOPE_TOKEN"),
            None,
            None,
            "environment variable NOPE_TOKEN is not set",
        ),
        (("business", "add", "777", "--name", "X"), None, None, "exactly one of --token-env"),
        (
            ("business", "add", "777", "--name", "X", "--token-stdin"),
            "  \n",
            None,
            "the token is empty",
        ),
        (
            ("business", "add", "777", "--name", "X", "--channel", "#general", "--token-stdin"),
            TOKEN,
            None,
            "Slack channel id must look like",
        ),
        (
            ("business", "add", "555", "--name", "Again", "--token-stdin"),
            TOKEN,
            None,
            "already registered",
        ),
        (("business", "remove", "999"), None, None, "business 999 is not registered"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    cli, database_url, args, stdin, env, message
) -> None:
    cli("business", "add", "555", "--name", "Bright", "--token-stdin", input=TOKEN)
    before = _counts(database_url)
    result = cli(*args, input=stdin, env=env)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("pixelbot: ") and message in line
    assert _counts(database_url) == before


def test_duplicate_grant_is_refused(cli, database_url) -> None:
    cli("business", "add", "555", "--name", "Bright", "--token-stdin", input=TOKEN)
    cli("admin", "grant", "U0AGENCY1", "555")
    before = _counts(database_url)
    result = cli("admin", "grant", "U0AGENCY1", "555")
    assert result.exit_code == 2
    assert "already an admin" in result.output
    assert _counts(database_url) == before


def test_replace_rotates_the_token(cli) -> None:
    cli("business", "add", "555", "--name", "Bright", "--token-stdin", input=TOKEN)
    new = TOKEN + "rotated"
    result = cli(
        "business", "add", "555", "--name", "Bright", "--replace", "--token-stdin", input=new
    )
    assert result.exit_code == 0
    assert fingerprint(SecretStr(new)) in cli("business", "list").output


def test_console_script_reads_token_from_stdin(database_url: str, tmp_path) -> None:
    env = {"DATABASE_URL": database_url, "PIXELBOT_SECRET_KEY": SECRET_KEY, "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "bot"]
    assert subprocess.run([*run, "db", "upgrade"], env=env, capture_output=True).returncode == 0
    added = subprocess.run(
        [*run, "business", "add", "42", "--name", "Real", "--token-stdin"],
        env=env,
        input=TOKEN,
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    assert TOKEN not in added.stdout + added.stderr
    assert "sha256:" in added.stdout


def test_db_downgrade_for_a_rollback_then_upgrade_again(cli) -> None:
    down = cli("db", "downgrade", "0002")
    assert down.exit_code == 0, down.output
    assert down.output.strip().endswith("is at revision 0002")
    unknown = cli("db", "downgrade", "9999")
    assert unknown.exit_code == 2
    assert "Can't locate revision identified by '9999'" in unknown.output
    assert "Traceback" not in unknown.output
    up = cli("db", "upgrade")
    assert up.output.strip().endswith("is at revision 0005 (head)")
