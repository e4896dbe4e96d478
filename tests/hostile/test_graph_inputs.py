"""Ids are validated before any Graph call: every subcommand, button and form refuses a bad id
with a specific message, and Meta is never asked anything."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import InvalidInput
from bot.flows import ids
from bot.graph.encoding import InvalidId, ad_account_number, validate_id
from bot.slack.ids import Action, Callback, Field
from tests.e2e.conftest import (
    BRIGHT,
    NOVA,
    NOVA_ADMIN,
    OWNER,
    WEBSITE,
    Bot,
)
from tests.hostile.harness import assert_safe_answer, mark, settle

# Each would change the Graph path (or the object named) if it were let through.
BAD_IDS = [
    "12ab",
    "../../me",
    "1/agencies",
    "1?access_token=x",
    "1#x",
    "1%2Fagencies",
    "\uff11\uff12\uff13",  # full-width digits: str.isdigit() says yes
    "²",  # superscript two: str.isdigit() says yes
    "٣",  # Arabic-Indic three: int() accepts it
    "1" * 21,
    "9" * 300,
    "-5",
    "-0",
    "+5",
    "0x1F",
    "1e9",
    "1.0",
    "me",
    "<!channel>",
]

# (subcommand, the ids it takes, what its usage calls each).
SUBCOMMANDS = [
    ("share", [WEBSITE, NOVA], ["PIXEL_ID", "AGENCY_BUSINESS_ID"]),
    ("unshare", [WEBSITE, BRIGHT], ["PIXEL_ID", "AGENCY_BUSINESS_ID"]),
    ("link", [WEBSITE, BRIGHT, "500600700800902"], ["PIXEL_ID", "BUSINESS_ID", "AD_ACCOUNT_ID"]),
    ("unlink", [WEBSITE, BRIGHT, "500600700800902"], ["PIXEL_ID", "BUSINESS_ID", "AD_ACCOUNT_ID"]),
    ("accounts", [WEBSITE, BRIGHT], ["PIXEL_ID", "BUSINESS_ID"]),
    ("info", [WEBSITE], ["PIXEL_ID"]),
    ("history", [WEBSITE], ["PIXEL_ID"]),
]


def _refusal(bad: str, name: str) -> tuple[str, ...]:
    """What a specific refusal of `bad` in slot `name` may say."""
    if bad.isascii() and bad.isdigit():
        return (f"{name} is {len(bad)} digits long",)
    return (f"{name} must be a number (digits only)",)


async def _refused(bot: Bot, text: str, user: str, expected: tuple[str, ...]) -> None:
    before = await mark(bot)
    exchange = await bot.command(text, user)
    await settle(bot)
    shown = assert_safe_answer(bot, before, exchange.response)
    assert any(e in "\n".join(shown) for e in expected), (text[:120], shown)
    assert bot.sandbox.calls == [], f"{text[:120]!r} reached Meta: {bot.sandbox.calls}"
    assert await bot.requests() == []


@pytest.mark.parametrize(("sub", "good", "names"), SUBCOMMANDS, ids=[s[0] for s in SUBCOMMANDS])
async def test_every_subcommand_refuses_a_bad_id_before_meta(
    bot: Bot, sub: str, good: list[str], names: list[str]
) -> None:
    for slot, name in enumerate(names):
        for bad in BAD_IDS:
            words = [*good]
            words[slot] = bad
            await _refused(bot, " ".join([sub, *words]), OWNER, _refusal(bad, name))
    if sub in ("link", "unlink"):
        for bad in ["act_12ab", "act_../me", "act_", "act_act_1", "act_-1", "ACT_x", "act_\uff11"]:
            text = f"{sub} {WEBSITE} {BRIGHT} {bad}"
            await _refused(bot, text, OWNER, ("AD_ACCOUNT_ID must be",))


@pytest.mark.parametrize("action", [Action.APPROVE, Action.DECLINE])
async def test_decision_buttons_refuse_anything_but_our_request_ids(bot: Bot, action: str) -> None:
    for bad in [*BAD_IDS, "", "1:2", "0" * 13, " 1"]:
        before = await mark(bot)
        click = await bot.click(action, bad, NOVA_ADMIN)
        await settle(bot)
        shown = assert_safe_answer(bot, before, click.response)
        assert "does not belong to a pixelbot request" in "\n".join(shown), (bad, shown)
        assert bot.sandbox.calls == []
        assert bot.slack.calls_to("views.open") == []


async def test_unshare_button_refuses_a_bad_pair(bot: Bot) -> None:
    values = [f"{bad}:{BRIGHT}" for bad in BAD_IDS] + [f"{WEBSITE}:{bad}" for bad in BAD_IDS]
    values += [WEBSITE, f"{WEBSITE}:{BRIGHT}:1", f":{BRIGHT}", ""]
    for value in values:
        before = await mark(bot)
        click = await bot.click(Action.UNSHARE_CONFIRM, value, OWNER)
        await settle(bot)
        shown = "\n".join(assert_safe_answer(bot, before, click.response))
        assert "must be a number" in shown or "digits long" in shown, (value, shown)
        assert bot.sandbox.calls == [], value
    assert bot.sandbox.world.pixels[WEBSITE].agencies.get(BRIGHT)  # still shared


async def test_history_button_refuses_a_bad_page(bot: Bot) -> None:
    values = [f"{bad}:1" for bad in BAD_IDS] + [f"{WEBSITE}:-1", f"{WEBSITE}:x", f"{WEBSITE}"]
    values += [f"{WEBSITE}:99999", f"{WEBSITE}:1:2", "", ":"]
    for value in values:
        before = await mark(bot)
        click = await bot.click(Action.HISTORY_MORE, value, OWNER)
        await settle(bot)
        shown = "\n".join(assert_safe_answer(bot, before, click.response))
        assert "does not belong to a pixelbot history" in shown, (value, shown)
        assert bot.sandbox.calls == [], value


def _share_values(pixel: str, agency: str) -> dict[str, Any]:
    return {
        Field.PIXEL: {Field.VALUE: {"type": "plain_text_input", "value": pixel}},
        Field.AGENCY: {Field.VALUE: {"type": "plain_text_input", "value": agency}},
        Field.TASKS: {
            Field.VALUE: {"type": "checkboxes", "selected_options": [{"value": "ANALYZE"}]}
        },
    }


async def test_share_form_refuses_bad_ids_field_by_field(bot: Bot) -> None:
    for bad in BAD_IDS:
        for values, field in [
            (_share_values(bad, NOVA), Field.PIXEL),
            (_share_values(WEBSITE, bad), Field.AGENCY),
        ]:
            response = await bot.submit(Callback.SHARE, values, OWNER)
            await settle(bot)
            errors = response.json()["errors"]
            assert set(errors) == {field.value}, (bad, errors)
            assert "must be a number" in errors[field] or "digits long" in errors[field]
            assert bot.sandbox.calls == []
    assert await bot.requests() == []


async def test_decline_form_refuses_forged_metadata(bot: Bot) -> None:
    reason = {Field.REASON: {Field.VALUE: {"type": "plain_text_input", "value": "no"}}}
    for bad in [*BAD_IDS, "", "1:2"]:
        response = await bot.submit(Callback.DECLINE, reason, NOVA_ADMIN, bad)
        await settle(bot)
        errors = response.json()["errors"]
        assert errors == {Field.REASON: "that button or form does not belong to a pixelbot request"}
    assert bot.sandbox.calls == []
    assert bot.slack.calls == [c for c in bot.slack.calls if c.method == "auth.test"]


# Unit level: both gates refuse the same inputs, whatever the caller.


@pytest.mark.parametrize("bad", [b for b in BAD_IDS if not (b.isascii() and b.isdigit())])
def test_meta_id_refuses(bad: str) -> None:
    with pytest.raises(InvalidInput, match="must be a number"):
        ids.meta_id(bad, "PIXEL_ID")


@pytest.mark.parametrize("bad", ["1" * 21, "9" * 300])
def test_meta_id_refuses_too_many_digits_saying_so(bad: str) -> None:
    with pytest.raises(InvalidInput, match=f"PIXEL_ID is {len(bad)} digits long"):
        ids.meta_id(bad, "PIXEL_ID")


@pytest.mark.parametrize("bad", [None, 123, b"123", ["1"]])
def test_meta_id_refuses_what_is_not_text(bad: Any) -> None:
    with pytest.raises(InvalidInput):
        ids.meta_id(bad)


@pytest.mark.parametrize("good", ["0", "1", "1" * 20, WEBSITE])
def test_meta_id_keeps_plain_digits(good: str) -> None:
    assert ids.meta_id(good) == good


@pytest.mark.parametrize("bad", [*(b for b in BAD_IDS if b != "1" * 21), "", None, 5, "1\n"])
def test_validate_id_refuses(bad: Any) -> None:
    with pytest.raises(InvalidId):
        validate_id(bad)


def test_validate_id_agrees_with_meta_id_on_length() -> None:
    with pytest.raises(InvalidId):
        validate_id("1" * 21)


@pytest.mark.parametrize(
    "bad", ["act_12ab", "act_", "act_act_1", "act_../me", "ACT_1", "act_\uff11"]
)
def test_ad_account_number_refuses(bad: str) -> None:
    with pytest.raises(InvalidId):
        ad_account_number(bad)
