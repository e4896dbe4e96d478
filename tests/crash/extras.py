"""The two cases beside the matrix: a replica killed while another runs on, and Slack
refusing posts for a while (nothing killed)."""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.slack.ids import Action
from tests.crash.checks import DUPLICATED
from tests.crash.database import Databases
from tests.crash.flows import FLOWS, settled
from tests.crash.harness import World, open_world, until
from tests.crash.kills import SIGNAL_SECONDS, held_at_meta
from tests.crash.matrix import (
    GRACE_SECONDS,
    SETTLE_SECONDS,
    Case,
    Outcome,
    hold_recovery,
    observe,
    releasing,
)
from tests.e2e.conftest import NOVA, NOVA_ADMIN, NOVA_CHANNEL, OWNER, WEBSITE
from tests.signing import action_body, command_body

REPLICA_FLOWS = ("share", "decide", "link")


async def run_replicas(backend: str, databases: Databases, folder: Path) -> dict[str, Outcome]:
    """Replicas A and B on one database; A takes the clicks and is killed while Meta holds
    their writes; B, running all along, resumes the jobs and recovers the claims (jobs first,
    as the default leases have it)."""
    started = time.monotonic()
    outcomes = {f: Outcome(Case(f, "replica-killed", "job-first", backend)) for f in REPLICA_FLOWS}
    world: World | None = None
    try:
        url = await databases.new(backend)
        async with open_world(url, folder / f"replicas-{backend}") as world:
            a, b, _ = await asyncio.gather(
                world.start_bot(first=True), world.start_bot(first=False), world.sandbox_up()
            )
            for setup in (FLOWS[f].setup for f in REPLICA_FLOWS):
                if setup is not None:
                    await setup(world, a)
            await until(lambda: settled(world), 60, "the setup to settle", every=0.25)
            triggers = [await FLOWS[f].trigger(world) for f in REPLICA_FLOWS]
            seen = len(world.slack.delivered)
            known_jobs = max((j.id for j in await world.jobs()), default=0)
            rules = [t.held_at_meta() for t in triggers]
            await world.control("POST", "/_sandbox/faults", {"rules": rules})
            await asyncio.gather(*(world.post(a, t.body) for t in triggers))
            applied = functools.partial(held_at_meta, world, triggers)
            await until(applied, SIGNAL_SECONDS, "every write to reach the sandbox", every=0.1)
            # Before B's recovery finds the claims stale (2 s): B's jobs come first.
            held = hold_recovery(world, triggers)
            await a.kill()
            await world.control("DELETE", "/_sandbox/faults")
            async with releasing(world, held, known_jobs):
                done = "B to finish A's work"
                await until(lambda: settled(world), SETTLE_SECONDS, done, every=0.25)
            await asyncio.sleep(GRACE_SECONDS)
            for t in triggers:
                case = outcomes[t.flow].case
                outcomes[t.flow] = await observe(world, case, t, seen, known_jobs)
            await b.stop()
    except Exception as error:  # kept for the test that reports this case
        for outcome in outcomes.values():
            outcome.error = error
    for outcome in outcomes.values():
        outcome.seconds = time.monotonic() - started
        outcome.logs = world.logs() if world is not None else ""
    return outcomes


@dataclass
class SlackFaults:
    """What Slack took, and how often it had refused first."""

    backend: str
    refused: int = 0  # Web API calls answered with an error
    cards: list[str] = field(default_factory=list)
    card_edits: list[str] = field(default_factory=list)
    thread_replies: list[str] = field(default_factory=list)
    requester_dms: list[str] = field(default_factory=list)
    replies: dict[str, int] = field(default_factory=dict)  # response_url -> posts
    final: str = "?"
    seconds: float = 0.0
    error: BaseException | None = None
    logs: str = ""

    def problems(self) -> list[str]:
        """Each post once, none twice, the end shown."""
        found = []
        if self.refused < 8:
            found.append(f"only {self.refused} calls were refused: the faults did not fire")
        if self.final != "active":
            found.append(f"the request ended {self.final}, not active")
        posts = {"card": self.cards, "thread reply": self.thread_replies}
        posts["requester DM"] = self.requester_dms
        for what, sent in posts.items():
            if len(sent) > 1 and len(set(sent)) == 1:
                found.append(f"{DUPLICATED}: {what}")
            elif len(sent) != 1:
                found.append(f"{len(sent)} posts of the {what}: {sent}")
        if not self.card_edits or "Approved by" not in self.card_edits[-1]:
            found.append(f"the card does not show the approval: {self.card_edits}")
        if not self.requester_dms or "Approved by" not in self.requester_dms[-1]:
            found.append(f"the requester was not told of the approval: {self.requester_dms}")
        if self.replies != {"share": 1}:
            found.append(f"response_url posts: {self.replies}")
        return found


async def run_slack_faults(backend: str, databases: Databases, folder: Path) -> SlackFaults:
    """Slack answers posts with `ratelimited`, 429 (Retry-After), 500 and 503 before taking
    them: a share's card and reply, then its approval's card edit, thread reply and the
    requester's DM must each arrive once."""
    started = time.monotonic()
    result = SlackFaults(backend)
    world: World | None = None
    try:
        url = await databases.new(backend)
        async with open_world(url, folder / f"slack-faults-{backend}") as world:
            slack = world.slack
            bot, _ = await asyncio.gather(world.start_bot(first=False), world.sandbox_up())
            slack.rate_limit_in_body("chat.postMessage", 1)
            slack.outage("chat.postMessage", 429, 500)
            share = command_body(f"share {WEBSITE} {NOVA}", OWNER, slack.response_url("share"))
            await world.post(bot, share)
            await until(
                lambda: _carded(world), SETTLE_SECONDS, "the card after the faults", every=0.25
            )
            [row] = await world.rows()
            slack.outage("chat.update", 429, 500)
            slack.rate_limit_in_body("chat.postMessage", 1)
            slack.outage("chat.postMessage", 503, 429)
            reply_to = slack.response_url("decide")
            click = action_body(
                Action.APPROVE, str(row.id), NOVA_ADMIN, reply_to, channel=NOVA_CHANNEL,
                message_ts=str(row.slack_ts),
            )  # fmt: skip
            await world.post(bot, click)
            await until(
                lambda: _approved(world),
                SETTLE_SECONDS,
                "the approval after the faults",
                every=0.25,
            )
            await asyncio.sleep(GRACE_SECONDS)
            taken = [d for d in slack.delivered if d.kind == "api"]
            result.refused = len([c for c in slack.calls if c.method.startswith("chat.")]) - len(
                [d for d in taken if d.name.startswith("chat.")]
            )
            result.cards = [d.text for d in slack.posts(NOVA_CHANNEL, thread=False)]
            result.card_edits = [d.text for d in slack.updates(NOVA_CHANNEL)]
            result.thread_replies = [d.text for d in slack.posts(NOVA_CHANNEL, thread=True)]
            result.requester_dms = [d.text for d in slack.posts(OWNER)]
            result.replies = {n: len(slack.replies(n)) for n in ("share", "decide")}
            result.replies = {n: k for n, k in result.replies.items() if k}
            result.final = (await world.rows())[0].status
            await bot.stop()
    except Exception as error:  # kept for the test that reports this case
        result.error = error
    result.seconds = time.monotonic() - started
    result.logs = world.logs() if world is not None else ""
    return result


async def _carded(world: World) -> bool:
    return bool(world.slack.posts(NOVA_CHANNEL, thread=False)) and await settled(world)


async def _approved(world: World) -> bool:
    rows = await world.rows()
    return rows[0].status == "active" and await settled(world)
