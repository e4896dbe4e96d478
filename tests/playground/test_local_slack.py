"""The playground's Slack: its Web API answers as Slack's does (shapes and error names), its
response_urls keep Slack's limits, and what it sends pixelbot has the shape of Slack's own
payloads, signed so that pixelbot's gate takes it.

Payload keys are those Slack documents for each payload (api.slack.com/reference/interaction-
payloads/block-actions-payload, /views-payload, /interactivity/slash-commands#app_command_handling,
/events/app_home_opened).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.playground.cast import BOT_USER, PEOPLE, dm_channel
from bot.playground.outgoing import Outgoing
from bot.playground.page import state_for
from bot.playground.slack_state import RESPONSE_URL_USES, SlackError, Workspace
from bot.playground.web_api import call
from bot.sandbox.http import RawRequest

TOKEN = "xoxb-playground-test"
OWNER, AGENCY = PEOPLE[0].id, PEOPLE[1].id
CHANNEL = "C0PLAYNOVA"


def _request(method: str, params: dict[str, Any], token: str | None = TOKEN) -> RawRequest:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps(params).encode()
    return RawRequest("POST", f"/api/{method}", "", headers, body, "http://127.0.0.1")


async def _call(slack: Workspace, method: str, **params: Any) -> dict[str, Any]:
    return await call(slack, TOKEN, method, _request(method, params))


async def test_a_message_posted_to_a_user_lands_in_their_dm_and_can_be_edited() -> None:
    slack = Workspace()
    posted = await _call(slack, "chat.postMessage", channel=OWNER, text="hello", blocks=[])
    assert posted["ok"] is True and posted["channel"] == dm_channel(OWNER)
    assert posted["message"]["user"] == BOT_USER and posted["ts"]
    edited = await _call(
        slack, "chat.update", channel=posted["channel"], ts=posted["ts"], text="bye", blocks=[]
    )
    assert edited["ok"] is True and slack.messages[0].text == "bye" and slack.messages[0].edited


@pytest.mark.parametrize(
    ("method", "params", "error"),
    [
        ("chat.postMessage", {"channel": "C0NOSUCHCH", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": CHANNEL}, "no_text"),
        ("chat.update", {"channel": CHANNEL, "ts": "1.000001", "text": "x"}, "message_not_found"),
        ("views.open", {"trigger_id": "1.2.3", "view": {"type": "modal"}}, "invalid_trigger_id"),
        ("views.open", {"trigger_id": "1.2.3", "view": {"type": "nope"}}, "invalid_arguments"),
        ("views.publish", {"user_id": "U0NOBODY00", "view": {"type": "home"}}, "user_not_found"),
        ("users.info", {"user": "U0NOBODY00"}, "user_not_found"),
        ("conversations.info", {"channel": "C0NOSUCHCH"}, "channel_not_found"),
        ("chat.scheduleMessage", {}, "unknown_method"),
    ],
)
async def test_the_web_api_refuses_as_slack_does(
    method: str, params: dict[str, Any], error: str
) -> None:
    answer = await _call(Workspace(), method, **params)
    assert answer == {"ok": False, "error": error}


async def test_a_call_without_the_bot_token_is_refused() -> None:
    slack = Workspace()
    params = {"channel": CHANNEL, "text": "x"}
    missing = await call(slack, TOKEN, "chat.postMessage", _request("x", params, token=None))
    wrong = await call(slack, TOKEN, "chat.postMessage", _request("x", params, token="xoxb-no"))
    assert (missing["error"], wrong["error"]) == ("not_authed", "invalid_auth")
    assert slack.messages == []


async def test_a_trigger_opens_one_modal_and_a_stale_hash_cannot_update_it() -> None:
    slack = Workspace()
    trigger = slack.new_trigger(OWNER)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Share"}, "blocks": []}
    opened = await _call(slack, "views.open", trigger_id=trigger, view=view)
    assert opened["ok"] is True and slack.top_modal(OWNER) is not None
    again = await _call(slack, "views.open", trigger_id=trigger, view=view)
    assert again == {"ok": False, "error": "invalid_trigger_id"}  # a trigger is used once
    view_id, fresh = opened["view"]["id"], opened["view"]["hash"]
    updated = await _call(slack, "views.update", view_id=view_id, hash=fresh, view=view)
    assert updated["ok"] is True
    stale = await _call(slack, "views.update", view_id=view_id, hash=fresh, view=view)
    assert stale == {"ok": False, "error": "hash_conflict"}


async def test_a_response_url_replaces_the_clicked_message_and_takes_five_posts() -> None:
    slack = Workspace()
    card = await slack.post(CHANNEL, "card", [])
    token = slack.new_response_url(AGENCY, CHANNEL, card.ts)
    await slack.respond(token, {"text": "done", "replace_original": True})
    assert [m.text for m in slack.messages] == ["done"]
    for _ in range(RESPONSE_URL_USES - 1):
        await slack.respond(token, {"text": "note"})
    assert all(m.only_to == AGENCY for m in slack.messages[1:])  # ephemeral by default
    with pytest.raises(SlackError, match="used_url"):
        await slack.respond(token, {"text": "one too many"})


class _Pixelbot:
    """Stands in for pixelbot's /slack/events: verifies the signature, keeps the body."""

    def __init__(self) -> None:
        self.verifier: SignatureVerifier | None = None
        self.bodies: list[str] = []
        self.answer: dict[str, Any] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        assert self.verifier is not None
        assert self.verifier.is_valid(
            body,
            request.headers["x-slack-request-timestamp"],
            request.headers["x-slack-signature"],
        )
        self.bodies.append(body)
        return httpx.Response(200, json=self.answer) if self.answer else httpx.Response(200)

    def payload(self) -> dict[str, Any]:
        form = dict(parse_qsl(self.bodies[-1]))
        return dict(json.loads(form["payload"])) if "payload" in form else form


def _outgoing(slack: Workspace) -> tuple[Outgoing, _Pixelbot]:
    pixelbot = _Pixelbot()
    http = httpx.AsyncClient(transport=httpx.MockTransport(pixelbot))
    out = Outgoing(slack, http, "http://pixelbot/slack/events", "http://127.0.0.1:3000")
    pixelbot.verifier = SignatureVerifier(out.signing_secret)
    return out, pixelbot


_COMMAND_KEYS = {
    "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
    "command", "text", "api_app_id", "response_url", "trigger_id",
}  # fmt: skip
_BLOCK_ACTIONS_KEYS = {
    "type", "team", "user", "api_app_id", "token", "container", "trigger_id", "channel",
    "message", "response_url", "actions", "state",
}  # fmt: skip
_VIEW_SUBMISSION_KEYS = {"type", "team", "user", "api_app_id", "token", "trigger_id", "view"}


async def test_a_command_is_sent_as_slacks_form_and_its_ack_shown_to_its_user_alone() -> None:
    slack = Workspace()
    out, pixelbot = _outgoing(slack)
    pixelbot.answer = {"text": "Working on it…"}
    await out.command(OWNER, "C0PLAYACME", "share 1 2")
    form = pixelbot.payload()
    assert set(form) >= _COMMAND_KEYS and form["command"] == "/pixel"
    assert (form["text"], form["user_id"], form["channel_id"]) == ("share 1 2", OWNER, "C0PLAYACME")
    assert form["response_url"].startswith("http://127.0.0.1:3000/hooks/")
    [ack] = slack.messages
    assert (ack.text, ack.only_to, ack.channel) == ("Working on it…", OWNER, "C0PLAYACME")


async def test_a_click_and_a_submission_have_slacks_payload_shapes() -> None:
    slack = Workspace()
    out, pixelbot = _outgoing(slack)
    card = await slack.post(CHANNEL, "card", [{"type": "actions", "block_id": "b", "elements": []}])
    button = {"type": "button", "action_id": "approve", "block_id": "b", "value": "7"}
    await out.click_in_message(AGENCY, card, button, {})
    click = pixelbot.payload()
    assert set(click) >= _BLOCK_ACTIONS_KEYS and click["type"] == "block_actions"
    assert click["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    assert click["actions"][0]["value"] == "7" and click["actions"][0]["action_ts"]
    assert click["user"]["id"] == AGENCY and click["message"]["ts"] == card.ts

    view = {"type": "modal", "callback_id": "decline", "private_metadata": "7", "blocks": []}
    opened = await slack.open_modal(slack.new_trigger(AGENCY), view, push=False)
    pixelbot.answer = {"response_action": "errors", "errors": {"reason": "Say why"}}
    values = {"reason": {"value": {"type": "plain_text_input", "value": None}}}
    await out.submit(AGENCY, opened, values)
    submitted = pixelbot.payload()
    assert set(submitted) >= _VIEW_SUBMISSION_KEYS and submitted["type"] == "view_submission"
    assert submitted["view"]["state"] == {"values": values}
    assert submitted["view"]["callback_id"] == "decline"
    assert submitted["view"]["private_metadata"] == "7"
    assert opened.errors == {"reason": "Say why"}  # shown under the field; the modal stays
    pixelbot.answer = None
    await out.submit(AGENCY, opened, values)
    assert slack.top_modal(AGENCY) is None  # an empty ack closes it


async def test_a_commands_response_url_replaces_its_latest_reply() -> None:
    slack = Workspace()
    out, pixelbot = _outgoing(slack)
    pixelbot.answer = {"text": "Working on it…"}
    await out.command(OWNER, "C0PLAYACME", "link 1 2 3")
    token = dict(parse_qsl(pixelbot.bodies[-1]))["response_url"].rsplit("/", 1)[-1]
    await slack.respond(token, {"text": "Linking: 1 of 3", "replace_original": True})
    assert [m.text for m in slack.messages] == ["Linking: 1 of 3"]  # the ack, edited
    await slack.respond(token, {"text": "Linked 3"})
    await slack.respond(token, {"text": "Linked 3 · refused 0", "replace_original": True})
    assert [m.text for m in slack.messages] == ["Linking: 1 of 3", "Linked 3 · refused 0"]


async def test_each_person_sees_their_ephemeral_messages_alone_and_replies_in_threads() -> None:
    slack = Workspace()
    card = await slack.post(CHANNEL, "card", [])
    await slack.post(CHANNEL, "only for the owner", [], only_to=OWNER)
    await slack.post(CHANNEL, "in the thread", [], thread_ts=card.ts)
    mine = state_for(slack, OWNER)["messages"][CHANNEL]
    theirs = state_for(slack, AGENCY)["messages"][CHANNEL]
    assert [m["ephemeral"] for m in mine] == [False, True]
    assert len(theirs) == 1 and "only for the owner" not in json.dumps(theirs)
    [reply] = theirs[0]["replies"]
    assert "in the thread" in reply["html"]
    assert dm_channel(OWNER) in state_for(slack, OWNER)["messages"]
    assert dm_channel(OWNER) not in state_for(slack, AGENCY)["messages"]
