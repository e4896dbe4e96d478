"""Signed bodies that Slack could never send: each is refused at the door with a 400 and a
plain sentence naming the field, and nothing at all happens (no Slack call, no response_url
post, no Meta call, no database change). JSON is bounded in size and depth before it is
parsed, so no nesting reaches a RecursionError.

Each table is checked against a control: the same payload, unspoiled, does take effect, so a
400 here is the shape check at work and not a payload that was never valid.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.flows.states import ShareStatus
from bot.slack.ids import Action, Callback
from bot.slack.shapes import MAX_DEPTH
from tests.e2e.conftest import NOVA, NOVA_ADMIN, OWNER, WEBSITE, Bot
from tests.hostile import spoils
from tests.hostile.harness import (
    mark,
    pending_request,
    post,
    send_signed,
    settle,
    share_rows,
    shown_since,
)
from tests.hostile.spoils import FORM, JSON, Spoil

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _refusals(
    bot: Bot, payload: dict[str, Any], table: dict[str, Spoil], *, as_form: bool
) -> list[str]:
    """Send `payload` spoiled each way in `table`; what went wrong (empty: all refused)."""
    problems = []
    for name, spoil in table.items():
        bad = spoils.spoiled(payload, spoil)
        body = spoils.form(bad) if as_form else json.dumps(bad)
        before = await mark(bot)
        response = await send_signed(bot, body, FORM if as_form else JSON)
        if response.status_code != 400:
            problems.append(f"{name}: answered {response.status_code}")
        elif spoils.expected_words(spoil) not in response.json()["error"]:
            problems.append(f"{name}: {response.json()['error']!r} does not name the field")
        if bot.slack.calls[before.slack_calls :] or bot.slack.webhooks[before.webhooks :]:
            problems.append(f"{name}: reached Slack")
        if bot.sandbox.calls[before.graph_calls :]:
            problems.append(f"{name}: reached Meta")
        if await share_rows(bot) != before.rows:
            problems.append(f"{name}: changed share_requests")
    return problems


@SQLITE
async def test_a_spoiled_click_is_refused_and_changes_nothing(bot: Bot) -> None:
    pending = await pending_request(bot)
    url = bot.slack.response_url("spoiled")
    click = spoils.click(Action.APPROVE.value, pending, NOVA_ADMIN, url)
    assert await _refusals(bot, click, spoils.CLICK, as_form=True) == []
    control = await send_signed(bot, spoils.form(click), FORM)
    assert control.status_code == 200
    assert [r.status for r in await bot.requests()] == [ShareStatus.ACTIVE]


@SQLITE
async def test_a_spoiled_modal_submission_is_refused_and_changes_nothing(bot: Bot) -> None:
    pending = await pending_request(bot)
    decline = spoils.submission(Callback.DECLINE.value, spoils.reason("no"), NOVA_ADMIN, pending)
    assert await _refusals(bot, decline, spoils.SUBMISSION, as_form=True) == []
    control = await send_signed(bot, spoils.form(decline), FORM)
    assert control.status_code == 200, control.text
    assert not control.content  # accepted: the modal closes
    assert [r.status for r in await bot.requests()] == [ShareStatus.DECLINED]


@SQLITE
async def test_a_slash_command_with_a_field_of_the_wrong_type_is_refused(bot: Bot) -> None:
    url = bot.slack.response_url("spoiled")
    command = spoils.command(f"share {WEBSITE} {NOVA} ANALYZE", OWNER, url)
    assert await _refusals(bot, command, spoils.COMMAND, as_form=False) == []
    control = await send_signed(bot, json.dumps(command), JSON)
    assert control.status_code == 200
    assert len(await bot.requests()) == 1


@SQLITE
@pytest.mark.parametrize("field", ["trigger_id", "user_id"])
async def test_a_slash_command_form_without_its_trigger_or_user_is_refused(
    bot: Bot, field: str
) -> None:
    fields = spoils.command("share", OWNER, bot.slack.response_url("bare"))
    del fields[field]
    before = await mark(bot)
    response = await send_signed(bot, urlencode(fields), FORM)
    assert response.status_code == 400
    assert response.json() == {"error": f"this request has no `{field}`"}
    assert bot.slack.calls[before.slack_calls :] == []


@SQLITE
async def test_a_spoiled_event_is_refused_and_changes_nothing(bot: Bot) -> None:
    home = {"type": "app_home_opened", "user": NOVA_ADMIN, "channel": "D0HOME", "tab": "home"}
    event = spoils.event(home, "EvSpoiled")
    assert await _refusals(bot, event, spoils.EVENT, as_form=False) == []
    control = await send_signed(bot, json.dumps(event), JSON)
    assert control.status_code == 200
    published = bot.slack.calls_to("views.publish")
    assert [c.params["user_id"] for c in published] == [NOVA_ADMIN]


UNREADABLE: dict[str, tuple[str | bytes, dict[str, str], str]] = {
    "payload is not JSON": ("payload=%7Bnot+json", FORM, "could not be read as JSON"),
    "payload is truncated JSON": (
        spoils.form(spoils.click("x", "1", OWNER, ""))[:60],
        FORM,
        "could not be read as JSON",
    ),
    "payload is a JSON list": ("payload=%5B1%5D", FORM, "is not a JSON object"),
    "payload is a JSON number": ("payload=1", FORM, "is not a JSON object"),
    "payload is JSON null": ("payload=null", FORM, "is not a JSON object"),
    "JSON body is not JSON": ('{"type": "event_callback", ', JSON, "could not be read as JSON"),
    "JSON body is a list": ("[1, 2]", JSON, "is not a JSON object"),
    "JSON body is a string": ('"event_callback"', JSON, "is not a JSON object"),
    "body is not UTF-8": (b"payload=\xff\xfe", FORM, "not UTF-8"),
    "an integer of 5,000 digits": ('{"type": "x", "n": ' + "9" * 5000 + "}", JSON, "JSON"),
    "a lone surrogate escape": ('{"type": "url_verification", "challenge": "\\ud800"}', JSON, ""),
    "empty form": ("", FORM, "no `type`"),
    "a form of neither kind": ("token=x&team_id=T1", FORM, "no `type`"),
}


@SQLITE
async def test_an_unreadable_body_is_a_400_that_says_why(bot: Bot) -> None:
    problems = []
    for case, (body, content_type, words) in UNREADABLE.items():
        before = await mark(bot)
        response = await send_signed(bot, body, content_type)
        if case == "a lone surrogate escape":  # valid JSON: Slack could send it; no crash
            continue
        error = response.json().get("error", "") if response.status_code == 400 else ""
        if response.status_code != 400 or words not in error:
            problems.append(f"{case}: {response.status_code} {response.text[:120]}")
        if bot.slack.calls[before.slack_calls :]:
            problems.append(f"{case}: reached Slack")
    assert problems == []


@SQLITE
async def test_an_unsigned_body_is_refused_before_it_is_read(bot: Bot) -> None:
    """Signature first: nothing about an unsigned body is parsed, however it is built."""
    deep = "[" * 10_000 + "]" * 10_000
    garbage = ["", "garbage", "payload=%7B%7D", "null", "{}", "command=/pixel&text=help"]
    for body in [deep, "payload=" + deep, *garbage, *(b for b, _, _ in UNREADABLE.values())]:
        response = await post(bot, body, FORM)
        assert response.status_code == 401, (str(body)[:40], response.status_code)
        assert response.json() == {"error": "missing or malformed signature headers"}


def _nested_in(payload: dict[str, Any], marker: str, levels: int) -> str:
    """`payload` as JSON with `marker` (a string value) replaced by `levels` nested lists."""
    return json.dumps(payload).replace(json.dumps(marker), spoils.nested(levels))


@SQLITE
@pytest.mark.parametrize("levels", [MAX_DEPTH, 10_000, 100_000])
async def test_deep_nesting_is_refused_before_it_is_parsed(bot: Bot, levels: int) -> None:
    home = spoils.event({"type": "app_home_opened", "user": OWNER, "tab": "home"}, "EvDeep")
    home["event"]["view"] = "DEEP"
    click = spoils.click(Action.APPROVE.value, "DEEP", NOVA_ADMIN, bot.slack.response_url("d"))
    bodies = {
        "a JSON body that is nothing but lists": (spoils.nested(levels), JSON),
        "a JSON body of objects": ('{"a":' * levels + "1" + "}" * levels, JSON),
        "an event with a deep field": (_nested_in(home, "DEEP", levels), JSON),
        "a click whose value is deep": (
            urlencode({"payload": _nested_in(click, "DEEP", levels)}),
            FORM,
        ),
        "unbalanced: opened and never closed": ('{"type": "x", "a": ' + "[" * levels, JSON),
    }
    for case, (body, content_type) in bodies.items():
        before = await mark(bot)
        response = await send_signed(bot, body, content_type)
        assert response.status_code == 400, (case, response.status_code, response.text[:200])
        error = response.json()["error"]
        if levels > MAX_DEPTH:  # refused for its depth (at the limit: for its shape, or JSON)
            assert f"nests deeper than {MAX_DEPTH} levels" in error, (case, error)
        assert bot.slack.calls[before.slack_calls :] == [], case


@SQLITE
async def test_brackets_inside_strings_are_only_text(bot: Bot) -> None:
    """A value full of brackets is no nesting: it reaches the listener, which says what is
    wrong with it like any other bad value."""
    pending = await pending_request(bot)
    before = await mark(bot)
    value = '["{' * 20_000 + '\\"' + pending
    click = spoils.click(Action.APPROVE.value, value, NOVA_ADMIN, bot.slack.response_url("br"))
    response = await send_signed(bot, spoils.form(click), FORM)
    assert response.status_code == 200
    shown = "\n".join(str(w) for w in bot.slack.webhooks[before.webhooks :])
    assert "does not belong to a pixelbot request" in shown
    exchange = await bot.command("info " + "[{" * 10_000, OWNER)
    assert exchange.response.status_code == 200
    assert await share_rows(bot) == before.rows


@SQLITE
async def test_huge_bodies_are_answered_without_a_crash(bot: Bot) -> None:
    home = spoils.event({"type": "app_home_opened", "user": OWNER, "tab": "home"}, "EvWide")
    wide = dict(home, x_wide=list(range(100_000)))  # 700 kB, under the limit
    many = spoils.click(Action.HISTORY_MORE.value, f"{WEBSITE}:0", OWNER, "")
    many["actions"] = many["actions"] * 2_000  # Slack sends one
    cases: dict[str, tuple[str, dict[str, str], set[int]]] = {
        "a wide event": (json.dumps(wide), JSON, {200}),
        "a click with 2,000 actions": (spoils.form(many), FORM, {200}),
        "private_metadata of 900,000 characters": (
            spoils.form(spoils.submission(Callback.SHARE.value, {}, OWNER, "x" * 900_000)),
            FORM,
            {200},
        ),
        "a body over a megabyte": (json.dumps(home) + " " * (1 << 20), JSON, {413}),
        "a payload over a megabyte": ("payload=" + "x" * (1 << 20), FORM, {413}),
    }
    for case, (body, content_type, statuses) in cases.items():
        response = await send_signed(bot, body, content_type)
        assert response.status_code in statuses, (case, response.status_code, response.text[:200])
    assert await bot.requests() == []


# Ids no request can have: share_requests.id is a 32-bit INTEGER on PostgreSQL.
OUT_OF_RANGE = [str(2**31), str(2**63), str(10**20), "0", "999999999999"]
NO_SUCH = ("does not exist", "does not belong to a pixelbot request")


async def test_ids_no_request_can_have_are_refused_as_not_found(bot: Bot) -> None:
    """On both databases: a plain "no such request", never an error id, nothing changed."""
    await pending_request(bot)
    problems = []
    for bad in [*OUT_OF_RANGE, str(2**31 - 1)]:
        for action in (Action.APPROVE, Action.DECLINE):
            before = await mark(bot)
            click = await bot.click(action, bad, NOVA_ADMIN)
            await settle(bot)
            shown = "\n".join(shown_since(bot, before, click.response))
            if not any(words in shown for words in NO_SUCH) or "error id" in shown:
                problems.append(f"{action} {bad}: {shown[:200]}")
            if bot.sandbox.calls[before.graph_calls :] or await share_rows(bot) != before.rows:
                problems.append(f"{action} {bad}: something changed")
        before = await mark(bot)
        response = await bot.submit(Callback.DECLINE, spoils.reason("no"), NOVA_ADMIN, bad)
        await settle(bot)
        # Out of range: the form says so; in range, it closes and a DM says there is none.
        errors = response.json().get("errors", {}) if response.content else {}
        shown = "\n".join([*errors.values(), *shown_since(bot, before)])
        if not any(words in shown for words in NO_SUCH) or "error id" in shown:
            problems.append(f"decline form {bad}: {shown[:200]}")
    assert problems == []
    assert [r.status for r in await bot.requests()] == [ShareStatus.PENDING]
