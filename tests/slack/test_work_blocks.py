"""What users read about their acknowledged work: resumed, given up, not recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flows.views import RequestView
from bot.slack.ids import Action, Callback
from bot.slack.work_blocks import gave_up_message, resumed_message, unrecorded_message

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _request(status: str) -> RequestView:
    return RequestView(
        id=12,
        pixel_id="111",
        pixel_name="Shop pixel",
        owner_business_id="222",
        owner_name="Owner Co",
        agency_business_id="333",
        agency_name="Agency Ltd",
        tasks=("ANALYZE",),
        status=status,
        pending_request_id="444",
        requester="U0REQ",
        note=None,
        decider=None,
        reason=None,
        created_at=NOW,
        decided_at=None,
        slack_channel=None,
        slack_ts=None,
        error_message=None,
        error_code=None,
        fbtrace_id=None,
    )


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
