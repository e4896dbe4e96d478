"""Modals and the App Home tab: the share form, the decline form, the home view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    InputInteractiveElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.flows.looking import Waiting
from bot.flows.meta.types import PixelSummary
from bot.flows.tasks import TASK_HELP, Task
from bot.flows.views import RequestView
from bot.slack.block_parts import VIEW_BLOCKS, fit, named
from bot.slack.blocks import _context, _section, clip, sandbox_note
from bot.slack.ids import Callback, Field
from bot.slack.look_blocks import decision_blocks, mine_blocks
from bot.slack.parsing import SUMMARY, USAGE

TEXT_MAX = 1000
OPTION_LIMIT = 75
SELECT_OPTIONS = 100
HOME_DECISIONS = 10


def _pixel_option(pixel: PixelSummary) -> Option:
    # Clip the name, never the id: the id is what tells two similar names apart.
    name = clip(pixel.name or "(no name)", max(1, OPTION_LIMIT - len(pixel.id) - 3))
    return Option(text=clip(f"{name} ({pixel.id})", OPTION_LIMIT), value=pixel.id)


def _pixel_input(pixels: Sequence[PixelSummary] | None) -> InputBlock:
    element: InputInteractiveElement
    if pixels is None:
        element = PlainTextInputElement(action_id=Field.VALUE, placeholder="Loading your pixels…")
        hint = "Loading the pixels your businesses own; you may also type a pixel id."
    elif pixels:
        options = [_pixel_option(p) for p in pixels[:SELECT_OPTIONS]]
        element = StaticSelectElement(
            action_id=Field.VALUE, placeholder="Choose a pixel", options=options
        )
        hint = "Pixels owned by your businesses."
        if len(pixels) > SELECT_OPTIONS:
            hint = (
                f"The first {SELECT_OPTIONS} of {len(pixels)} pixels; for another, use "
                "/pixel share PIXEL_ID AGENCY_BUSINESS_ID."
            )
    else:
        element = PlainTextInputElement(action_id=Field.VALUE, placeholder="Pixel id (digits)")
        hint = "pixelbot found no pixel owned by your businesses; type the pixel id."
    return InputBlock(block_id=Field.PIXEL, label="Pixel", element=element, hint=hint)


def _tasks_input() -> InputBlock:
    options = {
        task: Option(value=task.value, text=task.value, description=clip(meaning, OPTION_LIMIT))
        for task, meaning in TASK_HELP.items()
    }
    element = CheckboxesElement(
        action_id=Field.VALUE,
        options=list(options.values()),
        initial_options=[options[Task.ANALYZE]],
    )
    return InputBlock(block_id=Field.TASKS, label="Tasks the agency may do", element=element)


def _text_input(field: Field, label: str, placeholder: str) -> InputBlock:
    element = PlainTextInputElement(
        action_id=Field.VALUE, multiline=True, max_length=TEXT_MAX, placeholder=placeholder
    )
    return InputBlock(block_id=field, label=label, element=element, optional=True)


def share_modal(pixels: Sequence[PixelSummary] | None) -> View:
    """The share form; `pixels` None while they load, empty when none was found."""
    agency = InputBlock(
        block_id=Field.AGENCY,
        label="Agency business id",
        element=PlainTextInputElement(action_id=Field.VALUE, placeholder="e.g. 1234567890"),
        hint="The agency's Meta business id (digits), from its Business Settings > Business info",
    )
    note = _text_input(Field.NOTE, "Note for the agency's admins", "Why they should approve it")
    return View(
        type="modal",
        callback_id=Callback.SHARE,
        title="Share a pixel",
        submit="Share",
        close="Cancel",
        blocks=[_pixel_input(pixels), agency, _tasks_input(), note],
    )


def decline_modal(req: RequestView) -> View:
    """The decline form for one request: who asked for what, and an optional reason."""
    about = (
        f"Decline request #{req.id}: {named(req.owner_name, req.owner_business_id)} asks to "
        f"share pixel {named(req.pixel_name, req.pixel_id)} with "
        f"{named(req.agency_name, req.agency_business_id)}."
    )
    reason = _text_input(Field.REASON, "Reason (the requester sees it)", "Optional")
    return View(
        type="modal",
        callback_id=Callback.DECLINE,
        private_metadata=str(req.id),
        title="Decline request",
        submit="Decline",
        close="Cancel",
        blocks=[_context(about), reason],
    )


def home_view(waiting: Waiting, now: datetime, sandbox: bool) -> View:
    """The App Home tab: requests to decide, the user's own, and how to use pixelbot."""
    how_to = "\n".join(f"• `{USAGE[name]}`: {SUMMARY[name]}" for name in USAGE)
    blocks: list[Block] = [
        HeaderBlock(text="pixelbot"),
        _section(
            "Share your Meta pixels with agencies, and approve the requests agencies receive, "
            "without leaving Slack."
        ),
        DividerBlock(),
        _section("*Waiting for your decision*"),
        *decision_blocks(waiting, now, HOME_DECISIONS),
        DividerBlock(),
        _section("*Your recent requests*"),
        *mine_blocks(waiting, now),
        DividerBlock(),
        _section("*How to*\n" + how_to),
        *sandbox_note(sandbox),
    ]
    return View(type="home", blocks=fit(blocks, VIEW_BLOCKS))
