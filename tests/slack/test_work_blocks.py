"""What users read about their acknowledged work: resumed, given up, not recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flows.views import RequestView
from bot.slack.ids import Action, Callback
from bot.slack.work_blocks import gave_up_message, resumed_message, unrecorded_message
from tests.views import request_view

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _request(status: str) -> RequestView:
    return request_view(NOW, status=status, tasks=("ANALYZE",))


@pytest.mark.parametrize(
    ("name", "what", "later"),
    [
        ("share", "your share", "DM"),
        (Callback.SHARE.value, "your share", "DM"),
        (Action.APPROVE.value, "your approval", "approval message"),
        (Callback.DECLINE.value, "your decline", "approval message"),
        (Action.UNSHARE_CONFIRM.value, "your unshare", "/pixel history"),
    ],
)
def test_a_resumed_job_says_what_it_was_and_where_each_request_stands(
    name: str, what: str, later: str
) -> None:
    message = resumed_message(name, [_request("submitting"), _request("pending")])
    assert "restarted" in message.text and what in message.text and later in message.text
    assert message.text.count("Request #12") == 2
    assert "Shop pixel" in message.text and "Agency Ltd" in message.text
    assert "Nothing is done twice" in message.text


def test_given_up_and_unrecorded_work_say_nothing_more_happens() -> None:
    assert "could not finish your approval" in gave_up_message(Action.APPROVE.value).text
    assert "/pixel history" in gave_up_message("link").text
    assert "did nothing" in unrecorded_message().text
