"""The ASGI app in-process: health, signature checks, `/pixel help`, App Home."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Settings
from bot.server import Server
from bot.slack.parsing import USAGE
from bot.store.db import create_engine
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.services import make_services
from tests.signing import command_body, event_body, signed_headers
from tests.waiting import until


def _server(settings: Settings, engine: AsyncEngine) -> Server:
    services = make_services(engine)
    secret = settings.secret("slack_signing_secret")
    return Server(create_app(settings, services), engine, signing_secret=secret)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_server(settings, engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://pixelbot") as client:
        yield client


async def test_healthz_reports_ok_when_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


async def test_healthz_is_503_when_database_is_unreachable(settings: Settings) -> None:
    # Nothing listens on port 9 of loopback: the database cannot be reached.
    engine = create_engine("postgresql://nobody@127.0.0.1:9/none")
    transport = httpx.ASGITransport(app=_server(settings, engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://pixelbot") as client:
        response = await client.get("/healthz")
    await engine.dispose()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "version": response.json()["version"],
        "database": "unreachable",
    }


async def test_signed_help_gets_usage_text(client: httpx.AsyncClient) -> None:
    body = command_body("help")
    response = await client.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    payload = response.json()
    assert payload["response_type"] == "ephemeral"
    rendered = json.dumps(payload["blocks"])
    for usage in USAGE.values():
        assert usage in rendered


async def test_empty_command_text_also_gets_help(client: httpx.AsyncClient) -> None:
    body = command_body("")
    response = await client.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert "/pixel share PIXEL_ID" in json.dumps(response.json()["blocks"])


async def test_unknown_subcommand_names_the_problem(client: httpx.AsyncClient) -> None:
    body = command_body("shrae 1 2")
    response = await client.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert "unknown subcommand 'shrae'" in response.json()["text"]
    assert "/pixel help" in response.json()["text"]
    assert "Sandbox mode" in json.dumps(response.json()["blocks"])  # tests run on the sandbox


async def test_malformed_arguments_get_that_subcommands_usage(client: httpx.AsyncClient) -> None:
    body = command_body("share 12ab 456")
    response = await client.post("/slack/events", content=body, headers=signed_headers(body))
    text = response.json()["text"]
    assert "PIXEL_ID must be a number" in text
    assert USAGE["share"] in text


async def test_bad_signature_is_refused(client: httpx.AsyncClient, fake_slack: FakeSlack) -> None:
    body = command_body("help")
    headers = signed_headers(body, secret="not-the-signing-secret")
    response = await client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert fake_slack.calls == []


async def test_timestamp_older_than_five_minutes_is_refused(client: httpx.AsyncClient) -> None:
    body = command_body("help")
    headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = await client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401


async def test_missing_signature_headers_are_refused(client: httpx.AsyncClient) -> None:
    body = command_body("help")
    response = await client.post("/slack/events", content=body)
    assert response.status_code == 401


async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/admin")).status_code == 404


async def test_app_home_opened_publishes_home_through_slack_api_url(
    client: httpx.AsyncClient, fake_slack: FakeSlack
) -> None:
    body = event_body({"type": "app_home_opened", "user": "U0000USER", "tab": "home"})
    headers = {**signed_headers(body), "content-type": "application/json"}
    response = await client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    await until(lambda: bool(fake_slack.calls_to("views.publish")))
    (call,) = fake_slack.calls_to("views.publish")
    assert call.params["user_id"] == "U0000USER"
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    assert "How to" in json.dumps(view)


async def test_messages_tab_does_not_publish_home(
    client: httpx.AsyncClient, fake_slack: FakeSlack
) -> None:
    body = event_body({"type": "app_home_opened", "user": "U0000USER", "tab": "messages"})
    headers = {**signed_headers(body), "content-type": "application/json"}
    assert (await client.post("/slack/events", content=body, headers=headers)).status_code == 200
    body = command_body("help")  # a later request proves the event was fully handled
    await client.post("/slack/events", content=body, headers=signed_headers(body))
    assert fake_slack.calls_to("views.publish") == []
    assert [c.method for c in fake_slack.calls] == ["auth.test"]
    assert BOT_TOKEN not in json.dumps([c.params for c in fake_slack.calls])


async def test_slacks_url_verification_challenge_is_answered(client: httpx.AsyncClient) -> None:
    """Setting the Events request URL in Slack's app config sends this, signed."""
    body = json.dumps(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    )
    headers = signed_headers(body) | {"content-type": "application/json"}
    response = await client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV" in response.text


async def test_slacks_unsigned_ssl_check_gets_an_empty_200(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/slack/events",
        content="ssl_check=1&token=legacy",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, response.text) == (200, "")


async def test_a_normal_start_logs_no_warning(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    # As in production: the token is in the environment, where Bolt also looks for it.
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.secret("slack_bot_token"))
    with caplog.at_level(logging.DEBUG):
        create_app(settings, make_services(engine))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
