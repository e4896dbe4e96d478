"""Block Kit elements as safe HTML (buttons, selects, checkboxes, inputs, images), and the
few helpers every renderer of the playground shares: tolerant reads of the input, and
`markup`, the one place a tag is written, which escapes every attribute value.

Interactive elements carry what the page needs to send Slack's payloads: `data-kind` (the
element type), `data-block-id`, `data-action-id`; buttons `data-value`, `data-url` and
`data-confirm` (the confirm object as JSON); form controls `name` = action_id.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.playground.mrkdwn import Channels, Users, emojize, mrkdwn, plain

Attr = tuple[str, str | bool | None]  # True: a bare attribute; None or False: left out
_BUTTON_STYLES = {"primary": " bk-primary", "danger": " bk-danger"}
_INPUT_TYPES = {
    "plain_text_input": "text",
    "email_text_input": "email",
    "url_text_input": "url",
    "number_input": "number",
    "datepicker": "date",
    "timepicker": "time",
}


@dataclass(frozen=True)
class Ctx:
    """What rendering needs besides the blocks: names to show, errors to show."""

    users: Users
    channels: Channels
    errors: Mapping[str, str]


Renderer = Callable[[Mapping[str, Any], str, Ctx], str]


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one: input is never trusted to be well formed."""
    return value if isinstance(value, Mapping) else {}


def mappings(value: object) -> list[Mapping[str, Any]]:
    """The objects in `value` if it is a list (anything else in it is skipped)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def scalar(value: object) -> str:
    """`value` as text if it is a string or a number (max_length...), else ""."""
    if isinstance(value, bool):
        return ""
    return value if isinstance(value, str) else str(value) if isinstance(value, int | float) else ""


def markup(name: str, attrs: Sequence[Attr], inner: str | None = "") -> str:
    """`<name ...>inner</name>` (no end tag when `inner` is None), every value escaped."""
    parts = [name]
    for key, value in attrs:
        if value is True:
            parts.append(key)
        elif isinstance(value, str):
            parts.append(f'{key}="{html.escape(value, quote=True)}"')
    start = "<" + " ".join(parts) + ">"
    return start if inner is None else f"{start}{inner}</{name}>"


def unsupported(tag: str, what: str, kind: str) -> str:
    """A small note naming what could not be shown, in place of an exception."""
    return markup(tag, [("class", "bk-unknown")], html.escape(f"{what}: {kind or '(no type)'}"))


def text_html(value: object, ctx: Ctx) -> str:
    """A text object (or a bare string, as plain_text) as HTML."""
    if isinstance(value, str):
        return plain(value)
    data = mapping(value)
    text = scalar(data.get("text"))
    if data.get("type") == "mrkdwn":
        return mrkdwn(text, ctx.users, ctx.channels)
    if data.get("emoji") is False:
        return html.escape(text).replace("\n", "<br>")
    return plain(text)


def words(value: object) -> str:
    """A plain_text object as unescaped words, for attributes and <option>s (markup escapes)."""
    if isinstance(value, str):
        return emojize(value)
    data = mapping(value)
    text = scalar(data.get("text"))
    return text if data.get("emoji") is False else emojize(text)


def safe_url(value: object, schemes: tuple[str, ...] = ("http://", "https://", "mailto:")) -> str:
    """`value` if it is a URL of one of `schemes` (never javascript: or data:), else ""."""
    url = scalar(value)
    return url if url.lower().startswith(schemes) else ""


def _ids(kind: str, block_id: str, element: Mapping[str, Any]) -> list[Attr]:
    action_id = scalar(element.get("action_id"))
    return [("data-kind", kind), ("data-block-id", block_id), ("data-action-id", action_id)]


def _chosen(element: Mapping[str, Any]) -> set[str]:
    initial = [mapping(element.get("initial_option")), *mappings(element.get("initial_options"))]
    return {scalar(option.get("value")) for option in initial if "value" in option}


def element_html(element: object, block_id: str, ctx: Ctx) -> str:
    """An element of a section, actions, context or input block, in block `block_id`."""
    data = mapping(element)
    kind = scalar(data.get("type"))
    render = _ELEMENTS.get(kind)
    if render is None:
        return unsupported("span", "Unsupported element", kind)
    return render(data, block_id, ctx)


def _button(el: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    url = safe_url(el.get("url"))
    confirm = mapping(el.get("confirm"))
    css = "bk-button" + _BUTTON_STYLES.get(scalar(el.get("style")), "") + (" bk-url" if url else "")
    attrs: list[Attr] = [
        ("type", "button"),
        ("class", css),
        *_ids("button", block_id, el),
        ("data-value", scalar(el.get("value")) if "value" in el else None),
        ("data-url", url or None),
        # The page shows Slack's confirm dialog from it before sending the click.
        ("data-confirm", json.dumps(dict(confirm), default=str) if confirm else None),
    ]
    return markup("button", attrs, text_html(el.get("text"), ctx))


def _option(option: Mapping[str, Any], chosen: set[str], *extra: Attr) -> str:
    value = scalar(option.get("value"))
    attrs: list[Attr] = [("value", value), ("selected", value in chosen), *extra]
    return markup("option", attrs, html.escape(words(option.get("text"))))


def _select(el: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    kind = scalar(el.get("type"))
    multiple = kind.startswith("multi_")
    chosen = _chosen(el)
    placeholder = words(el.get("placeholder")) or "Select an item"  # Slack's default
    head_attrs: list[Attr] = [("value", ""), ("disabled", True), ("selected", not chosen)]
    head = "" if multiple else markup("option", head_attrs, html.escape(placeholder))
    options = "".join(_option(o, chosen) for o in mappings(el.get("options")))
    for group in mappings(el.get("option_groups")):
        inner = "".join(_option(o, chosen) for o in mappings(group.get("options")))
        options += markup("optgroup", [("label", words(group.get("label")))], inner)
    attrs: list[Attr] = [
        ("class", "bk-select"),
        *_ids(kind, block_id, el),
        ("name", scalar(el.get("action_id"))),
        ("multiple", multiple),
        ("data-placeholder", placeholder if multiple else None),
    ]
    return markup("select", attrs, head + options)


def _overflow(el: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    options = "".join(
        _option(o, set(), ("data-url", safe_url(o.get("url")) or None))
        for o in mappings(el.get("options"))
    )
    head = '<option value="" disabled selected>⋯</option>'
    attrs: list[Attr] = [
        ("class", "bk-overflow"),
        *_ids("overflow", block_id, el),
        ("name", scalar(el.get("action_id"))),
        ("aria-label", "More actions"),
    ]
    return markup("select", attrs, head + options)


def _choices(el: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    kind = scalar(el.get("type"))
    box = "checkbox" if kind == "checkboxes" else "radio"
    name, chosen, rows = scalar(el.get("action_id")), _chosen(el), []
    for option in mappings(el.get("options")):
        value = scalar(option.get("value"))
        attrs: list[Attr] = [("type", box), ("name", name), ("value", value)]
        control = markup("input", [*attrs, ("checked", value in chosen)], None)
        about = option.get("description")
        small = f'<small class="bk-description">{text_html(about, ctx)}</small>' if about else ""
        words_html = text_html(option.get("text"), ctx)
        rows.append(f'<label class="bk-choice">{control} {words_html}{small}</label>')
    css = "bk-checkboxes" if box == "checkbox" else "bk-radio-buttons"
    return markup("div", [("class", css), *_ids(kind, block_id, el)], "".join(rows))


def _field(el: Mapping[str, Any], block_id: str, ctx: Ctx) -> str:
    kind = scalar(el.get("type"))
    initial = scalar(el.get("initial_value") or el.get("initial_date") or el.get("initial_time"))
    attrs: list[Attr] = [
        ("class", "bk-text-input"),
        *_ids(kind, block_id, el),
        ("name", scalar(el.get("action_id"))),
        ("placeholder", words(el.get("placeholder")) or None),
    ]
    if kind == "plain_text_input":
        attrs.append(("maxlength", scalar(el.get("max_length")) or None))
        attrs.append(("minlength", scalar(el.get("min_length")) or None))
        if el.get("multiline") is True:
            # A browser drops one newline right after <textarea>: give it one to drop.
            lead = "\n" if initial.startswith("\n") else ""
            return markup("textarea", [*attrs, ("rows", "4")], lead + html.escape(initial))
    if kind == "number_input":
        attrs.append(("step", "any" if el.get("is_decimal_allowed") is True else "1"))
        attrs.append(("min", scalar(el.get("min_value")) or None))
        attrs.append(("max", scalar(el.get("max_value")) or None))
    return markup("input", [("type", _INPUT_TYPES[kind]), *attrs, ("value", initial or None)], None)


def image_html(el: Mapping[str, Any], block_id: str, ctx: Ctx, css: str = "bk-thumb") -> str:
    """An image (element or block); its alt text alone when the URL is not http(s)."""
    src, alt = safe_url(el.get("image_url"), ("http://", "https://")), scalar(el.get("alt_text"))
    if not src:
        return markup("span", [("class", "bk-image-missing")], html.escape(alt or "image"))
    return markup("img", [("class", css), ("src", src), ("alt", alt)], None)


_ELEMENTS: Mapping[str, Renderer] = {
    "button": _button,
    "static_select": _select,
    "multi_static_select": _select,
    "overflow": _overflow,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "image": image_html,
    **dict.fromkeys(_INPUT_TYPES, _field),
}
