"""Block Kit as safe HTML for `pixelbot playground`: messages, modals and the App Home tab.

The page shows what pixelbot posts as Slack would, and turns what a person does back into
Slack's payloads. So every interactive element carries, as data attributes, what a
`block_actions` needs: `data-kind` (the element type), `data-block-id`, `data-action-id`,
and for buttons `data-value`, `data-url` (a link button) and `data-confirm` (the confirm
object as JSON). Form controls are named by their action_id, and each input block is a
`.bk-input` naming its block, action and kind, for `view_submission`'s state.

Pure functions of their arguments; input is plain dicts as slack_sdk's `to_dict()` makes
them. Everything taken from the input is escaped: attribute names, tags and classes are
only ever the constants written here. A block of an unknown type, or a malformed one,
becomes a small `.bk-unknown` note rather than an exception.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from bot.playground.elements import (
    Attr,
    Ctx,
    Renderer,
    element_html,
    image_html,
    mapping,
    mappings,
    markup,
    scalar,
    text_html,
    unsupported,
    words,
)
from bot.playground.mrkdwn import EMOJI, Channels, Users, date_html, link_html, mrkdwn, plain

__all__ = ["Channels", "Users", "mrkdwn", "plain", "render_blocks", "render_view"]

_RICH_STYLES = (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s"))


def render_blocks(
    blocks: Sequence[Mapping[str, Any]],
    users: Users,
    channels: Channels,
    *,
    fallback_text: str = "",
) -> str:
    """The body of one message; its fallback text (as mrkdwn) when it has no blocks."""
    if not blocks:
        return f'<div class="bk-section">{mrkdwn(fallback_text, users, channels)}</div>'
    return _blocks(blocks, Ctx(users, channels, {}))


def render_view(
    view: Mapping[str, Any],
    users: Users,
    channels: Channels,
    *,
    errors: Mapping[str, str] | None = None,
) -> str:
    """A modal (title, blocks; the page draws submit/close from the labels) or a home tab.

    `errors` maps block ids to messages, as a `response_action: errors` answer gives them.
    """
    view = mapping(view)
    ctx = Ctx(users, channels, errors or {})
    body = _blocks(view.get("blocks"), ctx)
    kind = scalar(view.get("type")) or "modal"
    if kind == "home":
        return f'<div class="bk-view" data-view-type="home">{body}</div>'
    attrs: list[Attr] = [
        ("class", "bk-view"),
        ("data-view-type", kind),
        ("data-callback-id", scalar(view.get("callback_id"))),
        ("data-private-metadata", scalar(view.get("private_metadata")) or None),
        ("data-submit-label", words(view.get("submit")) or None),
        ("data-close-label", words(view.get("close")) or "Cancel"),  # Slack's default
    ]
    title = markup("h2", [("class", "bk-title")], text_html(view.get("title"), ctx))
    return markup("div", attrs, title + body)


# --- Blocks -----------------------------------------------------------------------------


def _blocks(blocks: object, ctx: Ctx) -> str:
    items = blocks if isinstance(blocks, list | tuple) else []
    return "".join(_block(block, index, ctx) for index, block in enumerate(items))


def _block(block: object, index: int, ctx: Ctx) -> str:
    data = mapping(block)
    kind = scalar(data.get("type"))
    render = _BLOCKS.get(kind)
    if render is None:
        return unsupported("div", "Unsupported block", kind)
    # Slack gives a block without an id one of its own; the clicks need one to send.
    block_id = scalar(data.get("block_id")) or f"block-{index}"
    try:
        return render(data, block_id, ctx)
    except (TypeError, ValueError, KeyError, AttributeError):
        # One malformed block must not hide the rest of the message.
        return unsupported("div", "Malformed block", kind)


def _header(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    attrs: list[Attr] = [("class", "bk-header"), ("data-block-id", block_id)]
    return markup("h3", attrs, text_html(block.get("text"), ctx))


def _section(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="bk-text">{text_html(block.get("text"), ctx)}</div>')
    fields = "".join(
        f'<div class="bk-field">{text_html(f, ctx)}</div>' for f in mappings(block.get("fields"))
    )
    if fields:
        parts.append(f'<div class="bk-fields">{fields}</div>')
    if block.get("accessory"):
        accessory = element_html(block.get("accessory"), block_id, ctx)
        parts.append(f'<div class="bk-accessory">{accessory}</div>')
    return markup("div", [("class", "bk-section"), ("data-block-id", block_id)], "".join(parts))


def _context(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    items = [
        image_html(el, block_id, ctx, "bk-context-image")
        if el.get("type") == "image"
        else f'<span class="bk-context-item">{text_html(el, ctx)}</span>'
        for el in mappings(block.get("elements"))
    ]
    return markup("div", [("class", "bk-context"), ("data-block-id", block_id)], " ".join(items))


def _divider(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    return '<hr class="bk-divider">'


def _actions(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    elements = "".join(element_html(el, block_id, ctx) for el in mappings(block.get("elements")))
    return markup("div", [("class", "bk-actions"), ("data-block-id", block_id)], elements)


def _image_block(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    title = block.get("title")
    caption = (
        f'<figcaption class="bk-image-title">{text_html(title, ctx)}</figcaption>' if title else ""
    )
    image = image_html(block, block_id, ctx, "bk-image")
    return markup(
        "figure", [("class", "bk-image-block"), ("data-block-id", block_id)], caption + image
    )


def _input(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    element = mapping(block.get("element"))
    optional = block.get("optional") is True
    label = text_html(block.get("label"), ctx)
    if optional:
        label += '<span class="bk-optional"> (optional)</span>'
    error = scalar(ctx.errors.get(block_id))
    hint = block.get("hint")
    attrs: list[Attr] = [
        ("class", "bk-input bk-has-error" if error else "bk-input"),
        ("data-block-id", block_id),
        ("data-action-id", scalar(element.get("action_id"))),
        ("data-kind", scalar(element.get("type"))),
        ("data-optional", "true" if optional else None),
    ]
    return markup(
        "div",
        attrs,
        f'<label class="bk-label">{label}</label>'
        + element_html(element, block_id, ctx)
        + (f'<div class="bk-error">{plain(error)}</div>' if error else "")
        + (f'<small class="bk-hint">{text_html(hint, ctx)}</small>' if hint else ""),
    )


def _rich_text(block: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    inner = "".join(_rich_part(part, ctx) for part in mappings(block.get("elements")))
    return markup("div", [("class", "bk-rich-text"), ("data-block-id", block_id)], inner)


def _rich_part(part: Mapping[str, Any], ctx: Ctx) -> str:
    kind = part.get("type")
    if kind == "rich_text_list":
        tag = "ol" if part.get("style") == "ordered" else "ul"
        items = "".join(
            f"<li>{_rich_inline(item, ctx)}</li>" for item in mappings(part.get("elements"))
        )
        return f'<{tag} class="bk-list">{items}</{tag}>'
    if kind == "rich_text_quote":
        return f'<blockquote class="bk-quote">{_rich_inline(part, ctx)}</blockquote>'
    if kind == "rich_text_preformatted":
        return f'<pre class="bk-pre">{_rich_inline(part, ctx)}</pre>'
    return f"<div>{_rich_inline(part, ctx)}</div>"


def _rich_inline(part: Mapping[str, Any], ctx: Ctx) -> str:
    return "".join(_rich_piece(piece, ctx) for piece in mappings(part.get("elements")))


def _rich_piece(piece: Mapping[str, Any], ctx: Ctx) -> str:
    """One inline piece of rich text; rich text is literal, never Slack-escaped."""
    kind, text = piece.get("type"), scalar(piece.get("text"))
    if kind == "text":
        out = html.escape(text).replace("\n", "<br>")
        style = mapping(piece.get("style"))
        for flag, tag in _RICH_STYLES:
            out = f"<{tag}>{out}</{tag}>" if style.get(flag) is True else out
        return out
    if kind == "link":
        return link_html(scalar(piece.get("url")), text)
    if kind in ("user", "usergroup", "channel", "broadcast"):
        return _rich_mention(kind, piece, ctx)
    if kind == "emoji":
        name = scalar(piece.get("name"))
        try:
            codes = scalar(piece.get("unicode")).split("-")
            return html.escape("".join(chr(int(code, 16)) for code in codes))
        except (ValueError, OverflowError):  # no code points given, or not ones
            return html.escape(EMOJI.get(name, f":{name}:"))
    if kind == "date":
        stamp, form = scalar(piece.get("timestamp")), scalar(piece.get("format"))
        return date_html(stamp, form, scalar(piece.get("fallback")))
    return html.escape(text)


def _rich_mention(kind: object, piece: Mapping[str, Any], ctx: Ctx) -> str:
    if kind == "user":
        user = scalar(piece.get("user_id"))
        return markup(
            "span", [("class", "bk-mention")], html.escape("@" + ctx.users.get(user, user))
        )
    if kind == "channel":
        channel = scalar(piece.get("channel_id"))
        name = "#" + ctx.channels.get(channel, channel)
        return markup("span", [("class", "bk-channel")], html.escape(name))
    who = scalar(piece.get("usergroup_id") if kind == "usergroup" else piece.get("range"))
    return markup("span", [("class", "bk-mention")], html.escape("@" + who))


_BLOCKS: Mapping[str, Renderer] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image_block,
    "input": _input,
    "rich_text": _rich_text,
}
