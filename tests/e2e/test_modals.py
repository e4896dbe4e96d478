"""The share and decline modals: open at once, fill after, check each field, answer by DM."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.flows.states import ShareStatus
from bot.slack import forms
from bot.slack.ids import Action, Callback, Field
from tests.e2e.conftest import (
    BRIGHT,
    BRIGHT_ADMIN,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_CHANNEL,
    OUTLET,
    OWNER,
    STRANGER,
    WEBSITE,
    Bot,
    approval_posts,
    blocks_of,
    texts,
)
from tests.signing import signed_headers, view_body


def _view(params: dict[str, Any]) -> dict[str, Any]:
    """The `view` of a views.* call, decoded when it was sent as JSON text."""
    view = params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def _input(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return dict(block["element"])


def _share_values(
    pixel: str = WEBSITE,
    agency: str = NOVA,
    tasks: tuple[str, ...] = ("ANALYZE",),
    note: str | None = None,
) -> dict[str, Any]:
    """What Slack sends for the share modal: a picked pixel, typed agency, ticked tasks."""
    return {
        Field.PIXEL: {
            Field.VALUE: {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": f"Pixel ({pixel})"},
                    "value": pixel,
                },
            }
        },
        Field.AGENCY: {Field.VALUE: {"type": "plain_text_input", "value": agency}},
        Field.TASKS: {
            Field.VALUE: {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": t}, "value": t} for t in tasks
                ],
            }
        },
        Field.NOTE: {Field.VALUE: {"type": "plain_text_input", "value": note}},
    }


async def test_share_without_arguments_opens_the_form_before_asking_meta(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph_calls_at_open: list[int] = []
    answer = bot.slack._answer

    def spy(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "views.open":
            graph_calls_at_open.append(len(bot.sandbox.calls))
        return answer(method, params)

    monkeypatch.setattr(bot.slack, "_answer", spy)
    reply = await bot.command("share", user=OWNER)
    assert reply.response.status_code == 200 and reply.response.content == b""
    assert reply.posted == []
    [opened] = bot.slack.calls_to("views.open")
    assert graph_calls_at_open == [0]  # the trigger_id was spent before Meta was asked
    assert opened.params["trigger_id"]
    loading = _view(opened.params)
    assert loading["callback_id"] == Callback.SHARE
    assert _input(loading, Field.PIXEL)["type"] == "plain_text_input"  # still loading
    # Then the picker is filled from Meta, into the view Slack opened.
    assert bot.sandbox.calls, "the pixels were never read from Meta"
    [update] = bot.slack.calls_to("views.update")
    assert (update.params["view_id"], update.params["hash"]) == ("V0000VIEW", "h1")
    filled = _view(update.params)
    assert filled["callback_id"] == Callback.SHARE
    picker = _input(filled, Field.PIXEL)
    assert picker["type"] == "static_select"
    options = {o["value"]: o["text"]["text"] for o in picker["options"]}
    assert set(options) == {WEBSITE, CHECKOUT, OUTLET}
    assert "Acme Shoes - Website" in options[WEBSITE] and WEBSITE in options[WEBSITE]
    assert "Acme Shoes - Checkout" in options[CHECKOUT]
    fields = [b.get("block_id") for b in filled["blocks"] if b["type"] == "input"]
    assert fields == [Field.PIXEL, Field.AGENCY, Field.TASKS, Field.NOTE]


async def test_the_form_for_someone_without_a_business_says_to_type_the_id(bot: Bot) -> None:
    await bot.command("share", user=STRANGER)
    [update] = bot.slack.calls_to("views.update")
    picker = _input(_view(update.params), Field.PIXEL)
    assert picker["type"] == "plain_text_input"
    assert "type the pixel id" in texts(_view(update.params))


async def test_a_form_slack_would_not_open_is_explained_and_meta_is_not_asked(bot: Bot) -> None:
    bot.slack.failures["views.open"] = "expired_trigger_id"
    reply = await bot.command("share", user=OWNER)
    assert reply.response.content == b""
    assert "expired_trigger_id" in reply.text and "/pixel share" in reply.text
    assert "wrong on our side" not in reply.text
    assert bot.sandbox.calls == [] and bot.slack.calls_to("views.update") == []


async def test_a_form_closed_before_it_was_filled_is_left_alone(bot: Bot) -> None:
    bot.slack.failures["views.update"] = "not_found"
    reply = await bot.command("share", user=OWNER)
    assert len(bot.slack.calls_to("views.update")) == 1
    assert reply.posted == [] and bot.posts(OWNER) == []  # nothing to tell: they closed it


async def test_bad_form_values_are_shown_under_each_field_and_nothing_happens(bot: Bot) -> None:
    values = _share_values(agency="12ab", tasks=(), note="x" * 1001)
    values[Field.PIXEL] = {Field.VALUE: {"type": "plain_text_input", "value": "pixel 1"}}
    response = await bot.submit(Callback.SHARE, values, OWNER)
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert set(errors) == {Field.PIXEL, Field.AGENCY, Field.TASKS, Field.NOTE}
    assert "pixel id must be a number" in errors[Field.PIXEL] and "'pixel 1'" in errors[Field.PIXEL]
    assert "agency business id must be a number" in errors[Field.AGENCY]
    assert "'12ab'" in errors[Field.AGENCY]
    assert "at least one task" in errors[Field.TASKS]
    assert "1001 characters" in errors[Field.NOTE] and "1000" in errors[Field.NOTE]
    await _nothing_happened(bot)


async def test_one_bad_field_is_the_only_error(bot: Bot) -> None:
    response = await bot.submit(Callback.SHARE, _share_values(agency=""), OWNER)
    assert response.json()["errors"].keys() == {Field.AGENCY}
    await _nothing_happened(bot)


async def test_a_valid_form_shares_and_answers_by_direct_message(bot: Bot) -> None:
    note = "Hi <!channel>, *bold* & <https://evil.example|click>"
    values = _share_values(tasks=("ANALYZE", "ADVERTISE"), note=note)
    response = await bot.submit(Callback.SHARE, values, OWNER)
    assert response.status_code == 200 and response.content == b""  # the modal closes
    [row] = await bot.requests()
    assert (row.status, row.note, row.requester_slack_id) == (ShareStatus.PENDING, note, OWNER)
    assert row.permitted_tasks == ["ADVERTISE", "ANALYZE"]
    [call] = bot.graph_calls("POST", f"/{WEBSITE}/agencies")
    [post] = approval_posts(bot, NOVA_CHANNEL)
    shown = texts(blocks_of(post))
    assert "&lt;!channel&gt;" in shown and "*bold* &amp;" in shown
    assert "<!channel>" not in shown and "<https://evil.example" not in shown
    assert row.slack_channel == NOVA_CHANNEL and row.slack_ts
    [dm] = bot.posts(OWNER)
    told = texts(blocks_of(dm))
    assert f"<#{NOVA_CHANNEL}>" in told and str(row.pending_request_id) in told
    assert call.params.get("business") == NOVA


async def test_a_form_shared_with_a_partner_is_shared_at_once(bot: Bot) -> None:
    await bot.submit(Callback.SHARE, _share_values(pixel=CHECKOUT, agency=BRIGHT), OWNER)
    [row] = await bot.requests()
    assert row.status == ShareStatus.ACTIVE
    assert bot.sandbox.world.pixels[CHECKOUT].agencies[BRIGHT] == ["ANALYZE"]
    [dm] = bot.posts(OWNER)
    assert "now shared with" in texts(blocks_of(dm))


async def test_a_refusal_after_the_form_closed_comes_by_direct_message(bot: Bot) -> None:
    response = await bot.submit(Callback.SHARE, _share_values(), STRANGER)
    assert response.status_code == 200 and response.content == b""
    [dm] = bot.posts(STRANGER)
    assert "not an admin of any business" in texts(blocks_of(dm))
    assert await bot.requests() == []
    assert bot.graph_calls("POST", "/agencies") == []
    assert approval_posts(bot, NOVA_CHANNEL) == []


async def test_meta_failing_after_the_form_closed_is_explained_by_direct_message(
    bot: Bot,
) -> None:
    await bot.submit(Callback.SHARE, _share_values(tasks=("EDIT",)), OWNER)
    [dm] = bot.posts(OWNER)
    assert "EDIT access is currently restricted" in texts(blocks_of(dm))
    [row] = await bot.requests()
    assert row.status == ShareStatus.FAILED


@pytest.mark.parametrize("forged", ["abc", "", "1 OR 1=1", "424242"])
async def test_a_decline_form_with_forged_metadata_is_refused_in_the_form(
    bot: Bot, forged: str
) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    before = len(bot.sandbox.calls)
    values = {Field.REASON: {Field.VALUE: {"type": "plain_text_input", "value": "no"}}}
    response = await bot.submit(Callback.DECLINE, values, NOVA_ADMIN, forged)
    if forged.isdigit():  # well formed but no such request: told by DM once the form closed
        [dm] = bot.posts(NOVA_ADMIN)
        assert "request #424242 does not exist" in texts(blocks_of(dm))
    else:
        body = response.json()
        assert body["response_action"] == "errors"
        assert "does not belong to a pixelbot request" in body["errors"][Field.REASON]
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.decision_reason is None
    assert [c for c in bot.sandbox.calls[before:] if c.method == "POST"] == []
    assert bot.slack.calls_to("chat.update") == []


async def test_a_decline_form_for_another_agencys_request_is_refused(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    bot.sandbox.world.pixels[CHECKOUT].agencies.pop(BRIGHT, None)
    bot.sandbox.world.partners.clear()  # Bright must now approve, and only Bright's admins
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    _, bright_row = await bot.requests()
    assert bright_row.status == ShareStatus.PENDING
    before = len(bot.sandbox.calls)
    values = {Field.REASON: {Field.VALUE: {"type": "plain_text_input", "value": "mine now"}}}
    response = await bot.submit(Callback.DECLINE, values, NOVA_ADMIN, str(bright_row.id))
    assert response.status_code == 200
    [dm] = bot.posts(NOVA_ADMIN)
    told = texts(blocks_of(dm))
    assert "Bright" in told and f"<@{BRIGHT_ADMIN}>" in told
    assert "wrong on our side" not in told
    rows = await bot.requests()
    assert [(r.status, r.decision_reason) for r in rows] == [
        (ShareStatus.PENDING, None),
        (ShareStatus.PENDING, None),
    ]
    assert [c for c in bot.sandbox.calls[before:] if c.method == "POST"] == []
    assert bot.slack.calls_to("chat.update") == []
    [event] = [e for e in await bot.audit() if e.action == "decline"]
    assert (event.actor, event.outcome, event.share_request_id) == (
        NOVA_ADMIN,
        "refused",
        bright_row.id,
    )


async def test_a_decline_form_for_a_request_already_approved_changes_nothing(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    [row] = await bot.requests()
    await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    values = {Field.REASON: {Field.VALUE: {"type": "plain_text_input", "value": "late"}}}
    await bot.submit(Callback.DECLINE, values, NOVA_ADMIN, str(row.id))
    [after] = await bot.requests()
    assert after.status == ShareStatus.ACTIVE and after.decision_reason is None
    assert "already approved" in texts(blocks_of(bot.posts(NOVA_ADMIN)[-1]))


async def _nothing_happened(bot: Bot) -> None:
    assert await bot.requests() == []
    assert bot.sandbox.calls == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert [e for e in await bot.audit() if e.action == "share"] == []


async def test_an_unexpected_error_in_a_modal_reaches_the_user_by_dm(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(view: object) -> object:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(forms, "share_form", broken)
    body = view_body(Callback.SHARE, {}, OWNER)
    response = await bot.http.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 500  # Bolt's answer when a listener fails before ack
    await bot.services.background.drain()
    [dm] = bot.posts(OWNER)
    shown = texts(blocks_of(dm))
    assert "error id" in shown and "kaboom" not in shown
    error_id = shown.split("`")[1]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)
