"""app_manifest.yaml is valid for Slack and declares everything the app listens to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from slack_bolt.async_app import AsyncApp

from bot.app import create_app
from bot.cli import main
from bot.config import Settings
from bot.store.db import create_engine
from tests.services import make_services

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "specs" / "slack" / "manifest.schema.1.0.0.json"


def _manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "app_manifest.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def test_manifest_is_valid_against_slacks_schema() -> None:
    errors = [e.message for e in _validator().iter_errors(_manifest())]
    assert errors == []


def test_schema_check_would_catch_a_broken_manifest() -> None:
    broken = _manifest()
    broken["features"]["slash_commands"][0]["command"] = "pixel"  # no leading slash
    broken["settings"]["interactivity"]["typo"] = True
    assert len(list(_validator().iter_errors(broken))) >= 2


async def test_every_registered_command_and_event_is_in_the_manifest(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: dict[str, set[str]] = {"command": set(), "event": set()}
    for kind in registered:
        original = getattr(AsyncApp, kind)

        def recording(
            self: AsyncApp, name: str, *a: Any, _o: Any = original, _k: str = kind, **kw: Any
        ) -> Any:
            registered[_k].add(name)
            return _o(self, name, *a, **kw)

        monkeypatch.setattr(AsyncApp, kind, recording)
    engine = create_engine("sqlite://")
    create_app(settings, make_services(engine))
    await engine.dispose()

    manifest = _manifest()
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert registered["command"] == {"/pixel"}
    assert registered["command"] <= commands
    assert registered["event"] <= events
    assert "app_home_opened" in registered["event"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_scopes_are_least_privilege() -> None:
    # channels:read and groups:read: `pixelbot doctor` checks approvals channels with
    # conversations.info (public and private channels). Nothing reads message history.
    assert sorted(_manifest()["oauth_config"]["scopes"]["bot"]) == [
        "channels:read",
        "chat:write",
        "commands",
        "groups:read",
    ]


def _cli_manifest(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["manifest", *args])
    return result.exit_code, result.output


def test_manifest_command_fills_in_the_operators_host() -> None:
    status, text = _cli_manifest("--url", "https://pixelbot.acme.com/")
    assert status == 0
    rendered = yaml.safe_load(text)
    assert list(_validator().iter_errors(rendered)) == []
    urls = [
        rendered["features"]["slash_commands"][0]["url"],
        rendered["settings"]["event_subscriptions"]["request_url"],
        rendered["settings"]["interactivity"]["request_url"],
    ]
    assert urls == ["https://pixelbot.acme.com/slack/events"] * 3
    assert "https://pixelbot.example.com" not in text
    # Everything but the host is the shipped manifest, comments included.
    assert (
        text.replace("pixelbot.acme.com", "pixelbot.example.com")
        == (ROOT / "app_manifest.yaml").read_text()
    )


def test_manifest_command_for_socket_mode_declares_no_url() -> None:
    status, text = _cli_manifest("--socket-mode")
    assert status == 0
    rendered = yaml.safe_load(text)
    assert list(_validator().iter_errors(rendered)) == []
    assert rendered["settings"]["socket_mode_enabled"] is True
    assert "url" not in rendered["features"]["slash_commands"][0]
    assert "request_url" not in rendered["settings"]["event_subscriptions"]
    assert "request_url" not in rendered["settings"]["interactivity"]
    assert rendered["oauth_config"] == _manifest()["oauth_config"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "give --url https://HOST"),
        (("--url", "http://pixelbot.acme.com"), "must be the https:// address"),
        (("--url", "https://acme.com/x?y=<z>"), "must be the https:// address"),
        (("--url", "https://a.com", "--socket-mode"), "either --url or --socket-mode"),
    ],
)
def test_manifest_command_refuses_what_slack_would_refuse(args: tuple[str, ...], says: str) -> None:
    status, text = _cli_manifest(*args)
    assert status == 2
    assert says in text
    assert "Traceback" not in text
