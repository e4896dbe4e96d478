"""Buttons: Approve, Decline, the unshare confirmation, older history. Ack first, always;
a click whose work outlives the ack is written down as a job before it."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import InvalidInput
from bot.flows import ids, looking, unsharing
from bot.flows.jobs import ClaimedJob
from bot.flows.meta.types import Decision
from bot.slack.blocks import in_sandbox
from bot.slack.delivery import decide_and_announce
from bot.slack.errors import Respond
from bot.slack.forms import request_id
from bot.slack.ids import Action
from bot.slack.look_blocks import history_message
from bot.slack.modals import open_decline_modal
from bot.slack.request_blocks import unshare_done_message
from bot.slack.services import Services
from bot.slack.work import JobReply, NotRecorded
from bot.slack.work_blocks import unrecorded_message

JOB = "action"


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    value = action.get("value") if isinstance(action, dict) else None
    return value if isinstance(value, str) else ""


def _pair(value: str) -> tuple[str, str]:
    pixel, _, agency = value.partition(":")
    return ids.meta_id(pixel, "PIXEL_ID"), ids.meta_id(agency, "AGENCY_BUSINESS_ID")


def _page(value: str) -> tuple[str | None, int]:
    match = re.fullmatch(r"([0-9]{1,20})?:([0-9]{1,4})", value)
    if match is None:
        raise InvalidInput("that button does not belong to a pixelbot history")
    return match.group(1), int(match.group(2))


def _user(body: dict[str, Any]) -> str:
    return str(body["user"]["id"])


def _trigger(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return trigger if isinstance(trigger, str) else None


async def _approve(services: Services, job: ClaimedJob, _: JobReply) -> None:
    target = request_id(str(job.payload.get("value", "")))
    await decide_and_announce(services, job.actor, target, Decision.APPROVE)


async def _unshare(services: Services, job: ClaimedJob, reply: JobReply) -> None:
    pixel, agency = _pair(str(job.payload.get("value", "")))
    outcome = await unsharing.unshare(services.flows, job.actor, pixel, agency)
    await services.work.sync.deliver([r.id for r in outcome.requests])
    message = in_sandbox(unshare_done_message(outcome, outcome.pixel_name), services.sandbox)
    await reply(replace_original=True, **message.as_kwargs())


async def _history(services: Services, job: ClaimedJob, reply: JobReply) -> None:
    pixel, page = _page(str(job.payload.get("value", "")))
    history = await looking.history(services.flows, job.actor, pixel, page)
    message = in_sandbox(history_message(history), services.sandbox)
    await reply(replace_original=True, **message.as_kwargs())


_JOBS = {
    Action.APPROVE: _approve,
    Action.UNSHARE_CONFIRM: _unshare,
    Action.HISTORY_MORE: _history,
}


def register(app: AsyncApp, services: Services) -> None:
    """Register the button listeners."""
    for action, work in _JOBS.items():

        async def run(
            job: ClaimedJob, reply: JobReply, _: AsyncWebClient, work: Any = work
        ) -> None:
            await work(services, job, reply)

        services.work.on(JOB, action.value, run)

    async def durable(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        actions = body.get("actions")
        action = actions[0].get("action_id") if isinstance(actions, list) and actions else None
        try:
            job = await services.work.accept(
                JOB,
                str(action),
                _user(body),
                {"value": _value(body)},
                trigger=_trigger(body),
                reply_url=body.get("response_url")
                if isinstance(body.get("response_url"), str)
                else None,
            )
        except NotRecorded:
            await ack()
            services.background.spawn(_say(respond, unrecorded_message().as_kwargs()), None)
            return
        await ack()
        if job is not None:  # else Slack sent this click twice: the first one does the work
            services.work.start(job)

    for action in _JOBS:
        app.action(action.value)(durable)

    @app.action(Action.DECLINE.value)
    async def decline(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = _user(body)

        async def work() -> None:
            # The reason's modal must open within 3 s of the click (trigger_id): this part
            # is not a job; the submitted decline is.
            target = request_id(_value(body))
            await open_decline_modal(services, client, user, target, str(body["trigger_id"]))

        services.background.spawn(work(), respond)

    @app.action(Action.UNSHARE_ABORT.value)
    async def unshare_aborted(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        kept = "Kept as it is: nothing was changed."
        services.background.spawn(respond(replace_original=True, text=kept), None)


async def _say(respond: Respond, kwargs: dict[str, Any]) -> None:
    await respond(response_type="ephemeral", **kwargs)
