"""The four flows the kill matrix crashes, each as Slack would start it, and what marks it:
the write at Meta, the statement that records Meta's answer, Slack's posts in order.

The flows touch disjoint pixels, agencies, users and channels, so that one crash can hit all
four at the same point and each is judged on its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.flows.states import IN_FLIGHT
from bot.slack.ids import Action
from tests.crash.cast import (
    BRIGHT_ACCOUNT,
    ORION,
    ORION_ADMIN,
    ORION_CHANNEL,
    OWNER3,
    OWNER4,
    OWNER5,
)
from tests.crash.harness import Bot, World, until
from tests.crash.slack import Wanted
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    CHECKOUT,
    NOVA,
    NOVA_CHANNEL,
    OUTLET,
    OWNER,
    OWNER2,
    WEBSITE,
)
from tests.signing import action_body, command_body

_RECORDS_STATUS = r"UPDATE share_requests SET\b.*\bstatus="


@dataclass(frozen=True)
class Trigger:
    """The interaction under test and how to recognise each of its steps."""

    flow: str
    body: str
    write: tuple[str, str]  # the Graph write: method, regex of the whole path after the version
    business: str  # whose token makes the write
    records: str  # regex of the statement that records Meta's answer
    tables: tuple[str, ...]  # what that statement writes
    first_post: Wanted  # Slack's first post after the commit
    second_post: Wanted | None  # and the one after it, when there is one
    batched: bool = False  # the write is an operation of a batch call (`POST /`)
    recovery_read: str | None = None  # the GET crash recovery starts a claim of it with

    @property
    def call(self) -> tuple[str, str]:
        """The HTTP call that carries the write: the write itself, or its batch."""
        return ("POST", "/") if self.batched else self.write

    @property
    def request_line(self) -> str:
        """The carrying call's HTTP request line, as the proxy sees it."""
        method, path = self.call
        return rf"^{method} /v[0-9.]+{path}(\?\S*)? HTTP"

    @property
    def request_body(self) -> str | None:
        """What tells the carrying call from other batches: the write's edge in its body."""
        return self.write[1].rsplit("/", 1)[-1] if self.batched else None

    def held_at_meta(self) -> dict[str, Any]:
        """A sandbox rule: apply the carrying call, then hold its answer for a minute."""
        method, path = self.call
        rule = {"kind": "timeout", "method": method, "path": f"^{path}$", "times": 1}
        return rule | {"business_id": self.business, "hold_ms": 60_000}


@dataclass(frozen=True)
class Flow:
    """A flow: who starts it, on what, and how (after any setup it needs)."""

    name: str
    actor: str
    requester: str
    pixel: str
    agency: str | None  # None: no share request (link)
    channel: str | None  # where its approval card goes, if it has one
    requester_knew: str | None  # what the requester was told last before the click
    setup: Callable[[World, Bot], Awaitable[None]] | None
    trigger: Callable[[World], Awaitable[Trigger]]


def _post(channel: str, *, thread: bool) -> Wanted:
    def wanted(kind: str, name: str, params: dict[str, Any]) -> bool:
        threaded = bool(params.get("thread_ts"))
        here = params.get("channel") == channel and threaded == thread
        return kind == "api" and name == "chat.postMessage" and here

    return wanted


def _update(channel: str) -> Wanted:
    def wanted(kind: str, name: str, params: dict[str, Any]) -> bool:
        return kind == "api" and name == "chat.update" and params.get("channel") == channel

    return wanted


def _reply(url_name: str) -> Wanted:
    def wanted(kind: str, name: str, params: dict[str, Any]) -> bool:
        return kind == "webhook" and name == url_name

    return wanted


async def settled(world: World) -> bool:
    """Nothing left to do: every job ended, no claim in flight, Slack shows every row."""
    jobs, rows = await world.jobs(), await world.rows()
    return all(j.status in ("done", "given_up") for j in jobs) and all(
        r.status not in IN_FLIGHT and r.slack_due_at is None for r in rows
    )


async def _shared(world: World, bot: Bot, user: str, pixel: str, agency: str) -> None:
    url = world.slack.response_url(f"setup-{user}")
    await world.post(bot, command_body(f"share {pixel} {agency}", user, url))
    await until(lambda: _replied(world, f"setup-{user}"), 60, f"the setup share of {pixel}")


async def _replied(world: World, url_name: str) -> bool:
    return bool(world.slack.replies(url_name))


async def _share(world: World) -> Trigger:
    return Trigger(
        "share",
        command_body(f"share {WEBSITE} {NOVA}", OWNER, world.slack.response_url("share")),
        ("POST", rf"/{WEBSITE}/agencies"),
        ACME,
        _RECORDS_STATUS,
        ("share_requests",),
        _post(NOVA_CHANNEL, thread=False),  # the approval card
        _reply("share"),
        recovery_read=f"/{WEBSITE}/agencies",
    )


async def _decide_setup(world: World, bot: Bot) -> None:
    await _shared(world, bot, OWNER2, CHECKOUT, ORION)


async def _decide(world: World) -> Trigger:
    [row] = [r for r in await world.rows() if r.agency_business_id == ORION]
    assert row.status == "pending" and row.slack_ts and row.pending_request_id
    url = world.slack.response_url("decide")
    click = action_body(
        Action.APPROVE,
        str(row.id),
        ORION_ADMIN,
        url,
        channel=ORION_CHANNEL,
        message_ts=row.slack_ts,
    )
    return Trigger(
        "decide",
        click,
        ("POST", rf"/{row.pending_request_id}"),
        ORION,
        _RECORDS_STATUS,
        ("share_requests",),
        _update(ORION_CHANNEL),  # the card redrawn
        _post(ORION_CHANNEL, thread=True),  # the thread reply
        recovery_read=f"/{row.pending_request_id}",
    )


async def _unshare_setup(world: World, bot: Bot) -> None:
    await _shared(world, bot, OWNER3, OUTLET, BRIGHT)  # a partner: active at once


async def _unshare(world: World) -> Trigger:
    url = world.slack.response_url("unshare")
    # Another admin of Acme than the one who shared: the requester hears of it by DM.
    click = action_body(Action.UNSHARE_CONFIRM, f"{OUTLET}:{BRIGHT}", OWNER5, url)
    return Trigger(
        "unshare",
        click,
        ("DELETE", rf"/{OUTLET}/agencies"),
        ACME,
        _RECORDS_STATUS,
        ("share_requests",),
        _reply("unshare"),
        None,
        recovery_read=f"/{OUTLET}/agencies",
    )


async def _link(world: World) -> Trigger:
    text = f"link {WEBSITE} {BRIGHT} {BRIGHT_ACCOUNT}"
    return Trigger(
        "link",
        command_body(text, OWNER4, world.slack.response_url("link")),
        ("POST", rf"/{WEBSITE}/shared_accounts"),
        BRIGHT,  # Meta wants the account holder's token
        r"INSERT INTO audit_events",
        ("audit_events",),
        _reply("link"),
        None,
        batched=True,
    )


FLOWS = {
    "share": Flow("share", OWNER, OWNER, WEBSITE, NOVA, NOVA_CHANNEL, None, None, _share),
    "decide": Flow(
        "decide",
        ORION_ADMIN,
        OWNER2,
        CHECKOUT,
        ORION,
        ORION_CHANNEL,
        "pending",
        _decide_setup,
        _decide,
    ),
    "unshare": Flow(
        "unshare", OWNER5, OWNER3, OUTLET, BRIGHT, None, "active", _unshare_setup, _unshare
    ),
    "link": Flow("link", OWNER4, OWNER4, WEBSITE, None, None, None, None, _link),
}
