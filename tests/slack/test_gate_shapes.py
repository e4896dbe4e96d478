"""The gate's reading of a signed body, without the app: JSON bounded in size and depth
before json.loads, every field Bolt indexes checked for its type, Slack's real payloads let
through, and every refusal a plain sentence."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import gate, shapes
from bot.slack.ids import Action, Callback
from bot.slack.shapes import MAX_DEPTH, MAX_JSON_CHARS, Malformed
from tests.hostile import spoils
from tests.hostile.harness import INTERNAL_NAMES
from tests.signing import action_body, command_body, event_body, view_body

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MANY = settings(max_examples=2000, deadline=None, derandomize=True, database=None)


def _depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value, the slow obvious way."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _payload(body: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(dict(parse_qsl(body))["payload"])
    return parsed


# Depth and size, before parsing


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[{{{"', 0),
        ("[]", 1),
        ("{}", 1),
        ('[{"a": [1, {"b": []}]}]', 5),
        ('["]"]', 1),
        ('["\\"]]]"]', 1),  # an escaped quote does not end the string
        ('["\\\\", [[]]]', 3),  # an escaped backslash does not escape the quote after it
        ('["\\\\\\"[[["]', 1),  # backslash, backslash, escaped quote: still inside
        ('{"a\\u0022[": [[]]}', 3),  # a quote spelled as an escape is text
        ('{"[": "]", "{": "}"}', 1),
    ],
)
def test_json_depth_counts_only_brackets_outside_strings(text: str, depth: int) -> None:
    assert shapes.json_depth(text) == depth
    assert _depth(json.loads(text)) == depth


_leaf = st.one_of(st.none(), st.integers(), st.text(alphabet='[]{}"\\ab\n\u2028', max_size=8))
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(alphabet='[]{}"\\ab', max_size=4), inner, max_size=3),
    ),
    max_leaves=20,
)


@MANY
@given(value=_json, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 1]))
def test_json_depth_agrees_with_the_parsed_value(
    value: Any, ensure_ascii: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    assert shapes.json_depth(text) == _depth(value)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 10_000, 1_000_000])
def test_deep_json_is_refused_without_being_parsed(levels: int) -> None:
    for text in ("[" * levels + "]" * levels, '{"a":' * levels + "1" + "}" * levels):
        started = time.perf_counter()
        with pytest.raises(Malformed, match=f"nests deeper than {MAX_DEPTH} levels"):
            shapes.load_json(text[:MAX_JSON_CHARS])
        assert time.perf_counter() - started < 1.0


def test_json_at_the_depth_limit_is_parsed() -> None:
    assert shapes.load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_an_unterminated_deep_body_is_refused_too() -> None:
    with pytest.raises(Malformed, match="nests deeper"):
        shapes.load_json('{"a": ' + "[" * 10_000)
    with pytest.raises(Malformed, match="could not be read as JSON"):
        shapes.load_json('"' + "[" * 10_000)  # all inside a string that never ends


@pytest.mark.parametrize(
    "text",
    [
        '"\\"' * 300_000,  # escaped quotes that never close: quadratic for a naive regex
        "\\" * 1_000_000,
        '"' * 1_000_000,
        "[]" * 500_000,
        '["' + "x" * 1_000_000 + '"]',
    ],
)
def test_the_depth_scan_is_linear(text: str) -> None:
    started = time.perf_counter()
    shapes.json_depth(text)
    assert time.perf_counter() - started < 1.0


def test_json_over_the_size_limit_is_refused() -> None:
    text = json.dumps({"type": "x", "pad": "x" * MAX_JSON_CHARS})
    with pytest.raises(Malformed, match="larger than anything Slack sends"):
        shapes.load_json(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "could not be read as JSON"),
        ('{"n": ' + "9" * 5000 + "}", "could not be read as JSON"),  # Python's digit limit
        ("", "could not be read as JSON"),
    ],
)
def test_unreadable_json_is_said_plainly(text: str, words: str) -> None:
    with pytest.raises(Malformed, match=words) as caught:
        shapes.load_json(text)
    assert INTERNAL_NAMES.search(str(caught.value)) is None


# Slack's real payloads pass


def _message_click() -> dict[str, Any]:
    return _payload(action_body(Action.APPROVE.value, "1", "U1", "https://hooks.slack.com/x"))


def _modal_click() -> dict[str, Any]:
    click = _message_click()
    for key in ("channel", "message", "response_url"):
        del click[key]
    click["container"] = {"type": "view", "view_id": "V1"}
    click["view"] = _payload(view_body(Callback.SHARE.value, {}, "U1"))["view"]
    return click


def _home_click() -> dict[str, Any]:
    click = _modal_click()
    click["view"] |= {"type": "home", "callback_id": "", "private_metadata": ""}
    return click


def _org_wide_click() -> dict[str, Any]:
    return _message_click() | {
        "team": None,
        "enterprise": {"id": "E1", "name": "Org"},
        "is_enterprise_install": True,
    }


def _view_closed() -> dict[str, Any]:
    closed = _payload(view_body(Callback.DECLINE.value, {}, "U1", "5"))
    del closed["trigger_id"], closed["response_urls"]
    return closed | {"type": "view_closed", "is_cleared": False}


def _event(inner: dict[str, Any]) -> dict[str, Any]:
    return spoils.event(inner, "Ev1")


REAL: dict[str, dict[str, Any]] = {
    "a click in a channel message": _message_click(),
    "a click in an ephemeral message": _message_click()
    | {"container": {"type": "message", "message_ts": "1.1", "is_ephemeral": True}},
    "a click in a modal": _modal_click(),
    "a click on App Home": _home_click(),
    "a click in an org-wide install": _org_wide_click(),
    "a modal submission": _payload(view_body(Callback.DECLINE.value, {}, "U1", "5")),
    "a modal submission with response_urls": _payload(view_body(Callback.SHARE.value, {}, "U1"))
    | {
        "response_urls": [
            {"block_id": "b", "action_id": "a", "channel_id": "C1", "response_url": "https://x"}
        ]
    },
    "a modal closed": _view_closed(),
    "a block suggestion": {
        "type": "block_suggestion",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "action_id": "pixel",
        "block_id": "b",
        "value": "web",
        "view": _modal_click()["view"],
    },
    "a global shortcut": {
        "type": "shortcut",
        "callback_id": "x",
        "trigger_id": "1.2.3",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
    },
    "a message shortcut": {
        "type": "message_action",
        "callback_id": "x",
        "trigger_id": "1.2.3",
        "user": {"id": "U1"},
        "channel": {"id": "C1", "name": "general"},
        "message": {"ts": "1.1", "text": "hi"},
        "response_url": "https://x",
    },
    "url_verification": {
        "token": "t",
        "challenge": "3eZbrw1aBm2rZgRNFdxV",
        "type": "url_verification",
    },
    "app_home_opened": json.loads(
        event_body({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    ),
    "app_home_opened with authorizations": _event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"}
    ),
    "an event whose channel is an object": _event(
        {"type": "channel_created", "channel": {"id": "C1", "name": "x", "creator": "U1"}}
    ),
    "an event whose user is an object": _event({"type": "user_change", "user": {"id": "U1"}}),
    "app_rate_limited": {"type": "app_rate_limited", "team_id": "T1", "minute_rate_limited": 1},
    "a slash command": dict(parse_qsl(command_body("help", "U1", "https://x"))),
}


@pytest.mark.parametrize("name", REAL)
def test_slacks_real_payloads_pass(name: str) -> None:
    shapes.check(REAL[name])


def test_real_bodies_pass_the_whole_gate_unchanged() -> None:
    click = action_body(Action.APPROVE.value, "1", "U1", "https://x")
    assert gate.parse(click.encode(), FORM) == _payload(click)
    command = command_body("info payload", "U1", "https://x")  # the word is only text
    assert gate.parse(command.encode(), FORM)["text"] == "info payload"
    event = event_body({"type": "app_home_opened", "user": "U1", "tab": "home"})
    assert gate.parse(event.encode(), JSON) == json.loads(event)
    assert gate.parse(event.encode(), FORM) == json.loads(event)  # JSON whatever the header


def test_brackets_in_text_are_not_nesting() -> None:
    click = _message_click()
    click["actions"][0]["value"] = "[" * 10_000
    body = urlencode({"payload": json.dumps(click)}).encode()
    assert gate.parse(body, FORM)["actions"][0]["value"] == "[" * 10_000


# Everything else is refused, naming the field


TABLES = {
    "click": (_message_click(), spoils.CLICK),
    "submission": (_payload(view_body(Callback.DECLINE.value, {}, "U1", "5")), spoils.SUBMISSION),
    "command": (spoils.command("help", "U1", "https://x"), spoils.COMMAND),
    "event": (REAL["app_home_opened with authorizations"], spoils.EVENT),
}
CASES = [(kind, name) for kind, (_, table) in TABLES.items() for name in table]


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}: {n}" for k, n in CASES])
def test_a_spoiled_field_is_refused_by_name(kind: str, name: str) -> None:
    payload, table = TABLES[kind]
    shapes.check(payload)  # the control
    with pytest.raises(Malformed) as caught:
        shapes.check(spoils.spoiled(payload, table[name]))
    message = str(caught.value)
    assert spoils.expected_words(table[name]) in message
    assert message.startswith("this request")
    assert INTERNAL_NAMES.search(message) is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"type": "block_actions", "user": {"id": "U1"}, "channel": 5}, "`channel` is not a Slack"),
        ({"command": "/pixel", "user_id": "U1"}, "this request has no `trigger_id`"),
        ({"command": "/pixel", "trigger_id": "1"}, "this request has no `user_id`"),
        ({"type": "view_submission", "user": {"id": "U1"}, "trigger_id": "1"}, "no `view`"),
        (_event({"type": "app_home_opened", "user": {"id": "U1"}}), "`event.user` is not text"),
    ],
)
def test_refusals_are_specific_sentences(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(Malformed, match=re.escape(message)):
        shapes.check(payload)


def test_block_ids_are_never_echoed() -> None:
    submission = _payload(view_body(Callback.SHARE.value, {}, "U1"))
    submission["view"]["state"]["values"] = {"KeyError<!channel>": 5}
    with pytest.raises(Malformed) as caught:
        shapes.check(submission)
    assert "KeyError" not in str(caught.value) and "<!channel>" not in str(caught.value)


# The whole gate, fed anything


_forms = st.dictionaries(st.text(max_size=10), st.text(max_size=10))
_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.builds(lambda v: json.dumps(v).encode(), _json),
    st.builds(lambda v: urlencode({"payload": json.dumps(v)}).encode(), _json),
    st.builds(lambda d: urlencode(d).encode(), _forms),
    st.builds(lambda n: ("[" * n).encode(), st.integers(0, 5000)),
)


def _read(body: bytes, content_type: str) -> dict[str, Any] | gate.Rejected:
    try:
        return gate.parse(body, content_type)
    except gate.Rejected as refused:
        return refused


@MANY
@given(body=_bodies, content_type=st.sampled_from([FORM, JSON, "", "text/plain"]))
def test_the_gate_reads_anything_or_refuses_it_plainly(body: bytes, content_type: str) -> None:
    outcome = _read(body, content_type)
    if isinstance(outcome, gate.Rejected):
        assert outcome.status == 400
        assert INTERNAL_NAMES.search(outcome.reason) is None, outcome.reason
    else:
        shapes.check(outcome)  # what passes has Slack's shape
