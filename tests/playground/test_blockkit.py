"""Block Kit as HTML for the playground page: every block, element and mrkdwn rule, hostile
text made inert everywhere, and pixelbot's own messages and modals as the page shows them."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.flows.looking import Waiting
from bot.flows.meta.types import PixelSummary
from bot.flows.sharing import ShareOutcome
from bot.flows.unsharing import UnsharePlan
from bot.flows.views import RequestView
from bot.playground.blockkit import mrkdwn, plain, render_blocks, render_view
from bot.playground.mrkdwn import EMOJI
from bot.slack.ids import Action, Callback, Field
from bot.slack.request_blocks import (
    approval_message,
    share_result_message,
    unshare_confirm_message,
)
from bot.slack.view_blocks import decline_modal, home_view, share_modal
from tests.views import request_view

ROOT = Path(__file__).resolve().parents[2]
USERS = {"U1": "Ann", "U0REQ": "Rita Requester", "U666": 'Eve <b>"x"</b>'}
CHANNELS = {"C1": "approvals"}
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = (
    '</div><script>alert(1)</script>"\' onmouseover="alert(2)" <img src=x onerror=alert(3)> &amp;'
)
VOID = {"input", "img", "hr", "br"}
TAGS = {
    "root", "div", "span", "b", "i", "s", "code", "pre", "blockquote", "a", "time", "br", "h2",
    "h3", "hr", "button", "select", "option", "optgroup", "label", "input", "textarea",
    "small", "img", "figure", "figcaption", "ul", "ol", "li",
}  # fmt: skip
ATTRIBUTES = {
    "class", "type", "name", "value", "href", "target", "rel", "src", "alt", "placeholder",
    "maxlength", "minlength", "rows", "step", "min", "max", "selected", "disabled", "checked",
    "multiple", "label", "aria-label", "datetime",
}  # fmt: skip


# --- A small DOM, from the standard library's parser ------------------------------------


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = dataclasses.field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
        ]

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = self.all(tag, cls)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls}> in {self}"
        return found[0]

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def __getitem__(self, name: str) -> str | None:
        return self.attrs[name]


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [Node("root", {})]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        assert len(attrs) == len(node.attrs), f"repeated attribute in <{tag}>"
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    """The HTML as a tree; fails on any tag left open or closed out of turn."""
    tree = _Tree()
    tree.feed(markup)
    tree.close()
    assert len(tree.stack) == 1, f"unclosed <{tree.stack[-1].tag}>"
    return tree.stack[0]


def inert(markup: str) -> Node:
    """The tree, checked to hold only the tags and attributes the renderer writes, and no
    URL but http(s) or mailto."""
    root = parse(markup)
    for node in root.walk():
        assert node.tag in TAGS, f"unexpected <{node.tag}>"
        for name, value in node.attrs.items():
            assert name in ATTRIBUTES or name.startswith("data-"), f"unexpected {name}="
            if name in ("href", "src", "data-url"):
                assert (value or "").startswith(("http://", "https://", "mailto:")), value
    return root


def md(text: str) -> Node:
    return inert(mrkdwn(text, USERS, CHANNELS))


def blocks(*items: dict[str, Any], fallback: str = "") -> Node:
    return inert(render_blocks(list(items), USERS, CHANNELS, fallback_text=fallback))


def text(kind: str, value: str) -> dict[str, Any]:
    return {"type": kind, "text": value}


def section(markdown: str, **more: Any) -> dict[str, Any]:
    return {"type": "section", "text": text("mrkdwn", markdown), **more}


def option(words: str, value: str, **more: Any) -> dict[str, Any]:
    return {"text": text("plain_text", words), "value": value, **more}


def button(words: str, action_id: str, **more: Any) -> dict[str, Any]:
    return {"type": "button", "text": text("plain_text", words), "action_id": action_id, **more}


def modal(*items: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "cb",
        "title": text("plain_text", "Title"),
        "blocks": list(items),
        **more,
    }


def input_block(element: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "field",
        "label": text("plain_text", "Label"),
        "element": {"action_id": "act", **element},
        **more,
    }


def view(shown: Any, errors: dict[str, str] | None = None) -> Node:
    """A view given as a dict, or as slack_sdk's View."""
    data = shown if isinstance(shown, dict) else shown.to_dict()
    return inert(render_view(data, USERS, CHANNELS, errors=errors))


# --- mrkdwn -------------------------------------------------------------------------------


def test_bold_italic_strike() -> None:
    root = md("*bold* _italic_ ~gone~ plain")
    assert root.one("b").text == "bold"
    assert root.one("i").text == "italic"
    assert root.one("s").text == "gone"
    assert root.text == "bold italic gone plain"


def test_style_marks_inside_words_or_apart_from_text_stay_as_typed() -> None:
    root = md("snake_case_name 2*3*4 a * b * c ~ x~")
    assert not root.all("b") and not root.all("i") and not root.all("s")
    assert root.text == "snake_case_name 2*3*4 a * b * c ~ x~"


def test_styles_wrap_mentions_and_nest() -> None:
    root = md("*hi <@U1>* _*both*_")
    assert root.all("b")[0].one("span", "bk-mention").text == "@Ann"
    assert root.one("i").one("b").text == "both"


def test_inline_code_keeps_its_marks() -> None:
    root = md("run `*not bold* _no_ :x: &lt;tag&gt;` now")
    code = root.one("code")
    assert code.text == "*not bold* _no_ :x: <tag>"
    assert not root.all("b") and not root.all("i")
    assert "❌" not in root.text


def test_code_block_is_pre_with_its_lines() -> None:
    root = md("before\n```\nline *one*\n  two > three\n```\nafter")
    pre = root.one("pre")
    assert pre.text == "line *one*\n  two > three"
    assert not root.all("b")
    assert root.text.startswith("before") and root.text.endswith("after")


def test_quote_lines_become_one_blockquote() -> None:
    root = md("intro\n> first *line*\n&gt; second\nafter")
    quote = root.one("blockquote")
    assert quote.text == "first linesecond"
    assert quote.one("b").text == "line"
    assert len(quote.all("br")) == 1
    assert root.text == "introfirst linesecondafter"


def test_triple_quote_takes_the_rest_of_the_message() -> None:
    root = md("head\n>>> one\ntwo")
    assert root.one("blockquote").text == "onetwo"


def test_a_greater_than_sign_inside_a_line_is_no_quote() -> None:
    assert not md("a > b").all("blockquote")
    assert md("a > b").text == "a > b"


def test_links_with_and_without_label_open_in_a_new_tab() -> None:
    root = md(
        "<https://example.com/a?b=1&amp;c=2|the docs> and <http://x.test> and <mailto:a@b.co>"
    )
    first, second, third = root.all("a")
    assert first["href"] == "https://example.com/a?b=1&c=2"
    assert first.text == "the docs"
    assert first["target"] == "_blank"
    assert first["rel"] == "noopener"
    assert (second["href"], second.text) == ("http://x.test", "http://x.test")
    assert (third["href"], third.text) == ("mailto:a@b.co", "a@b.co")


@pytest.mark.parametrize(
    "token",
    ["<javascript:alert(1)|click>", "<JavaScript:alert(1)|click>", "<data:text/html,x|click>",
     "< javascript:alert(1)|click>", "<//evil.test|click>"],
)  # fmt: skip
def test_links_of_other_schemes_are_only_words(token: str) -> None:
    root = md(token)
    assert not root.all("a")
    assert "click" in root.text


def test_link_url_cannot_leave_its_attribute() -> None:
    root = md('<https://x.test/" onclick="alert(1)|go>')
    link = root.one("a")
    assert link["href"] == 'https://x.test/" onclick="alert(1)'
    assert set(link.attrs) == {"class", "href", "target", "rel"}


def test_user_mentions_use_the_names_given() -> None:
    root = md("<@U1> and <@U404> and <@U666>")
    mentions = [n.text for n in root.all("span", "bk-mention")]
    assert mentions == ["@Ann", "@U404", '@Eve <b>"x"</b>']
    assert not root.all("b")


def test_channels_by_name_label_or_id() -> None:
    root = md("<#C1> <#C2|general> <#C3>")
    assert [n.text for n in root.all("span", "bk-channel")] == ["#approvals", "#general", "#C3"]


@pytest.mark.parametrize("name", ["here", "channel", "everyone"])
def test_broadcasts(name: str) -> None:
    mentions = md(f"hey <!{name}> and <!{name}|{name}>").all("span", "bk-mention")
    assert [m.text for m in mentions] == [f"@{name}", f"@{name}"]


def test_date_as_utc_time_element() -> None:
    root = md("opened <!date^1700000000^{date_short_pretty} at {time}|fallback text>")
    when = root.one("time", "bk-date")
    assert when.text == "Nov 14, 2023 at 22:13 UTC"
    assert when["datetime"] == "2023-11-14T22:13:20Z"
    assert "fallback" not in root.text


@pytest.mark.parametrize(
    ("form", "shown"),
    [
        ("{date_num}", "2023-11-14"),
        ("{date}", "November 14th, 2023"),
        ("{date_short}", "Nov 14, 2023"),
        ("{date_long}", "Tuesday, November 14th, 2023"),
        ("{date_pretty}", "November 14th, 2023"),
        ("{date_short_pretty}", "Nov 14, 2023"),
        ("{date_long_pretty}", "Tuesday, November 14th, 2023"),
        ("{time}", "22:13 UTC"),
        ("{time_secs}", "22:13:20 UTC"),
        ("{ago}", "a while back"),
        ("on {date_num} {nonsense}", "on 2023-11-14 {nonsense}"),
    ],
)
def test_date_tokens(form: str, shown: str) -> None:
    assert md(f"<!date^1700000000^{form}|a while back>").one("time").text == shown


@pytest.mark.parametrize(
    "token",
    ["<!date^soon^{time}|the fallback>", "<!date^1700000000|the fallback>",
     "<!date^99999999999999999999^{date}|the fallback>"],
)  # fmt: skip
def test_malformed_dates_show_the_fallback(token: str) -> None:
    root = md(token)
    assert not root.all("time")
    assert root.text == "the fallback"


def test_date_format_text_is_unescaped_once() -> None:
    assert md("<!date^1700000000^{date_num} &amp; {time}|x>").text == "2023-11-14 & 22:13 UTC"


def test_ordinals_of_days() -> None:
    days = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 22: "22nd"}
    for day, ordinal in days.items():
        stamp = int(datetime(2024, 1, day, tzinfo=UTC).timestamp())
        assert md(f"<!date^{stamp}^{{date}}|x>").text == f"January {ordinal}, 2024"


def test_slack_escapes_are_undone_then_escaped_exactly_once() -> None:
    markup = mrkdwn("a &amp; b &lt;@U1&gt; &amp;lt; <b>", USERS, CHANNELS)
    root = inert(markup)
    assert root.text == "a & b <@U1> &lt; b"
    assert not root.all("span")  # an escaped mention is only text
    assert "&amp;amp;" not in markup
    assert "&amp;lt;" in markup  # Slack's `&amp;lt;` reads "&lt;" on screen


def test_emoji_shortcodes() -> None:
    root = md(":white_check_mark: done :warning: :not_an_emoji: 12:30:45 :+1:")
    assert root.text == "✅ done ⚠️ :not_an_emoji: 12:30:45 👍"


def test_every_shortcode_pixelbot_writes_is_known() -> None:
    sources = [*(ROOT / "bot" / "slack").rglob("*.py"), *(ROOT / "bot" / "flows").rglob("*.py")]
    written = {
        name
        for path in sources
        for name in re.findall(r":([a-z0-9_+-]+):", path.read_text(encoding="utf-8"))
    }
    written.discard("none")  # work.py's "surface:none:uuid" key, not an emoji
    assert "white_check_mark" in written
    assert written - set(EMOJI) == set()


def test_newlines_become_breaks() -> None:
    root = md("one\ntwo\r\nthree")
    assert len(root.all("br")) == 2
    assert root.text == "onetwothree"


def test_plain_escapes_breaks_and_emoji() -> None:
    markup = plain('*not bold* <b>x</b> & "q"\n:x:')
    root = inert(markup)
    assert root.text == '*not bold* <b>x</b> & "q"❌'
    assert [n.tag for n in root.walk()] == ["root", "br"]


# --- Blocks ------------------------------------------------------------------------------


def test_no_blocks_shows_the_fallback_text_as_mrkdwn() -> None:
    root = blocks(fallback="*Hello* <@U1>")
    box = root.one("div", "bk-section")
    assert box.one("b").text == "Hello"
    assert box.one("span", "bk-mention").text == "@Ann"


def test_header() -> None:
    root = blocks({"type": "header", "text": text("plain_text", "Big *news* :tada:")})
    assert root.one("h3", "bk-header").text == "Big *news* 🎉"


def test_section_text_fields_and_button_accessory() -> None:
    root = blocks(
        section(
            "*Title*",
            block_id="sec",
            fields=[text("mrkdwn", "*A*\n1"), text("plain_text", "*B*")],
            accessory=button("Open", "open_it", value="7"),
        )
    )
    box = root.one("div", "bk-section")
    assert box["data-block-id"] == "sec"
    assert box.one("div", "bk-text").one("b").text == "Title"
    grid = box.one("div", "bk-fields")
    assert [f.text for f in grid.all("div", "bk-field")] == ["A1", "*B*"]
    accessory = box.one("div", "bk-accessory").one("button")
    assert (accessory["data-block-id"], accessory["data-action-id"]) == ("sec", "open_it")
    assert accessory["data-value"] == "7"


def test_section_accessory_select_overflow_and_image() -> None:
    select = {"type": "static_select", "action_id": "pick", "options": [option("One", "1")]}
    overflow = {
        "type": "overflow",
        "action_id": "more",
        "options": [option("Edit", "edit"), option("Docs", "docs", url="https://d.test")],
    }
    image = {"type": "image", "image_url": "https://i.test/a.png", "alt_text": "a pic"}
    root = blocks(
        section("s", block_id="a", accessory=select),
        section("o", block_id="b", accessory=overflow),
        section("i", block_id="c", accessory=image),
    )
    assert root.one("select", "bk-select")["data-kind"] == "static_select"
    menu = root.one("select", "bk-overflow")
    assert (menu["data-kind"], menu["data-block-id"], menu["data-action-id"]) == (
        "overflow",
        "b",
        "more",
    )
    choices = menu.all("option")[1:]
    assert [(o["value"], o.text) for o in choices] == [("edit", "Edit"), ("docs", "Docs")]
    assert choices[1]["data-url"] == "https://d.test"
    img = root.one("img")
    assert (img["src"], img["alt"]) == ("https://i.test/a.png", "a pic")


def test_context_elements() -> None:
    root = blocks(
        {
            "type": "context",
            "elements": [
                text("mrkdwn", "*by* <@U1>"),
                text("plain_text", "*plain*"),
                {"type": "image", "image_url": "https://i.test/x.png", "alt_text": "x"},
            ],
        }
    )
    context = root.one("div", "bk-context")
    items = context.all("span", "bk-context-item")
    assert items[0].one("b").text == "by"
    assert items[1].text == "*plain*"
    assert context.one("img", "bk-context-image")["src"] == "https://i.test/x.png"


def test_divider() -> None:
    root = blocks(section("a"), {"type": "divider"}, section("b"))
    assert root.one("hr", "bk-divider")


def test_buttons_carry_what_a_click_needs() -> None:
    confirm = {
        "title": text("plain_text", "Sure?"),
        "text": text("plain_text", "Really"),
        "confirm": text("plain_text", "Yes"),
        "deny": text("plain_text", "No"),
    }
    root = blocks(
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                button("Go", "go", value="1", style="primary", confirm=confirm),
                button("Stop", "stop", value="2", style="danger"),
                button("Plain", "plain"),
                button("Site", "site", url="https://x.test/?a=1&b=2"),
                button("Odd", "odd", style="bk-x onclick"),
            ],
        }
    )
    row = root.one("div", "bk-actions")
    assert row["data-block-id"] == "acts"
    go, stop, bare, site, odd = row.all("button")
    assert go.classes == ["bk-button", "bk-primary"]
    assert (go["data-kind"], go["data-action-id"], go["data-value"]) == ("button", "go", "1")
    assert json.loads(go["data-confirm"] or "") == confirm
    assert stop.classes == ["bk-button", "bk-danger"]
    assert "data-confirm" not in stop.attrs
    assert "data-value" not in bare.attrs
    assert site["data-url"] == "https://x.test/?a=1&b=2"
    assert "bk-url" in site.classes
    assert odd.classes == ["bk-button"]


def test_a_button_url_of_another_scheme_is_dropped() -> None:
    root = blocks({"type": "actions", "elements": [button("x", "x", url="javascript:alert(1)")]})
    assert "data-url" not in root.one("button").attrs


def test_static_select_with_groups_and_initial_option() -> None:
    element = {
        "type": "static_select",
        "action_id": "pick",
        "placeholder": text("plain_text", "Choose"),
        "options": [option("One", "1"), option("Two", "2")],
        "option_groups": [{"label": text("plain_text", "More"), "options": [option("Three", "3")]}],
        "initial_option": option("Two", "2"),
    }
    root = blocks({"type": "actions", "block_id": "b", "elements": [element]})
    select = root.one("select")
    assert (select["data-kind"], select["data-action-id"], select["name"]) == (
        "static_select",
        "pick",
        "pick",
    )
    placeholder, *options = select.all("option")
    assert (placeholder.text, placeholder["value"]) == ("Choose", "")
    assert "disabled" in placeholder.attrs
    assert "selected" not in placeholder.attrs
    assert [(o["value"], o.text) for o in options] == [("1", "One"), ("2", "Two"), ("3", "Three")]
    assert ["selected" in o.attrs for o in options] == [False, True, False]
    assert select.one("optgroup")["label"] == "More"


def test_a_select_without_choice_shows_its_placeholder_selected() -> None:
    element = {"type": "static_select", "action_id": "p", "options": [option("One", "1")]}
    first = blocks({"type": "actions", "elements": [element]}).all("option")[0]
    assert "selected" in first.attrs
    assert first.text == "Select an item"


def test_checkboxes_with_initial_options_and_descriptions() -> None:
    element = {
        "type": "checkboxes",
        "action_id": "tick",
        "options": [
            option("A", "a", description=text("plain_text", "about A")),
            {"text": text("mrkdwn", "*B*"), "value": "b"},
        ],
        "initial_options": [option("B", "b")],
    }
    root = blocks({"type": "actions", "block_id": "blk", "elements": [element]})
    group = root.one("div", "bk-checkboxes")
    assert (group["data-kind"], group["data-block-id"], group["data-action-id"]) == (
        "checkboxes",
        "blk",
        "tick",
    )
    first, second = group.all("label")
    assert first.one("input")["value"] == "a"
    assert first.one("input")["type"] == "checkbox"
    assert "checked" not in first.one("input").attrs
    assert first.one("small").text == "about A"
    assert "checked" in second.one("input").attrs
    assert second.one("b").text == "B"


def test_image_block_with_title() -> None:
    root = blocks(
        {
            "type": "image",
            "image_url": "https://i.test/big.png",
            "alt_text": "chart",
            "title": text("plain_text", "Sales"),
        }
    )
    figure = root.one("figure", "bk-image-block")
    assert figure.one("figcaption").text == "Sales"
    assert figure.one("img", "bk-image")["src"] == "https://i.test/big.png"


def test_an_image_of_another_scheme_shows_only_its_alt_text() -> None:
    root = blocks({"type": "image", "image_url": "javascript:alert(1)", "alt_text": "chart"})
    assert not root.all("img")
    assert root.text == "chart"


def test_rich_text_best_effort() -> None:
    rich = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Hi <b> ", "style": {"bold": True}},
                    {"type": "user", "user_id": "U1"},
                    {"type": "text", "text": " see "},
                    {"type": "link", "url": "https://x.test", "text": "this"},
                    {"type": "emoji", "name": "tada", "unicode": "1f389"},
                    {"type": "emoji", "name": "warning"},
                    {"type": "channel", "channel_id": "C1"},
                ],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "two"}]},
                ],
            },
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
            {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "*x*"}]},
        ],
    }
    root = blocks(rich)
    box = root.one("div", "bk-rich-text")
    assert box.one("b").text == "Hi <b> "
    assert box.one("span", "bk-mention").text == "@Ann"
    assert box.one("a")["href"] == "https://x.test"
    assert "🎉⚠️#approvals" in box.text
    assert [li.text for li in box.one("ol").all("li")] == ["one", "two"]
    assert box.one("blockquote").text == "quoted"
    assert box.one("pre").text == "*x*"


def test_unknown_block_types_are_named_not_raised() -> None:
    root = blocks(section("before"), {"type": "video<x>"}, {"no": "type"}, section("after"))
    unknown = root.all("div", "bk-unknown")
    assert len(unknown) == 2
    assert "video<x>" in unknown[0].text
    assert [s.text for s in root.all("div", "bk-text")] == ["before", "after"]


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "section", "text": ["not", "an", "object"], "fields": "nope"},
        {"type": "actions", "elements": [None, 3, {"type": "button", "text": 5}]},
        {"type": "input", "element": "x", "label": None},
        {"type": "context", "elements": {"type": "mrkdwn"}},
        {"type": "header"},
        {"type": "rich_text", "elements": [{"type": "rich_text_list", "elements": [None]}]},
        {"type": "actions", "elements": [{"type": "static_select", "options": [{"text": 1}]}]},
        {"type": "section", "text": text("mrkdwn", "x"), "accessory": {"type": "datepicker2"}},
    ],
)
def test_malformed_blocks_never_raise(broken: dict[str, Any]) -> None:
    root = blocks(broken, section("still shown"))
    assert "still shown" in root.text


def test_a_block_without_id_gets_one_for_its_clicks() -> None:
    root = blocks(section("x"), {"type": "actions", "elements": [button("B", "b")]})
    assert root.one("button")["data-block-id"] == "block-1"


# --- Views -------------------------------------------------------------------------------


def test_modal_frame_carries_its_ids_and_labels() -> None:
    data = modal(
        section("body"),
        private_metadata="42",
        submit=text("plain_text", "Send :rocket:"),
        close=text("plain_text", "Nope"),
    )
    frame = view(data).one("div", "bk-view")
    assert frame["data-view-type"] == "modal"
    assert frame["data-callback-id"] == "cb"
    assert frame["data-private-metadata"] == "42"
    assert (frame["data-submit-label"], frame["data-close-label"]) == ("Send 🚀", "Nope")
    assert frame.one("h2", "bk-title").text == "Title"
    assert frame.one("div", "bk-text").text == "body"


def test_modal_without_submit_has_no_submit_label_and_slacks_close() -> None:
    frame = view(modal(section("x"))).one("div", "bk-view")
    assert "data-submit-label" not in frame.attrs
    assert frame["data-close-label"] == "Cancel"


def test_home_tab_is_blocks_only() -> None:
    root = view({"type": "home", "callback_id": "h", "blocks": [section("*Home*")]})
    frame = root.one("div", "bk-view")
    assert frame.attrs == {"class": "bk-view", "data-view-type": "home"}
    assert not frame.all("h2")
    assert frame.one("b").text == "Home"


def test_text_input_with_initial_value_placeholder_and_limit() -> None:
    element = {
        "type": "plain_text_input",
        "initial_value": "hello",
        "placeholder": text("plain_text", "Type"),
        "max_length": 30,
    }
    field = view(modal(input_block(element))).one("div", "bk-input")
    assert (field["data-block-id"], field["data-action-id"], field["data-kind"]) == (
        "field",
        "act",
        "plain_text_input",
    )
    assert field.one("label", "bk-label").text == "Label"
    box = field.one("input")
    assert (box["type"], box["name"], box["value"]) == ("text", "act", "hello")
    assert (box["placeholder"], box["maxlength"]) == ("Type", "30")


def test_multiline_input_is_a_textarea() -> None:
    element = {"type": "plain_text_input", "multiline": True, "initial_value": "a\nb <c>"}
    area = view(modal(input_block(element))).one("textarea")
    assert area["name"] == "act"
    assert area.text == "a\nb <c>"


@pytest.mark.parametrize(
    ("kind", "html_type"),
    [("number_input", "number"), ("email_text_input", "email"), ("url_text_input", "url")],
)
def test_typed_inputs(kind: str, html_type: str) -> None:
    element = {"type": kind, "initial_value": "5", "is_decimal_allowed": False}
    box = view(modal(input_block(element))).one("input")
    assert (box["type"], box["name"], box["value"]) == (html_type, "act", "5")


def test_multi_select_input_is_a_multiple_select() -> None:
    element = {
        "type": "multi_static_select",
        "options": [option("One", "1"), option("Two", "2")],
        "initial_options": [option("Two", "2")],
    }
    select = view(modal(input_block(element))).one("select")
    assert "multiple" in select.attrs
    assert [("selected" in o.attrs) for o in select.all("option")] == [False, True]


def test_optional_label_hint_and_checkboxes_input() -> None:
    element = {"type": "checkboxes", "options": [option("A", "a")]}
    block = input_block(element, optional=True, hint=text("plain_text", "Pick some"))
    field = view(modal(block)).one("div", "bk-input")
    assert field.one("label", "bk-label").text == "Label (optional)"
    assert field.one("small", "bk-hint").text == "Pick some"
    assert field.one("input")["name"] == "act"
    assert field["data-kind"] == "checkboxes"


def test_field_error_shows_under_its_field_only() -> None:
    other = input_block({"type": "plain_text_input"}, block_id="other")
    data = modal(input_block({"type": "plain_text_input"}), other)
    first, second = view(data, errors={"field": "Must be *digits* :x:"}).all("div", "bk-input")
    error = first.one("div", "bk-error")
    assert error.text == "Must be *digits* ❌"
    kids = [c for c in first.children if isinstance(c, Node)]
    assert [k.tag for k in kids] == ["label", "input", "div"]
    assert not second.all("div", "bk-error")
    assert not view(data).all("div", "bk-error")


# --- Hostile text, in every place it can sit -------------------------------------------

Place = Callable[[str], dict[str, Any]]


def _select_with(value: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "static_select",
                "action_id": value,
                "placeholder": text("plain_text", value),
                "options": [option(value, value)],
                "option_groups": [{"label": text("plain_text", value), "options": []}],
            },
            {"type": "checkboxes", "action_id": value, "options": [option(value, value)]},
            {"type": "overflow", "action_id": value, "options": [option(value, value, url=value)]},
        ],
    }


PLACES: dict[str, Place] = {
    "section text": lambda v: section(v),
    "plain section": lambda v: {"type": "section", "text": text("plain_text", v)},
    "fields": lambda v: {"type": "section", "fields": [text("mrkdwn", v), text("plain_text", v)]},
    "header": lambda v: {"type": "header", "text": text("plain_text", v)},
    "context": lambda v: {"type": "context", "elements": [text("mrkdwn", v)]},
    "block id": lambda v: {"type": "actions", "block_id": v, "elements": [button("b", "b")]},
    "button text, value, action id": lambda v: {
        "type": "actions",
        "elements": [button(v, v, value=v, url=v, style=v)],
    },
    "confirm": lambda v: {
        "type": "actions",
        "elements": [button("b", "b", confirm={"title": text("plain_text", v), "text": v})],
    },
    "select, checkbox and overflow options": _select_with,
    "image": lambda v: {
        "type": "image",
        "image_url": v,
        "alt_text": v,
        "title": text("plain_text", v),
    },
    "image url": lambda v: {"type": "image", "image_url": "https://i.test/" + v, "alt_text": v},
    "unknown type": lambda v: {"type": v},
    "link text and url": lambda v: section(f"<https://x.test/{v}|{v}> <{v}|{v}> <{v}>"),
    "mention names": lambda v: section(f"<@U666> <#C9|{v}> <!subteam^S1|{v}>"),
    "date fallback": lambda v: section(f"<!date^nope^{{time}}|{v}> <!date^1^{v}{{time}}|x>"),
    "rich text": lambda v: {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": v},
                    {"type": "link", "url": v, "text": v},
                    {"type": "user", "user_id": v},
                    {"type": "emoji", "name": v, "unicode": "3c"},
                ],
            }
        ],
    },
}


@pytest.mark.parametrize("place", PLACES)
def test_hostile_text_in_blocks_stays_text(place: str) -> None:
    root = inert(render_blocks([PLACES[place](HOSTILE)], USERS, CHANNELS))
    # One block in, one element out: nothing closed it early to add siblings.
    assert len([c for c in root.children if isinstance(c, Node)]) == 1
    assert not root.all("script")
    assert "alert(3)" not in [n.attrs.get("onerror") for n in root.walk()]


def test_hostile_values_come_back_verbatim_from_attributes() -> None:
    root = blocks(
        {
            "type": "actions",
            "block_id": HOSTILE,
            "elements": [
                button(HOSTILE, HOSTILE, value=HOSTILE),
                _select_with(HOSTILE)["elements"][0],
            ],
        }
    )
    press = root.one("button")
    assert press["data-block-id"] == press["data-action-id"] == press["data-value"] == HOSTILE
    assert press.text == HOSTILE
    select = root.one("select")
    assert select["data-action-id"] == select["name"] == HOSTILE
    assert [o.text for o in select.all("option")] == [HOSTILE, HOSTILE]
    assert select.all("option")[1]["value"] == HOSTILE


def test_hostile_confirm_json_round_trips() -> None:
    confirm = {"title": text("plain_text", HOSTILE), "text": text("plain_text", '"}</b>')}
    markup = render_blocks(
        [{"type": "actions", "elements": [button("b", "b", confirm=confirm)]}], USERS, CHANNELS
    )
    assert "<script" not in markup
    assert json.loads(inert(markup).one("button")["data-confirm"] or "") == confirm


def test_hostile_view_fields_stay_text() -> None:
    element = {
        "type": "plain_text_input",
        "action_id": HOSTILE,
        "initial_value": HOSTILE,
        "placeholder": text("plain_text", HOSTILE),
        "multiline": True,
    }
    data = modal(
        input_block(element, block_id=HOSTILE, label=text("plain_text", HOSTILE), hint=HOSTILE),
        input_block({"type": "email_text_input", "initial_value": HOSTILE}, block_id="b"),
        callback_id=HOSTILE,
        private_metadata=HOSTILE,
        title=text("plain_text", HOSTILE),
        submit=text("plain_text", HOSTILE),
        close=text("plain_text", HOSTILE),
    )
    root = view(data, errors={HOSTILE: HOSTILE})
    frame = root.one("div", "bk-view")
    for name in ("data-callback-id", "data-private-metadata", "data-submit-label"):
        assert frame[name] == HOSTILE
    assert frame.one("h2").text == HOSTILE
    area = frame.one("textarea")
    assert area.text == area["placeholder"] == area["name"] == HOSTILE
    assert frame.one("div", "bk-error").text == HOSTILE
    assert frame.one("small", "bk-hint").text == HOSTILE
    assert frame.all("input")[0]["value"] == HOSTILE
    assert not root.all("script")


def test_hostile_text_reads_back_as_typed() -> None:
    # What an attacker types reaches the screen as those characters, escaped exactly once.
    shown = blocks({"type": "section", "text": text("plain_text", HOSTILE)}).text
    assert shown == HOSTILE


# --- pixelbot's own messages and modals --------------------------------------------------


def request(**changes: Any) -> RequestView:
    return request_view(NOW - timedelta(minutes=5), **changes)


def message(msg: Any) -> Node:
    kwargs = msg.as_kwargs()
    return inert(render_blocks(kwargs["blocks"], USERS, CHANNELS, fallback_text=kwargs["text"]))


def test_approval_card_buttons_confirm_and_facts() -> None:
    root = message(approval_message(request(note="please"), NOW))
    assert root.one("h3", "bk-header").text == "Pixel sharing request"
    approve, decline = root.one("div", "bk-actions").all("button")
    assert approve["data-action-id"] == Action.APPROVE
    assert decline["data-action-id"] == Action.DECLINE
    assert approve["data-value"] == decline["data-value"] == "12"
    assert approve["data-block-id"] == decline["data-block-id"] == "request:12"
    assert "bk-primary" in approve.classes
    assert "bk-danger" in decline.classes
    confirm = json.loads(approve["data-confirm"] or "")
    assert confirm["title"]["text"] == "Approve this request?"
    assert confirm["confirm"]["text"] == "Approve"
    assert "data-confirm" not in decline.attrs
    facts = root.all("div", "bk-text")[0]
    assert "Agency Ltd" in [b.text for b in facts.all("b")]
    assert facts.one("span", "bk-mention").text == "@Rita Requester"
    assert root.one("time", "bk-date").text == "Mar 4, 2025 11:55 UTC"


def test_approval_card_with_hostile_names_and_note_shows_them_as_text() -> None:
    evil = "<@U1> <!channel> *bold* & <https://evil.example|click> </div>"
    root = message(approval_message(request(owner_name=evil, note=evil), NOW))
    assert not root.all("a")
    mentions = [m.text for m in root.all("span", "bk-mention")]
    assert mentions == ["@Rita Requester"]  # pixelbot's own mention of the requester only
    assert "<@U1> <!channel>" in root.text


def test_unshare_confirmation_buttons() -> None:
    plan = UnsharePlan("111", "Shop", "Owner", "333", "Agency", shared=True, pending=None)
    root = message(unshare_confirm_message(plan))
    remove, keep = root.all("button")
    assert (remove["data-action-id"], remove["data-value"]) == (Action.UNSHARE_CONFIRM, "111:333")
    assert keep["data-action-id"] == Action.UNSHARE_ABORT
    assert "data-value" not in keep.attrs
    assert remove["data-block-id"] == keep["data-block-id"] == "block-1"


def test_share_result_names_the_channel_and_shows_emoji() -> None:
    outcome = ShareOutcome(request(), approvals_channel="C1", agency_registered=True)
    root = message(share_result_message(outcome, posted_to="C1"))
    assert root.one("span", "bk-channel").text == "#approvals"
    assert root.all("div", "bk-text")[0].text.startswith("⏳ Meta opened request 444")


def test_share_modal_inputs_and_an_error() -> None:
    pixels = [PixelSummary("1", "First"), PixelSummary("2", "Second")]
    root = view(share_modal(pixels), errors={Field.AGENCY: "Type the agency's business id"})
    frame = root.one("div", "bk-view")
    assert frame["data-callback-id"] == Callback.SHARE
    assert (frame["data-submit-label"], frame["data-close-label"]) == ("Share", "Cancel")
    fields = {f["data-block-id"]: f for f in frame.all("div", "bk-input")}
    assert list(fields) == [Field.PIXEL, Field.AGENCY, Field.TASKS, Field.NOTE]
    assert {f["data-action-id"] for f in fields.values()} == {Field.VALUE}
    pixel = fields[Field.PIXEL].one("select")
    assert [o["value"] for o in pixel.all("option")] == ["", "1", "2"]
    assert pixel.all("option")[0].text == "Choose a pixel"
    agency = fields[Field.AGENCY]
    assert agency.one("label").text == "Agency business id"
    assert agency.one("input")["placeholder"] == "e.g. 1234567890"
    assert agency.one("div", "bk-error").text == "Type the agency's business id"
    ticked = [b["value"] for b in fields[Field.TASKS].all("input") if "checked" in b.attrs]
    assert ticked == ["ANALYZE"]
    note = fields[Field.NOTE]
    assert note.one("label").text == "Note for the agency's admins (optional)"
    assert note.one("textarea")["maxlength"] == "1000"
    assert [f for f in fields if fields[f].all("div", "bk-error")] == [Field.AGENCY]


def test_share_modal_while_pixels_load_is_a_text_input() -> None:
    field = view(share_modal(None)).all("div", "bk-input")[0]
    assert field.one("input")["placeholder"] == "Loading your pixels…"
    assert "type a pixel id" in field.one("small", "bk-hint").text


def test_decline_modal_reason_and_an_error() -> None:
    root = view(decline_modal(request()), errors={Field.REASON: "Too long"})
    frame = root.one("div", "bk-view")
    assert frame["data-callback-id"] == Callback.DECLINE
    assert frame["data-private-metadata"] == "12"
    assert frame["data-submit-label"] == "Decline"
    assert frame.one("h2").text == "Decline request"
    assert frame.one("div", "bk-context").text.startswith("Decline request #12: Owner Co")
    reason = frame.one("div", "bk-input")
    assert reason["data-block-id"] == Field.REASON
    assert reason.one("label").text == "Reason (the requester sees it) (optional)"
    assert reason.one("textarea")["name"] == Field.VALUE
    assert reason.one("div", "bk-error").text == "Too long"


def test_home_tab_lists_decisions_with_their_buttons() -> None:
    root = view(home_view(Waiting((request(),), ()), NOW, sandbox=True))
    frame = root.one("div", "bk-view")
    assert frame["data-view-type"] == "home"
    assert root.all("h3", "bk-header")[0].text == "pixelbot"
    approves = [b for b in root.all("button") if b["data-action-id"] == Action.APPROVE]
    assert [b["data-value"] for b in approves] == ["12"]
    assert "🧪 Sandbox mode" in root.text
    assert not root.all(cls="bk-unknown")
