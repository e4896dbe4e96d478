"""The one error hook: expected errors become their own message, anything else an error id."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import PixelbotError
from bot.flows.views import AlreadySettled, MetaFailed
from bot.slack.blocks import Message, unexpected_error_message, usage_message
from bot.slack.replies import DirectMessage

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


def new_error_id() -> str:
    """A short id the user can quote and the operator can grep for."""
    return "E" + secrets.token_hex(4).upper()


def message_for(error: BaseException) -> Message:
    """What the user reads for `error`; unexpected ones are logged with their traceback."""
    # Imported here: the builders import this package's blocks, which must not import back.
    from bot.slack.problem_blocks import meta_failed_message, refusal_for
    from bot.slack.request_blocks import already_settled_message

    if isinstance(error, MetaFailed):
        log.info("Meta refused: %s", error.error)
        return meta_failed_message(error)
    if isinstance(error, AlreadySettled):
        return already_settled_message(error.request)
    if isinstance(error, PixelbotError):
        refusal = refusal_for(error)
        if refusal is not None:
            return refusal
        return usage_message(str(error), getattr(error, "subcommand", None))
    error_id = new_error_id()
    log.error("unexpected error %s", error_id, exc_info=error, extra={"error_id": error_id})
    return unexpected_error_message(error_id)


async def report(error: BaseException, respond: Respond | None) -> None:
    """Tell the user ephemerally, best effort: a failed Slack call is logged, never raised."""
    message = message_for(error)
    if respond is None:
        return
    try:
        await respond(response_type="ephemeral", **message.as_kwargs())
    except Exception:  # notification is best effort; the error itself is already logged
        log.warning("could not tell the user about an error", exc_info=True)


def register(app: AsyncApp) -> None:
    """Install the global error hook."""

    @app.error
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: Respond | None = None,
    ) -> None:
        # A modal submission has no response_url, whatever `respond` Bolt passes.
        no_url = respond is None or body.get("type") == "view_submission"
        await report(error, _direct(body, client) if no_url else respond)


def _direct(body: dict[str, Any], client: AsyncWebClient) -> Respond | None:
    """For surfaces without a response_url (modals): tell the user by DM."""
    user = body.get("user") if isinstance(body, dict) else None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str):
        return None
    return DirectMessage(client, user_id)
