"""The share and decline modals: opened at once, filled after, submissions checked per field."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import deciding, looking
from bot.flows.meta.types import Decision
from bot.slack import forms
from bot.slack.delivery import decide_and_announce, share_and_post
from bot.slack.ids import Callback
from bot.slack.parsing import UsageError
from bot.slack.replies import DirectMessage
from bot.slack.services import Services
from bot.slack.view_blocks import decline_modal, share_modal

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


async def _share(
    services: Services, client: AsyncWebClient, user: str, form: forms.ShareForm
) -> None:
    message = await share_and_post(
        services, client, user, form.pixel_id, form.agency_id, form.tasks, form.note
    )
    await DirectMessage(client, user)(**message.as_kwargs())


def register(app: AsyncApp, services: Services) -> None:
    """Register the modal submissions."""

    @app.view(Callback.SHARE.value)
    async def share_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            form = forms.share_form(view)
        except forms.FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        user = str(body["user"]["id"])
        services.background.spawn(_share(services, client, user, form), DirectMessage(client, user))

    @app.view(Callback.DECLINE.value)
    async def decline_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            request_id, reason = forms.decline_form(view)
        except forms.FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        user = str(body["user"]["id"])
        work = decide_and_announce(services, client, user, request_id, Decision.DECLINE, reason)
        services.background.spawn(work, DirectMessage(client, user))
