"""Any field, any type, through the real app: real payloads with fields replaced by anything
JSON can carry, and every field Bolt reads given every odd type. Whatever the door lets
through, the answer is below 500, a refusal names nothing internal, nobody reads an error
id, and (a stranger sends them all) nothing changes, here or at Meta.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.flows.states import ShareStatus
from tests.e2e.conftest import Bot
from tests.hostile import spoils
from tests.hostile.harness import (
    assert_graph_paths_validated,
    assert_safe_answer,
    error_ids,
    examples,
    graph_writes_since,
    mark,
    pending_request,
    send_signed,
    share_rows,
    shown_since,
)

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_names = itertools.count()


MUTATIONS = settings(
    max_examples=examples(700),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ODD_SCALARS = [None, True, False, 0, -1, 2**31, 2**63, 10**20, 1.5, 1e308, "", "0", "null"]
ODD_SCALARS += ["<!channel>", "{}", "[]", "\x00", "\u202e", "9" * 30, '{"id": "U1"}']


def _anything() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.sampled_from(ODD_SCALARS), st.integers(), st.floats(allow_nan=False), st.text()
    )
    nested = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
    deep = st.builds(lambda n, v: json.loads(spoils.nested(n, v)), st.integers(2, 80), scalars)
    return st.one_of(scalars, scalars, nested, deep)


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path to every field of `node`, containers included."""
    found = [prefix] if prefix else []
    if isinstance(node, dict | list):
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            found += _paths(value, (*prefix, key))
    return found


def _replace(node: Any, path: tuple[str | int, ...], value: Any) -> None:
    """Set (or with MISSING, remove) the field at `path`; no-op if an earlier change took its
    parent away."""
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        return
    if not isinstance(node, dict | list):
        return
    if value is not spoils.MISSING:
        node[last] = value
    elif isinstance(node, dict):
        node.pop(last, None)
    else:
        del node[last]


@st.composite
def _changes(draw: st.DrawFn) -> tuple[str, list[tuple[int, Any]]]:
    """A kind of payload, and up to three (field number, new value or MISSING) changes."""
    kind = draw(st.sampled_from(spoils.KINDS))
    change = st.tuples(st.integers(0, 200), st.one_of(st.just(spoils.MISSING), _anything()))
    return kind, draw(st.lists(change, min_size=1, max_size=3))


@SQLITE
@MUTATIONS
@given(drawn=_changes())
async def test_any_field_of_any_type_is_answered_plainly(
    bot: Bot, drawn: tuple[str, list[tuple[int, Any]]]
) -> None:
    kind, changes = drawn
    pending = next((r for r in await bot.requests() if r.status == ShareStatus.PENDING), None)
    target = str(pending.id) if pending else await pending_request(bot)
    payload = spoils.of_kind(kind, target, bot.slack.response_url(f"mutant{next(_names)}"))
    paths = _paths(payload)
    for number, value in changes:
        _replace(payload, paths[number % len(paths)], value)
    body, content_type = spoils.encoded(kind, payload)
    before = await mark(bot)
    response = await send_signed(bot, body, content_type)  # asserts < 500, and a plain refusal

    assert response.status_code in (200, 400, 404), (response.status_code, response.text[:200])
    if response.status_code == 400:
        assert shown_since(bot, before) == []
        assert bot.slack.calls[before.slack_calls :] == []
    assert_safe_answer(bot, before, response if response.status_code == 200 else None)
    assert error_ids(shown_since(bot, before)) == set()
    assert await share_rows(bot) == before.rows
    assert graph_writes_since(bot, before) == []
    assert_graph_paths_validated(bot, before)


# Fields Slack seldom sends but Bolt reads when they are there, of every odd type.
BOLT_READS = [
    "authorizations",
    "enterprise_id",
    "team_id",
    "user_id",
    "channel_id",
    "thread_ts",
    "is_enterprise_install",
    "is_ext_shared_channel",
    "function_execution_id",
    "bot_access_token",
    "function_data",
    "message",
    "previous_message",
    "item",
    "assistant_thread",
    "context_team_id",
    "context_enterprise_id",
    "event",
    "view",
    "response_urls",
    "workflow_step",
    "callback_id",
    "action_id",
]
ODD_VALUES: list[Any] = [None, 5, True, "x", [], [5], [{}], {}, {"id": 5}, {"authorizations": 5}]
ODD_VALUES += [[{"authorizations": 5}], [{"team": 5}], {"type": 5}, {"user_team": 5, "team": "E1"}]


# Where each kind gets the odd field: an event's own body is read by Bolt as a body too, and
# in a Slack Connect channel (is_ext_shared_channel) Bolt reads the event's teams as well.
PLACES = [("click", ()), ("json command", ()), ("event", ()), ("event", ("event",))]


@SQLITE
@pytest.mark.parametrize(("kind", "place"), PLACES, ids=["click", "command", "event", "in event"])
async def test_fields_bolt_reads_are_never_a_500_whatever_their_type(
    bot: Bot, kind: str, place: tuple[str, ...]
) -> None:
    target = await pending_request(bot)
    for key in BOLT_READS:
        for value in ODD_VALUES:
            payload = spoils.of_kind(kind, target, bot.slack.response_url(f"odd{next(_names)}"))
            if kind == "event":
                payload["is_ext_shared_channel"] = True
            node = payload["event"] if place else payload
            node[key] = value
            body, content_type = spoils.encoded(kind, payload)
            before = await mark(bot)
            await send_signed(bot, body, content_type)  # asserts < 500, and a plain refusal
            assert error_ids(shown_since(bot, before)) == set(), (key, value)
            assert await share_rows(bot) == before.rows, (key, value)
