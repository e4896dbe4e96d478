"""The share and decline modals: opened at once, filled after, submissions checked per field."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import deciding, looking
from bot.flows.jobs import ClaimedJob
from bot.flows.meta.types import Decision
from bot.slack import forms
from bot.slack.delivery import decide_and_announce, share_and_post
from bot.slack.ids import Callback
from bot.slack.parsing import UsageError
from bot.slack.replies import DirectMessage
from bot.slack.services import Services
from bot.slack.view_blocks import decline_modal, share_modal
from bot.slack.work import JobReply, NotRecorded
from bot.slack.work_blocks import unrecorded_message

log = logging.getLogger(__name__)


async def open_share_modal(
    services: Services, client: AsyncWebClient, user: str, trigger_id: str
) -> None:
    """Open the form now (trigger_id lasts 3 s), then fill the pixel picker from Meta."""
    try:
        response = await client.views_open(trigger_id=trigger_id, view=share_modal(None))
    except SlackApiError as exc:  # e.g. expired_trigger_id: say so, not "went wrong"
        error = exc.response.get("error") or "no answer"
        raise UsageError(
            f"Slack did not open the share form ({error}). Type `/pixel share` again, "
            "or give the pixel and the agency in the command.",
            "share",
        ) from exc
    view = response["view"]
    pixels = await looking.pickable_pixels(services.flows, user)
    try:
        await client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=share_modal(pixels)
        )
    except SlackApiError as exc:  # submitted or closed meanwhile: nothing left to fill
        log.info("share form not filled: %s", exc.response.get("error"))


async def open_decline_modal(
    services: Services, client: AsyncWebClient, user: str, request_id: int, trigger_id: str
) -> None:
    """Check the clicker may decide, then ask for an optional reason."""
    request = await deciding.check_decider(services.flows, user, request_id)
    await client.views_open(trigger_id=trigger_id, view=decline_modal(request))


JOB = "view"


def _trigger(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return trigger if isinstance(trigger, str) else None


async def _share(services: Services, job: ClaimedJob, reply: JobReply, _: AsyncWebClient) -> None:
    form = job.payload
    message = await share_and_post(
        services,
        job.actor,
        str(form["pixel_id"]),
        str(form["agency_id"]),
        [str(t) for t in form["tasks"]],
        form.get("note"),
    )
    await reply(**message.as_kwargs())


async def _decline(
    services: Services, job: ClaimedJob, _reply: JobReply, _: AsyncWebClient
) -> None:
    form = job.payload
    target, reason = int(form["request_id"]), form.get("reason")
    await decide_and_announce(services, job.actor, target, Decision.DECLINE, reason)


def register(app: AsyncApp, services: Services) -> None:
    """Register the modal submissions: each is written down as a job before its ack."""
    services.work.on(JOB, Callback.SHARE.value, lambda *a: _share(services, *a))
    services.work.on(JOB, Callback.DECLINE.value, lambda *a: _decline(services, *a))

    async def accept(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, name: str, form: dict[str, Any]
    ) -> None:
        user = str(body["user"]["id"])
        try:
            job = await services.work.accept(JOB, name, user, form, trigger=_trigger(body))
        except NotRecorded:  # the form closes; the user reads why nothing happened
            await ack()
            message = unrecorded_message().as_kwargs()
            services.background.spawn(DirectMessage(client, user)(**message), None)
            return
        await ack()
        if job is not None:
            services.work.start(job)

    @app.view(Callback.SHARE.value)
    async def share_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            form = forms.share_form(view)
        except forms.FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        fields = {
            "pixel_id": form.pixel_id,
            "agency_id": form.agency_id,
            "tasks": list(form.tasks),
            "note": form.note,
        }
        await accept(ack, body, client, Callback.SHARE.value, fields)

    @app.view(Callback.DECLINE.value)
    async def decline_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            request_id, reason = forms.decline_form(view)
        except forms.FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        fields = {"request_id": request_id, "reason": reason}
        await accept(ack, body, client, Callback.DECLINE.value, fields)
