"""The Block Kit builders: what a user sees and clicks, and that Slack's limits hold."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.flows.access import NotAdmin
from bot.flows.accounts import SEPTEMBER_2024, LinkReport
from bot.flows.looking import HistoryEvent, HistoryPage, PixelInfo, Waiting
from bot.flows.meta.errors import (
    GraphAuthError,
    GraphError,
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
)
from bot.flows.meta.types import AdAccount, Agency, Business, Pixel, PixelSummary
from bot.flows.sharing import ShareOutcome
from bot.flows.unsharing import UnshareOutcome, UnsharePlan
from bot.flows.views import MetaFailed, RequestView
from bot.slack.block_parts import age, slack_time
from bot.slack.blocks import Message
from bot.slack.ids import Action, Callback, Field
from bot.slack.look_blocks import (
    accounts_message,
    history_message,
    info_message,
    link_progress_message,
    link_report_message,
    pending_message,
)
from bot.slack.problem_blocks import meta_failed_message, not_admin_message, refusal_message
from bot.slack.request_blocks import (
    already_settled_message,
    approval_message,
    requester_dm,
    settled_message,
    share_result_message,
    status_line,
    thread_reply,
    unshare_confirm_message,
    unshare_done_message,
)
from bot.slack.view_blocks import decline_modal, home_view, share_modal
from tests.views import request_view

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = "<@U999> <!channel> *bold* & <https://evil.example|click>"


def request(**changes: Any) -> RequestView:
    return request_view(NOW - timedelta(minutes=5), **changes)


def payload(message: Message) -> dict[str, Any]:
    """The message as sent: slack_sdk validates every block here."""
    return message.as_kwargs()


def dump(message: Message) -> str:
    return json.dumps(payload(message), ensure_ascii=False)


def blocks_of(message: Message, kind: str) -> list[dict[str, Any]]:
    return [b for b in payload(message)["blocks"] if b["type"] == kind]


def buttons(message: Message) -> list[dict[str, Any]]:
    return [e for b in blocks_of(message, "actions") for e in b["elements"]]


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def mrkdwn(value: Any) -> str:
    """Every mrkdwn text in a payload (plain_text is never parsed for mentions or links)."""
    if isinstance(value, list):
        return "\n".join(mrkdwn(v) for v in value)
    if not isinstance(value, dict):
        return ""
    if value.get("type") == "mrkdwn":
        return str(value["text"])
    return "\n".join(mrkdwn(v) for v in value.values())


def assert_escaped(text: str) -> None:
    assert "<@U999>" not in text
    assert "<!channel>" not in text
    assert "<https://evil" not in text
    assert "&lt;@U999&gt;" in text


def test_time_formats_for_each_reader_and_ages_read_naturally() -> None:
    assert slack_time(NOW) == (
        f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} {{time}}|2025-03-04 12:00 UTC>"
    )
    assert age(NOW - timedelta(seconds=10), NOW) == "just now"
    assert age(NOW - timedelta(minutes=5), NOW) == "5 min"
    assert age(NOW - timedelta(hours=3), NOW) == "3 h"
    assert age(NOW - timedelta(days=2), NOW) == "2 days"


def test_approval_card_has_buttons_with_ids_and_a_confirm_dialog() -> None:
    message = approval_message(request(), NOW)
    actions = blocks_of(message, "actions")
    assert [a["block_id"] for a in actions] == ["request:12"]
    approve, decline = buttons(message)
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        Action.APPROVE,
        "12",
        "primary",
    )
    assert (decline["action_id"], decline["value"], decline["style"]) == (
        Action.DECLINE,
        "12",
        "danger",
    )
    confirm = approve["confirm"]
    assert confirm["title"]["text"] == "Approve this request?"
    assert "Shop pixel" in confirm["text"]["text"]
    assert "Agency Ltd" in confirm["text"]["text"]
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Approve", "Cancel")
    text = dump(message)
    for fact in ("Shop pixel", "111", "Owner Co", "222", "Agency Ltd", "333", "ANALYZE", "444"):
        assert fact in text
    assert "<@U0REQ>" in text
    assert "5 min ago" in text
    assert "Agency Ltd" in message.text


def test_settled_card_has_no_buttons_and_says_who_decided() -> None:
    req = request(status="active", decider="U0ADM", decided_at=NOW)
    message = settled_message(req)
    assert blocks_of(message, "actions") == []
    assert "Approved by <@U0ADM> at <!date^" in dump(message)


def test_user_and_meta_text_is_escaped_everywhere_it_is_shown() -> None:
    req = request(
        note=HOSTILE,
        pixel_name=HOSTILE,
        agency_name=HOSTILE,
        owner_name=HOSTILE,
        status="declined",
        decider="U0ADM",
        reason=HOSTILE,
    )
    for message in (approval_message(req, NOW), settled_message(req), requester_dm(req)):
        assert_escaped(mrkdwn(payload(message)["blocks"]))
        assert_escaped(message.text)
    assert_escaped(status_line(req))
    assert "&amp;" in status_line(req)


def test_a_5000_char_note_is_clipped_and_the_card_still_validates() -> None:
    message = approval_message(request(note="&" * 5000), NOW)
    texts = section_texts(payload(message)["blocks"])
    assert all(len(t) <= 3000 for t in texts)
    assert any("…" in t for t in texts)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": "active", "decider": "U0ADM1"}, ":white_check_mark: Approved by <@U0ADM1>"),
        ({"status": "active"}, "Approved in Meta Business Settings"),
        ({"status": "declined"}, "Declined in Meta Business Settings"),
        (
            {"status": "cancelled", "decider": "U0ADM1"},
            "Cancelled by <@U0ADM1> (the owner withdrew it)",
        ),
        ({"status": "cancelled"}, "Cancelled in Meta"),
        ({"status": "expired"}, ":hourglass: Expired at Meta before anyone decided"),
        (
            {"status": "revoked", "decider": "U0ADM1"},
            ":heavy_minus_sign: Access removed by <@U0ADM1>",
        ),
        ({"status": "failed", "error_message": "no <b>"}, ":x: Meta refused: no &lt;b&gt;"),
        ({"status": "pending"}, "Waiting for an admin of *Agency Ltd*"),
        (
            {"status": "approving", "decider": "U0ADM1"},
            ":arrows_counterclockwise: Being approved by",
        ),
    ],
)
def test_status_line_per_status(changes: dict[str, Any], expected: str) -> None:
    assert expected in status_line(request(**changes))


def test_decline_reason_is_shown_and_replies_are_one_line() -> None:
    req = request(status="declined", decider="U0ADM1", decided_at=NOW, reason="too broad")
    assert status_line(req).endswith("\nReason: too broad")
    assert thread_reply(req).text == status_line(req)
    assert requester_dm(req).text.startswith("Your request #12 to share pixel *Shop pixel*")


def test_already_settled_names_who_and_when() -> None:
    req = request(status="active", decider="U0ADM1", decided_at=NOW)
    text = already_settled_message(req).text
    assert "Request #12 was already approved by <@U0ADM1> at <!date^" in text
    assert "Nothing was changed." in text
    busy = already_settled_message(request(status="declining", decider="U0ADM2")).text
    assert "is being declined by <@U0ADM2> right now" in busy


def outcome(status: str, registered: bool = True) -> ShareOutcome:
    return ShareOutcome(request(status=status), "C0APP" if registered else None, registered)


def test_share_result_says_who_must_act() -> None:
    assert "is now shared with *Agency Ltd*" in share_result_message(outcome("active"), None).text
    posted = share_result_message(outcome("pending"), "C0APP").text
    assert "waits for the admins of *Agency Ltd* (`333`) in <#C0APP>" in posted
    stranger = share_result_message(outcome("pending", registered=False), None).text
    assert "not connected to pixelbot" in stranger
    assert "Business settings > Requests" in stranger
    assert "request #12" in stranger
    no_channel = ShareOutcome(request(status="pending"), None, True)
    text = share_result_message(no_channel, None).text
    assert "no approvals channel" in text
    assert "`/pixel pending`" in text
    not_posted = share_result_message(outcome("pending"), None).text
    assert "could not post it in <#C0APP>" in not_posted
    assert "`/invite @pixelbot`" in not_posted


def test_unshare_confirm_has_danger_and_abort_buttons() -> None:
    plan = UnsharePlan("111", "Shop pixel", "Owner Co", "333", "Agency Ltd", True, request())
    message = unshare_confirm_message(plan)
    go, keep = buttons(message)
    assert (go["action_id"], go["value"], go["style"]) == (
        Action.UNSHARE_CONFIRM,
        "111:333",
        "danger",
    )
    assert go["text"]["text"] == "Remove access"
    assert keep["action_id"] == Action.UNSHARE_ABORT
    text = dump(message)
    assert "Remove the access of *Agency Ltd*" in text
    assert "Cancel pending request #12" in text
    pending_only = dataclasses.replace(plan, shared=False)
    assert buttons(unshare_confirm_message(pending_only))[0]["text"]["text"] == "Cancel the request"


def test_unshare_done_says_what_was_done() -> None:
    done = UnshareOutcome("111", "333", (request(status="cancelled", decider="U0ADM1"),))
    assert "Cancelled pending request #12" in unshare_done_message(done, "Shop pixel").text
    nothing = unshare_done_message(UnshareOutcome("111", "333", ()))
    assert "no request on record" in nothing.text


def failure(error: GraphError, **kwargs: Any) -> MetaFailed:
    return MetaFailed(error, "222", "Owner Co", **kwargs)


def test_expired_token_names_the_business_and_says_reconnect() -> None:
    error = GraphAuthError("Error validating access token", code=190, fbtrace_id="AbC123")
    message = meta_failed_message(failure(error))
    assert "Owner Co" in message.text
    assert "222" in message.text
    assert "reconnect" in message.text
    assert "--replace" in message.text
    context = dump(message)
    assert "Meta error #190" in context
    assert "fbtrace_id `AbC123`" in context


def test_meta_user_message_wins_and_is_escaped() -> None:
    error = GraphPermissionError("dev text", code=200, error_subcode=1, error_user_msg=HOSTILE)
    message = meta_failed_message(failure(error))
    assert_escaped(message.text)
    assert "dev text" not in message.text
    assert "Meta error #200/1" in dump(message)


def test_rate_limit_says_minutes_and_uncertain_says_retry_is_safe() -> None:
    error = GraphRateLimited("slow down", code=4)
    error.retry_after = 125
    assert "about 3 minutes" in meta_failed_message(failure(error)).text
    error.retry_after = None
    assert "try again in a few minutes" in meta_failed_message(failure(error)).text
    uncertain = meta_failed_message(
        failure(GraphTimeout("timed out"), request=request(), uncertain=True)
    )
    assert "may or may not have happened" in uncertain.text
    assert "Request #12 is kept" in uncertain.text
    assert blocks_of(uncertain, "context") == []
    unshare = meta_failed_message(failure(GraphTimeout("timed out"), uncertain=True))
    assert "trying again is safe" in unshare.text


def test_refusal_text_is_inert_and_only_the_admins_are_mentioned() -> None:
    # The domain hands over admins as ids; only the builder writes mentions, so text that
    # merely looks like one (a name from Meta) stays inert.
    assert refusal_message("<@U0ADM1> owns it").text == ":no_entry_sign: &lt;@U0ADM1&gt; owns it"
    refusal = NotAdmin("555", "<@U0EVIL> & Co", ["U0ADM1", "U0ADM2"], "share")
    assert not_admin_message(refusal).text == (
        ":no_entry_sign: Only admins of &lt;@U0EVIL&gt; &amp; Co (555) can do that: "
        "<@U0ADM1>, <@U0ADM2>."
    )
    nobody = not_admin_message(NotAdmin("555", "Co", [], "approve", own_request=True)).text
    assert nobody.startswith(":no_entry_sign: You asked for this share yourself")
    assert "`pixelbot admin grant USER_ID 555`" in nobody and "<@" not in nobody


def link_report(n: int, refused: int = 0, unlink: bool = False) -> LinkReport:
    reason = f"Owner Co has no access to ad account act_9. {SEPTEMBER_2024}"
    return LinkReport(
        "111",
        "Shop pixel",
        "222",
        "Owner Co",
        unlink,
        done=[str(10**12 + i) for i in range(n)],
        already=[str(2 * 10**12 + i) for i in range(n)],
        refused=[(str(3 * 10**12 + i), reason + " x" * 200) for i in range(refused)],
    )


def test_link_report_of_500_accounts_fits_slack_limits() -> None:
    message = link_report_message(link_report(500, refused=500))
    blocks = payload(message)["blocks"]
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in section_texts(blocks))
    text = dump(message)
    assert "Linked 500 · already linked 500 · refused 500" in text
    assert "and 460 more" in text
    assert "and 480 more" in text
    assert text.count(SEPTEMBER_2024) == 1
    assert "Unlinked 1" in link_report_message(link_report(1, unlink=True)).text


def test_progress_and_accounts() -> None:
    assert "50/120" in link_progress_message("111", "Owner Co", 50, 120).text
    report = link_report(0)
    assert "none" in dump(accounts_message(report, []))
    listed = accounts_message(report, [AdAccount("act_5", "5", HOSTILE)])
    assert "`act_5`" in dump(listed)
    assert_escaped(dump(listed))


def test_info_shows_owner_fired_agencies_accounts_and_requests() -> None:
    pixel = Pixel("111", "Shop pixel", Business("222", "Owner Co"), NOW, None, False)
    info = PixelInfo(
        pixel,
        "Owner Co",
        (Agency("333", "Agency Ltd", ("ANALYZE",)),),
        (("333", AdAccount("act_7", "7", "")),),
        (request(),),
    )
    text = dump(info_message(info, NOW))
    for fact in ("Owner Co", "Agency Ltd", "ANALYZE", "`act_7`", "#12", "<!date^"):
        assert fact in text
    never = dataclasses.replace(pixel, last_fired_time=None, is_unavailable=True)
    text = dump(info_message(dataclasses.replace(info, pixel=never), NOW))
    assert "never" in text
    assert "unavailable" in text


def many_waiting(n: int) -> Waiting:
    to_decide = tuple(request(id=i, note="n" * 1000) for i in range(1, n + 1))
    mine = tuple(request(id=100 + i, status="declined", reason="r" * 1000) for i in range(10))
    return Waiting(to_decide, mine)


def test_pending_lists_20_decisions_within_50_blocks() -> None:
    message = pending_message(many_waiting(25), NOW)
    blocks = payload(message)["blocks"]
    assert len(blocks) <= 50
    approves = [b for b in buttons(message) if b["action_id"] == Action.APPROVE]
    assert len(approves) == 20
    assert all("confirm" in b for b in approves)
    assert "and 5 more" in dump(message)
    assert "Declined" in dump(message)
    empty = dump(pending_message(Waiting((), ()), NOW))
    assert "Nothing waits for you." in empty


def event(actor: str = "U0ABC") -> HistoryEvent:
    return HistoryEvent(NOW, actor, "share", "failed", "111", 12, 100, "TRACE", HOSTILE)


def test_history_has_older_only_when_there_is_more() -> None:
    page = HistoryPage("111", 0, (event(), event("operator")), 1)
    message = history_message(page)
    (older,) = buttons(message)
    assert (older["action_id"], older["value"]) == (Action.HISTORY_MORE, "111:1")
    text = dump(message)
    assert "<@U0ABC>" in text
    assert "operator" in text
    assert "TRACE" in text
    assert "#100" in text
    assert_escaped(text)
    last = history_message(dataclasses.replace(page, next_page=None, pixel_id=None))
    assert buttons(last) == []
    assert "No history yet." in dump(history_message(HistoryPage(None, 0, (), None)))


def view_dict(view: View) -> dict[str, Any]:
    result: dict[str, Any] = view.to_dict()
    return result


def input_blocks(view: View) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view_dict(view)["blocks"] if b["type"] == "input"}


def test_share_modal_inputs() -> None:
    loading = input_blocks(share_modal(None))
    assert loading[Field.PIXEL]["element"]["type"] == "plain_text_input"
    assert "Loading" in json.dumps(loading[Field.PIXEL])
    pixels = [PixelSummary(str(i), "p" * 100) for i in range(150)]
    view = view_dict(share_modal(pixels))
    assert (view["callback_id"], view["title"]["text"]) == (Callback.SHARE, "Share a pixel")
    chosen = input_blocks(share_modal(pixels))
    select = chosen[Field.PIXEL]["element"]
    assert select["type"] == "static_select"
    assert len(select["options"]) == 100
    assert select["options"][0]["text"]["text"].endswith("(0)")
    assert input_blocks(share_modal([]))[Field.PIXEL]["element"]["type"] == "plain_text_input"
    tasks = chosen[Field.TASKS]["element"]
    assert tasks["initial_options"][0]["value"] == "ANALYZE"
    assert all(len(o["description"]["text"]) <= 75 for o in tasks["options"])
    note = chosen[Field.NOTE]
    assert note["optional"] is True
    assert note["element"]["max_length"] == 1000
    assert all(b["element"]["action_id"] == Field.VALUE for b in chosen.values())


def test_decline_modal_names_the_request() -> None:
    view = view_dict(decline_modal(request(owner_name=HOSTILE)))
    assert (view["callback_id"], view["private_metadata"]) == (Callback.DECLINE, "12")
    assert view["submit"]["text"] == "Decline"
    assert_escaped(json.dumps(view))
    reason = input_blocks(decline_modal(request()))[Field.REASON]
    assert reason["optional"] is True
    assert reason["element"]["multiline"] is True


def test_home_view_stays_within_100_blocks() -> None:
    view = view_dict(home_view(many_waiting(25), NOW, sandbox=True))
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    text = json.dumps(view)
    assert "/pixel share" in text
    assert "Sandbox mode" in text
    approves = [
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == Action.APPROVE
    ]
    assert len(approves) == 10
