"""Buttons: Approve, Decline, the unshare confirmation, older history. Ack first, always."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import InvalidInput
from bot.flows import ids, looking, unsharing
from bot.flows.meta.types import Decision
from bot.flows.views import AlreadySettled
from bot.slack.blocks import in_sandbox
from bot.slack.delivery import decide_and_announce
from bot.slack.forms import request_id
from bot.slack.ids import Action
from bot.slack.look_blocks import history_message
from bot.slack.modals import open_decline_modal
from bot.slack.notify import announce, refresh
from bot.slack.request_blocks import unshare_done_message
from bot.slack.services import Services


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


async def _approve(services: Services, client: AsyncWebClient, user: str, value: str) -> None:
    try:
        await decide_and_announce(services, client, user, request_id(value), Decision.APPROVE)
    except AlreadySettled as exc:
        # Decided in Meta meanwhile: the message still shows buttons, so redraw it (once;
        # later clicks find the row settled here and change nothing).
        if exc.found_at_meta:
            await refresh(client, exc.request)
        raise


async def _unshare(
    services: Services, client: AsyncWebClient, user: str, value: str, respond: AsyncRespond
) -> None:
    pixel, agency = _pair(value)
    outcome = await unsharing.unshare(services.flows, user, pixel, agency)
    await announce(client, outcome.requests, user)
    message = in_sandbox(unshare_done_message(outcome, outcome.pixel_name), services.sandbox)
    await respond(replace_original=True, **message.as_kwargs())


async def _history(services: Services, user: str, value: str, respond: AsyncRespond) -> None:
    pixel, page = _page(value)
    history = await looking.history(services.flows, user, pixel, page)
    message = in_sandbox(history_message(history), services.sandbox)
    await respond(replace_original=True, **message.as_kwargs())


def register(app: AsyncApp, services: Services) -> None:
    """Register the button listeners."""

    @app.action(Action.APPROVE.value)
    async def approve(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = str(body["user"]["id"])
        services.background.spawn(_approve(services, client, user, _value(body)), respond)

    @app.action(Action.DECLINE.value)
    async def decline(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = str(body["user"]["id"])

        async def work() -> None:
            target = request_id(_value(body))
            await open_decline_modal(services, client, user, target, str(body["trigger_id"]))

        services.background.spawn(work(), respond)

    @app.action(Action.UNSHARE_CONFIRM.value)
    async def unshare_confirmed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = str(body["user"]["id"])
        services.background.spawn(_unshare(services, client, user, _value(body), respond), respond)

    @app.action(Action.UNSHARE_ABORT.value)
    async def unshare_aborted(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        kept = "Kept as it is: nothing was changed."
        services.background.spawn(respond(replace_original=True, text=kept), None)

    @app.action(Action.HISTORY_MORE.value)
    async def older(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = str(body["user"]["id"])
        services.background.spawn(_history(services, user, _value(body), respond), respond)
