"""The `/pixel` slash command: parse, then answer in the acknowledgement itself."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import parsing
from bot.slack.blocks import help_message, in_sandbox, not_available_message, usage_message
from bot.slack.ids import COMMAND
from bot.slack.services import Services

_NAMES = {
    cls: name
    for name, cls in {
        "help": parsing.Help,
        "share": parsing.Share,
        "unshare": parsing.Unshare,
        "link": parsing.Link,
        "unlink": parsing.Unlink,
        "accounts": parsing.Accounts,
        "info": parsing.Info,
        "pending": parsing.Pending,
        "history": parsing.History,
    }.items()
}


def register(app: AsyncApp, services: Services) -> None:
    """Register `/pixel`."""

    @app.command(COMMAND)
    async def pixel(ack: AsyncAck, command: dict[str, Any]) -> None:
        try:
            parsed = parsing.parse(str(command.get("text") or ""))
        except parsing.UsageError as exc:
            message = usage_message(str(exc), exc.subcommand)
        else:
            if isinstance(parsed, parsing.Help):
                message = help_message()
            else:
                message = not_available_message(_NAMES[type(parsed)])
        reply = in_sandbox(message, services.sandbox)
        await ack(response_type="ephemeral", **reply.as_kwargs())
