"""Read-only answers: link reports, linked accounts, pixel info, pending requests, history."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from bot.flows.accounts import SEPTEMBER_2024, LinkReport
from bot.flows.looking import HistoryEvent, HistoryPage, PixelInfo, Waiting
from bot.flows.meta.types import AdAccount
from bot.slack.block_parts import (
    ago,
    fit,
    more,
    named,
    person,
    sections,
    slack_time,
    user_text,
)
from bot.slack.blocks import Message, _context, _section, escape
from bot.slack.ids import Action
from bot.slack.request_blocks import decision_buttons, request_summary, status_line

ACCOUNTS_SHOWN = 40
REFUSED_SHOWN = 20
LISTED_ACCOUNTS = 200
DECISIONS_SHOWN = 20
DETAIL_LIMIT = 200
LIST_REASON = 200  # a decline reason in a list of requests


def _acts(accounts: list[str], limit: int = ACCOUNTS_SHOWN) -> str:
    shown = ", ".join(f"`act_{user_text(a, 40)}`" for a in accounts[:limit])
    return shown + more(min(limit, len(accounts)), len(accounts))


def link_progress_message(report_pixel: str, business_name: str, done: int, total: int) -> Message:
    """A bulk link under way: how many ad accounts Meta has answered for so far."""
    text = (
        f":hourglass_flowing_sand: Linking ad accounts to pixel {escape(report_pixel)} "
        f"for {escape(business_name)}… {done}/{total}"
    )
    return Message(text=text, blocks=[_section(text)])


def _refusals(report: LinkReport) -> tuple[list[str], bool]:
    """One line per refused account; the September 2024 rule said once, not on every line."""
    lines, rule = [], False
    for account, reason in report.refused[:REFUSED_SHOWN]:
        if SEPTEMBER_2024 in reason:
            reason, rule = reason.replace(SEPTEMBER_2024, "").strip(), True
        lines.append(f"• `act_{user_text(account, 40)}`: {user_text(reason, 300)}")
    if len(report.refused) > REFUSED_SHOWN:
        lines.append(f"…{more(REFUSED_SHOWN, len(report.refused))}")
    return lines, rule


def link_report_message(report: LinkReport) -> Message:
    """What a link (or unlink) did to each ad account: done, already so, or refused and why."""
    verb, past = ("Unlinked", "unlinked") if report.unlink else ("Linked", "linked")
    summary = (
        f"{verb} {len(report.done)} · already {past} {len(report.already)} "
        f"· refused {len(report.refused)}"
    )
    where = f"pixel {named(report.pixel_name, report.pixel_id)}"
    head = f"*{summary}*\n{where}, for {named(report.business_name, report.business_id)}"
    lines = []
    if report.done:
        lines.append(f"*{verb}:* {_acts(report.done)}")
    if report.already:
        lines.append(f"*Already {past}:* {_acts(report.already)}")
    refusals, rule = _refusals(report)
    if refusals:
        lines += ["*Refused:*", *refusals]
    blocks: list[Block] = [_section(head), *sections(lines)]
    if rule:
        blocks.append(_context(SEPTEMBER_2024))
    return Message(text=f"{summary} for {where}", blocks=fit(blocks))


def accounts_message(report: LinkReport, accounts: list[AdAccount]) -> Message:
    """The ad accounts of a business linked to a pixel, or "none"."""
    business = named(report.business_name, report.business_id)
    head = (
        f"*Ad accounts of {business} linked to pixel {named(report.pixel_name, report.pixel_id)}*"
    )
    lines = [
        f"• `act_{user_text(a.account_id, 40)}` {user_text(a.name, 100)}"
        for a in accounts[:LISTED_ACCOUNTS]
    ] or ["none"]
    if len(accounts) > LISTED_ACCOUNTS:
        lines.append(f"…{more(LISTED_ACCOUNTS, len(accounts))}")
    text = f"{len(accounts)} ad accounts of {business} linked to the pixel"
    return Message(text=text, blocks=fit(sections([head, *lines])))


def _info_lines(info: PixelInfo, now: datetime) -> list[str]:
    pixel = info.pixel
    owner = pixel.owner_business
    fired = pixel.last_fired_time
    return [
        f"*Pixel:* {named(pixel.name, pixel.id)}",
        f"*Owner:* {named(owner.name, owner.id) if owner else 'no business has claimed it'}",
        "*Last fired:* " + (f"{slack_time(fired)} ({ago(fired, now)})" if fired else "never"),
        "*Available:* " + ("no, Meta marks it unavailable" if pixel.is_unavailable else "yes"),
        f"*Read as:* {user_text(info.seen_as, 200)}",
    ]


def _account_lines(info: PixelInfo) -> list[str]:
    names = {a.id: a.name for a in info.agencies}
    if info.pixel.owner_business:
        names[info.pixel.owner_business.id] = info.pixel.owner_business.name
    grouped: dict[str, list[str]] = {}
    for business_id, account in info.accounts:
        grouped.setdefault(business_id, []).append(account.account_id)
    return [f"• {named(names.get(b), b)}: {_acts(accts)}" for b, accts in grouped.items()]


def info_message(info: PixelInfo, now: datetime) -> Message:
    """A pixel: owner, last fired, agencies and their tasks, linked accounts, open requests."""
    agencies = [
        f"• {named(a.name, a.id)}: {user_text(', '.join(a.permitted_tasks), 200) or 'no task'}"
        for a in info.agencies[:30]
    ]
    requests = [
        f"• #{r.id} to {named(r.agency_name, r.agency_business_id)}, "
        f"{ago(r.created_at, now)}: {status_line(r, LIST_REASON)}"
        for r in info.open_requests
    ]
    blocks: list[Block] = [
        _section("\n".join(_info_lines(info, now))),
        *sections(["*Shared with*", *(agencies or ["no agency"])]),
        *sections(["*Linked ad accounts*", *(_account_lines(info) or ["none"])]),
        *sections(["*Open requests*", *(requests or ["none"])]),
    ]
    return Message(text=f"Pixel {named(info.pixel.name, info.pixel.id)}", blocks=fit(blocks))


def decision_blocks(waiting: Waiting, now: datetime, limit: int) -> list[Block]:
    """Up to `limit` requests to decide, each with its Approve/Decline buttons."""
    if not waiting.to_decide:
        return [_section("Nothing waits for you.")]
    blocks: list[Block] = []
    for req in waiting.to_decide[:limit]:
        blocks += [_section(request_summary(req, now)), decision_buttons(req)]
    if len(waiting.to_decide) > limit:
        tail = more(limit, len(waiting.to_decide))
        blocks.append(_context(f"The oldest {limit} are shown,{tail}: decide these first."))
    return blocks


def mine_blocks(waiting: Waiting, now: datetime) -> list[Block]:
    """The user's own requests, one status line each."""
    lines = [
        f"• #{r.id} pixel {named(r.pixel_name, r.pixel_id)} to "
        f"{named(r.agency_name, r.agency_business_id)}, {ago(r.created_at, now)}: "
        f"{status_line(r, LIST_REASON)}"
        for r in waiting.mine
    ]
    return sections(lines) if lines else [_section("You have no requests.")]


def pending_message(waiting: Waiting, now: datetime) -> Message:
    """`/pixel pending`: requests waiting for the user's decision, then the user's own."""
    blocks: list[Block] = [
        _section("*Waiting for your decision*"),
        *decision_blocks(waiting, now, DECISIONS_SHOWN),
        DividerBlock(),
        _section("*Your requests*"),
        *mine_blocks(waiting, now),
    ]
    count = len(waiting.to_decide)
    text = f"{count} request{'' if count == 1 else 's'} waiting for your decision"
    return Message(text=text, blocks=fit(blocks))


def _event_line(event: HistoryEvent) -> str:
    parts = [
        slack_time(event.occurred_at),
        person(event.actor),
        f"{user_text(event.action, 40)} {user_text(event.outcome, 40)}",
    ]
    if event.pixel_id:
        parts.append(f"pixel `{user_text(event.pixel_id, 40)}`")
    if event.share_request_id is not None:
        parts.append(f"request #{event.share_request_id}")
    if event.graph_code is not None:
        parts.append(f"Meta error #{event.graph_code}")
    if event.fbtrace_id:
        parts.append(f"fbtrace_id `{user_text(event.fbtrace_id, 100)}`")
    line = " · ".join(parts)
    detail = " ".join((event.detail or "").split())
    return line + (f"\n> {user_text(detail, DETAIL_LIMIT)}" if detail else "")


def history_message(page: HistoryPage) -> Message:
    """A page of audit events, newest first, with an "Older" button when there are more."""
    where = f" of pixel `{escape(page.pixel_id)}`" if page.pixel_id else ""
    lines = [f"*History{where}*", *(_event_line(e) for e in page.events)]
    if not page.events:
        lines.append("No history yet.")
    blocks = sections(lines)
    if page.next_page is not None:
        value = f"{page.pixel_id or ''}:{page.next_page}"
        older = ButtonElement(text="Older", action_id=Action.HISTORY_MORE, value=value)
        blocks.append(ActionsBlock(elements=[older]))
    return Message(text=f"History{where}: {len(page.events)} events", blocks=fit(blocks))
