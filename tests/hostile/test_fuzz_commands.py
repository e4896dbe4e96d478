"""`/pixel` fuzzed through the real app: signed requests from a stranger and from an admin.

Whatever is typed, the app answers 200 with a specific message, shows no Python internals,
echoes nothing that Slack would render as a mention or link, puts only validated ids into
Graph paths, and leaves `share_requests` alone unless an admin typed a valid share.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.parsing import MAX_COMMAND_TEXT
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    CHECKOUT,
    NOVA,
    OUTLET,
    OWNER,
    STRANGER,
    WEBSITE,
    Bot,
    MakeBot,
)
from tests.hostile.harness import (
    assert_graph_paths_validated,
    assert_inert,
    assert_no_leak,
    assert_safe_answer,
    examples,
    mark,
    post,
    settle,
    share_rows,
    shown_since,
    slack_methods_since,
)
from tests.signing import command_body, signed_headers

FUZZ = settings(
    max_examples=examples(300),  # two requests each: a stranger's and the owner's
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUBCOMMANDS = ["help", "share", "unshare", "link", "unlink", "accounts", "info", "pending"]
SUBCOMMANDS += ["history", "SHARE", "Info", "hist", "shar e", "delete", "approve"]
TASKS = ["analyze", "ADVERTISE", "Upload", "edit", "ANALYZE,UPLOAD", "analyze,,advertise", "ALL"]
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123EVIL>",
    "<#C123EVIL|general>",
    "<https://evil.example|click>",
    "<mailto:x@evil.example|mail>",
    "*bold*",
    "_it_",
    "~gone~",
    "```",
    "`x`",
    "&lt;!channel&gt;",
    "1; DROP TABLE share_requests;--",
    "' OR '1'='1",
    "1 OR 1=1",
    "../../me",
    "1/agencies",
    "1?access_token=x",
    "1#frag",
    "%2e%2e%2fme",
    "\uff11\uff12\uff13",
    "²",
    "٣٤٥",
    "-5",
    "+5",
    "1e9",
    "0x1F",
    "act_",
    "act_act_123",
    "ACT_123",
    "act_12ab",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "\ufeff",
    "🔥",
    "👨\u200d👩\u200d👧",
    "\r\n",
    ",",
    ",,,",
    "None",
    "null",
    "{}",
    "[]",
    "%s%s%n",
    "{0.__class__}",
]
KNOWN_IDS = [WEBSITE, CHECKOUT, OUTLET, ACME, BRIGHT, NOVA]
_names = itertools.count()
# Bolt reads a form body that contains the word anywhere as an interactivity payload and
# drops every field: test_the_word_payload_is_a_command_like_any_other pins that bug.
BOLT_TRAP = "payload"


def _ids() -> st.SearchStrategy[str]:
    digits = st.text("0123456789", min_size=1, max_size=25)
    request_ids = st.integers(1, 40).map(str)
    return st.one_of(st.sampled_from(KNOWN_IDS), digits, request_ids)


def _slot() -> st.SearchStrategy[str]:
    """One argument: mostly an id the bot could act on, sometimes anything at all."""
    known = st.sampled_from(KNOWN_IDS)
    return st.one_of(
        known,
        known,
        _ids(),
        _ids().map(lambda i: "act_" + i),
        st.sampled_from(TASKS),
        st.sampled_from(HOSTILE),
        st.text(max_size=30),
    )


def _word() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(SUBCOMMANDS), _slot())


ARITY = {"share": 2, "unshare": 2, "link": 3, "unlink": 3, "accounts": 2, "info": 1}
ARITY |= {"history": 1, "pending": 0, "help": 0}


@st.composite
def _almost_valid(draw: st.DrawFn) -> str:
    """A well-formed command on the demo world's ids, often with one argument spoiled."""
    sub = draw(st.sampled_from(sorted(ARITY)))
    args = [draw(st.sampled_from(KNOWN_IDS)) for _ in range(ARITY[sub])]
    if sub == "share":
        args += draw(st.lists(st.sampled_from(TASKS), max_size=2))
    if draw(st.booleans()):
        spoiled = draw(_slot())
        if args:
            args[draw(st.integers(0, len(args) - 1))] = spoiled
        else:
            args.append(spoiled)
    separator = draw(st.sampled_from([" ", "  ", "\t", " \n"]))
    return separator.join([draw(st.sampled_from([sub, sub.upper(), sub.title()])), *args])


def _long() -> st.SearchStrategy[str]:
    """Very long input: a repeated piece, up to about 20,000 characters."""
    piece = st.one_of(st.sampled_from([*HOSTILE, "1 ", "act_1 ", "x"]), _ids().map(str.strip))
    return st.builds(lambda p, n: p * n, piece, st.integers(1000, 20000)).map(lambda s: s[:20000])


def _text() -> st.SearchStrategy[str]:
    separators = st.sampled_from([" ", "  ", "\t", "\n", ",", " , "])
    sentence = st.lists(st.tuples(_word(), separators), max_size=8).map(
        lambda parts: "".join(w + s for w, s in parts)
    )
    grammar = st.builds(
        lambda sub, args, tasks: " ".join([sub, *args, *tasks]),
        st.sampled_from(SUBCOMMANDS[:9]),
        st.lists(_slot(), max_size=4),
        st.lists(st.sampled_from(TASKS), max_size=2),
    )
    long_link = st.builds(
        lambda n, tail: (
            "link " + " ".join([WEBSITE, BRIGHT] + [str(10**9 + i) for i in range(n)]) + tail
        ),
        st.integers(0, 700),
        st.sampled_from(["", " <!channel>", " act_x"]),
    )
    text = st.one_of(
        _almost_valid(),
        _almost_valid(),
        grammar,
        sentence,
        st.text(max_size=300),
        _long(),
        long_link,
    )
    return text.filter(lambda t: BOLT_TRAP not in t.lower())


def _valid_share(text: str) -> bool:
    """Whether `text` is a share an owner may make (a test oracle, written apart from the
    parser): the word, two ASCII-digit ids, known tasks."""
    words = text.split()
    if len(text) > MAX_COMMAND_TEXT or len(words) < 3 or words[0].lower() != "share":
        return False
    if not all(re.fullmatch(r"[0-9]{1,20}", w) for w in words[1:3]):
        return False
    tasks = [part for w in words[3:] for part in w.replace(",", " ").split()]
    if words[3:] and not tasks:
        return False
    return all(t.upper() in ("ADVERTISE", "ANALYZE", "UPLOAD", "EDIT") for t in tasks)


async def _type(bot: Bot, text: str, user: str) -> None:
    """Type `/pixel text` as `user` and check every invariant of the answer."""
    before = await mark(bot)
    body = command_body(text, user, bot.slack.response_url(f"fuzz{next(_names)}"))
    response = await post(bot, body, signed_headers(body))
    assert response.status_code == 200, (text[:200], response.status_code, response.text[:300])

    shown = assert_safe_answer(bot, before, response)
    opened_form = "views.open" in slack_methods_since(bot, before)
    answers = [texts for texts in shown if "Working on it" not in texts]
    assert answers or opened_form, f"no specific answer to {text[:200]!r}: {shown}"
    assert_graph_paths_validated(bot, before)

    changed = await share_rows(bot) != before.rows
    if changed:
        assert user == OWNER and _valid_share(text), f"{user} changed share_requests: {text!r}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(text=_text())
async def test_any_command_text_gets_a_specific_safe_answer(bot: Bot, text: str) -> None:
    for user in (STRANGER, OWNER):
        await _type(bot, text, user)


async def test_echoed_input_is_escaped_yet_named(bot: Bot) -> None:
    """The answer quotes the bad word (escaped), so the user sees what was wrong."""
    cases = {
        "info <!channel>": "got '&lt;!channel&gt;'",
        "share <@U123EVIL> 1": "got '&lt;@U123EVIL&gt;'",
        "<https://evil.example|click>": "unknown subcommand '&lt;https://evil.example|click&gt;'",
        "share 1 2 <!here>": "unknown task '&lt;!here&gt;'",
        "link 1 2 act_<!everyone>": "got '&lt;!everyone&gt;'",
        "frobnicate" + "x" * 20000: "that command is too long (20010 characters)",
    }
    for text, quoted in cases.items():
        before = await mark(bot)
        body = command_body(text, STRANGER, bot.slack.response_url("echo"))
        response = await post(bot, body, signed_headers(body))
        shown = assert_safe_answer(bot, before, response)
        assert response.status_code == 200
        assert quoted in "\n".join(shown), (text[:60], shown)
    assert bot.sandbox.calls == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_word_payload_is_a_command_like_any_other(bot: Bot) -> None:
    url = bot.slack.response_url("payload")
    in_text = command_body("info payload", OWNER, url)
    # Slack also sends the channel's name: every command in #payload-team would fail.
    in_channel = command_body("info 12ab", OWNER, url) + "&channel_name=payload-team"
    failed = []
    for body in (in_text, in_channel):
        before = await mark(bot)
        response = await post(bot, body, signed_headers(body))
        if response.status_code != 200 or "PIXEL_ID must be a number" not in "".join(
            shown_since(bot, before, response)
        ):
            failed.append((body[-40:], response.status_code))
    assert failed == []


def test_the_fuzz_checks_can_fail() -> None:
    """The invariants catch a real leak: injected markup, an exception name, an unexpected
    error; and they let the bot's own mentions and dates through."""
    with pytest.raises(AssertionError):
        assert_inert(["hello <!channel>"])
    with pytest.raises(AssertionError):
        assert_inert(["hi <@U123EVIL>"])
    with pytest.raises(AssertionError):
        assert_inert(["see <#C123EVIL>"])
    with pytest.raises(AssertionError):
        assert_no_leak(["KeyError: 'user'"])
    with pytest.raises(AssertionError):
        assert_no_leak([":x: Something went wrong on our side"])
    assert_inert([f"by <@{OWNER}> <!date^1700000000^{{date_short}}|2023-11-14>"])


HOSTILE_NAME = "<!channel> <https://evil.example|Re-login>"
NOVA_PIXEL = "300400500600731"  # owned by Nova Media in the demo world


async def test_names_from_meta_are_shown_escaped_in_messages_to_a_channel(bot: Bot) -> None:
    """A pixel's or business's name is set by whoever owns it at Meta: the approval message
    posted in another business's channel, and the info reply, must keep it inert."""
    world = bot.sandbox.world
    world.pixels[WEBSITE].name = HOSTILE_NAME
    world.businesses[ACME].name = HOSTILE_NAME
    before = await mark(bot)
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE", OWNER)
    await bot.command(f"info {WEBSITE}", OWNER)
    await settle(bot)
    shown = assert_safe_answer(bot, before)
    assert "&lt;!channel&gt; &lt;https://evil.example|Re-login&gt;" in "\n".join(shown)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_names_from_meta_are_escaped_in_refusals(make_bot: MakeBot) -> None:
    bot = await make_bot(register_nova=False)
    world = bot.sandbox.world
    world.businesses[NOVA].name = HOSTILE_NAME
    world.pixels[NOVA_PIXEL].name = HOSTILE_NAME
    world.pixels[NOVA_PIXEL].agencies[ACME] = ["ANALYZE"]  # so Acme's token can read it
    before = await mark(bot)
    exchange = await bot.command(f"share {NOVA_PIXEL} {BRIGHT}", OWNER)
    await settle(bot)
    shown = shown_since(bot, before, exchange.response)
    assert "which is not connected to pixelbot" in "\n".join(shown)
    assert_safe_answer(bot, before, exchange.response)
