"""Pure Block Kit builders: data in, messages and views out. No I/O, no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.flows.tasks import TASK_HELP
from bot.slack.parsing import SUMMARY, USAGE

SECTION_TEXT_LIMIT = 3000


@dataclass(frozen=True)
class Message:
    """A message: fallback text (notifications, screen readers) plus blocks."""

    text: str
    blocks: list[Block]

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ack/respond/chat.postMessage, blocks validated by slack_sdk."""
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: no mentions, links or broadcasts can be injected."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut text to a Block Kit limit, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(markdown: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(markdown, SECTION_TEXT_LIMIT)))


def _context(markdown: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(markdown, SECTION_TEXT_LIMIT))])


def in_sandbox(message: Message, sandbox: bool) -> Message:
    """`message` with the sandbox note appended when Meta is simulated."""
    return Message(message.text, [*message.blocks, *sandbox_note(sandbox)]) if sandbox else message


def sandbox_note(sandbox: bool) -> list[Block]:
    """A context line saying Meta is simulated, when it is."""
    if not sandbox:
        return []
    return [_context(":test_tube: Sandbox mode: Meta is simulated, no real pixel is touched.")]


def help_message() -> Message:
    """`/pixel help`: every subcommand with its usage, and the tasks."""
    lines = [f"`{USAGE[name]}`\n{SUMMARY[name]}" for name in USAGE]
    tasks = "\n".join(f"• `{task}`: {meaning}" for task, meaning in TASK_HELP.items())
    blocks: list[Block] = [
        _section("*pixelbot* shares Meta pixels with agency businesses, with approvals."),
        _section("\n\n".join(lines)),
        _section(
            "*Tasks* (case-insensitive; spaces or commas; `ANALYZE` when none is given)\n" + tasks
        ),
        _context("An ad account may be written with or without its `act_` prefix."),
    ]
    return Message(text="pixelbot: " + ", ".join(USAGE.values()), blocks=blocks)


def usage_message(problem: str, subcommand: str | None) -> Message:
    """What was wrong with a `/pixel` command, and how to write it."""
    usage = USAGE.get(subcommand or "", "")
    hint = f"\nUsage: `{usage}`" if usage else "\nTry `/pixel help` for the list of subcommands."
    text = f":warning: {escape(problem)}{hint}"
    return Message(text=text, blocks=[_section(text)])


def unexpected_error_message(error_id: str) -> Message:
    """An error we did not foresee: nothing internal shown, only an id to quote."""
    text = (
        ":x: Something went wrong on our side and nothing was changed by this step. "
        f"If it keeps happening, give your operator the error id `{error_id}`."
    )
    return Message(text=text, blocks=[_section(text)])
