"""The `/pixel` slash command: parse, record the work, ack; Meta and Slack after the ack."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import accounts, looking, unsharing
from bot.flows.jobs import ClaimedJob
from bot.slack import parsing
from bot.slack.blocks import Message, help_message, in_sandbox, usage_message
from bot.slack.delivery import share_and_post
from bot.slack.errors import Respond
from bot.slack.ids import COMMAND
from bot.slack.look_blocks import (
    accounts_message,
    history_message,
    info_message,
    link_progress_message,
    link_report_message,
    pending_message,
)
from bot.slack.modals import open_share_modal
from bot.slack.request_blocks import unshare_confirm_message
from bot.slack.services import Services
from bot.slack.times import now
from bot.slack.work import JobReply, NotRecorded
from bot.slack.work_blocks import unrecorded_message

# At most this many progress edits per bulk link: a response_url takes five posts in all.
PROGRESS_UPDATES = 3


class Reply:
    """Ephemeral replies to the user who typed the command, sandbox note included."""

    def __init__(self, respond: Respond, sandbox: bool) -> None:
        self._respond = respond
        self._sandbox = sandbox

    async def __call__(self, message: Message, *, replace: bool = False) -> None:
        kwargs = in_sandbox(message, self._sandbox).as_kwargs()
        await self._respond(response_type="ephemeral", replace_original=replace, **kwargs)


Handler = Callable[[Services, str, Any, Reply, AsyncWebClient], Coroutine[Any, Any, None]]


async def _share(
    services: Services, user: str, cmd: parsing.Share, reply: Reply, client: AsyncWebClient
) -> None:
    assert cmd.pixel_id is not None
    assert cmd.agency_id is not None
    await reply(await share_and_post(services, user, cmd.pixel_id, cmd.agency_id, cmd.tasks))


async def _unshare(
    services: Services, user: str, cmd: parsing.Unshare, reply: Reply, _: AsyncWebClient
) -> None:
    plan = await unsharing.plan_unshare(services.flows, user, cmd.pixel_id, cmd.agency_id)
    await reply(unshare_confirm_message(plan))


async def _link(
    services: Services, user: str, cmd: parsing.Link, reply: Reply, _: AsyncWebClient
) -> None:
    total = len(cmd.account_ids)
    chunks = -(-total // 50)
    every = max(1, -(-chunks // PROGRESS_UPDATES))
    seen = 0

    async def progress(done: int, of: int) -> None:
        nonlocal seen
        seen += 1
        if done < of and seen % every == 0:
            await reply(link_progress_message(cmd.pixel_id, cmd.business_id, done, of))

    report = await accounts.link(
        services.flows, user, cmd.pixel_id, cmd.business_id, cmd.account_ids, progress
    )
    await reply(link_report_message(report))


async def _unlink(
    services: Services, user: str, cmd: parsing.Unlink, reply: Reply, _: AsyncWebClient
) -> None:
    report = await accounts.unlink(
        services.flows, user, cmd.pixel_id, cmd.business_id, cmd.account_id
    )
    await reply(link_report_message(report))


async def _accounts(
    services: Services, user: str, cmd: parsing.Accounts, reply: Reply, _: AsyncWebClient
) -> None:
    report, linked = await accounts.linked_accounts(
        services.flows, user, cmd.pixel_id, cmd.business_id
    )
    await reply(accounts_message(report, linked))


async def _info(
    services: Services, user: str, cmd: parsing.Info, reply: Reply, _: AsyncWebClient
) -> None:
    await reply(info_message(await looking.info(services.flows, user, cmd.pixel_id), now()))


async def _pending(
    services: Services, user: str, _cmd: parsing.Pending, reply: Reply, _: AsyncWebClient
) -> None:
    await reply(pending_message(await looking.waiting(services.flows, user), now()))


async def _history(
    services: Services, user: str, cmd: parsing.History, reply: Reply, _: AsyncWebClient
) -> None:
    await reply(history_message(await looking.history(services.flows, user, cmd.pixel_id)))


HANDLERS: dict[type, Handler] = {
    parsing.Share: _share,
    parsing.Unshare: _unshare,
    parsing.Link: _link,
    parsing.Unlink: _unlink,
    parsing.Accounts: _accounts,
    parsing.Info: _info,
    parsing.Pending: _pending,
    parsing.History: _history,
}

WORKING = ":hourglass_flowing_sand: Working on it…"
JOB = "command"


def _job_name(parsed: object) -> str:
    return type(parsed).__name__.lower()


def register(app: AsyncApp, services: Services) -> None:
    """Register `/pixel`: anything that outlives the ack is a job, written before the ack."""

    async def run(job: ClaimedJob, reply: JobReply, client: AsyncWebClient) -> None:
        parsed = parsing.parse(str(job.payload.get("text") or ""))
        work = HANDLERS[type(parsed)]
        await work(services, job.actor, parsed, Reply(reply, services.sandbox), client)

    for kind in HANDLERS:
        services.work.on(JOB, kind.__name__.lower(), run)

    @app.command(COMMAND)
    async def pixel(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        text = str(command.get("text") or "")
        try:
            parsed = parsing.parse(text)
        except parsing.UsageError as exc:
            message = usage_message(str(exc), exc.subcommand)
            await ack(
                response_type="ephemeral", **in_sandbox(message, services.sandbox).as_kwargs()
            )
            return
        if isinstance(parsed, parsing.Help):
            message = in_sandbox(help_message(), services.sandbox)
            await ack(response_type="ephemeral", **message.as_kwargs())
            return
        user = str(command["user_id"])
        trigger = command.get("trigger_id")
        if isinstance(parsed, parsing.Share) and parsed.pixel_id is None:
            await ack()
            opening = open_share_modal(services, client, user, str(trigger))
            services.background.spawn(opening, respond)
            return
        url = command.get("response_url")
        try:
            job = await services.work.accept(
                JOB,
                _job_name(parsed),
                user,
                {"text": text},
                trigger=trigger if isinstance(trigger, str) else None,
                reply_url=url if isinstance(url, str) else None,
            )
        except NotRecorded:
            await ack(response_type="ephemeral", **unrecorded_message().as_kwargs())
            return
        if job is None:  # Slack sent this command twice: the first one does the work
            await ack()
            return
        await ack(response_type="ephemeral", text=WORKING)
        services.work.start(job)
