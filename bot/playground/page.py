"""The page's own endpoints (`/play/...`): what one person sees (rendered from Block Kit on
the server), a live feed of changes, and what they do (type a command, click, submit, close,
open App Home), handed to `Outgoing` to reach pixelbot as Slack would send it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.playground.blockkit import render_blocks, render_view
from bot.playground.cast import BOT_USER, CHANNELS, PEOPLE, dm_channel, person
from bot.playground.outgoing import Outgoing
from bot.playground.slack_state import Posted, SlackError, Workspace
from bot.sandbox.http import RawRequest

Answer = tuple[int, Any]
NAMES = {p.id: p.name for p in PEOPLE} | {BOT_USER: "pixelbot"}
CHANNEL_NAMES = {c.id: c.name for c in CHANNELS}


class BadInput(ValueError):
    """The page sent something no person could have done: answered 400."""


def _user(value: Any) -> str:
    if not isinstance(value, str) or person(value) is None:
        raise BadInput("unknown user")
    return value


def _shown(posted: Posted, user: str) -> dict[str, Any]:
    return {
        "ts": posted.ts,
        "user": posted.user,
        "author": NAMES.get(posted.user, posted.user),
        "bot": posted.user == BOT_USER,
        "html": render_blocks(posted.blocks, NAMES, CHANNEL_NAMES, fallback_text=posted.text),
        "edited": posted.edited,
        "ephemeral": posted.only_to is not None,
        "replies": [],
    }


def state_for(slack: Workspace, user: str) -> dict[str, Any]:
    """Everything `user` sees: channels, their DM with pixelbot, messages, modal, home."""
    dm = dm_channel(user)
    channels = [{"id": c.id, "name": c.name, "purpose": c.purpose} for c in CHANNELS]
    messages: dict[str, list[dict[str, Any]]] = {c["id"]: [] for c in channels}
    messages[dm] = []
    parents: dict[tuple[str, str], dict[str, Any]] = {}
    for posted in slack.messages:
        if posted.channel not in messages or posted.only_to not in (None, user):
            continue
        shown = _shown(posted, user)
        parent = parents.get((posted.channel, posted.thread_ts or ""))
        if posted.thread_ts and parent is not None:
            parent["replies"].append(shown)
            continue
        parents[(posted.channel, posted.ts)] = shown
        messages[posted.channel].append(shown)
    modal = slack.top_modal(user)
    home = slack.homes.get(user)
    return {
        "version": slack.version,
        "me": user,
        "people": [{"id": p.id, "name": p.name, "title": p.title} for p in PEOPLE],
        "channels": channels,
        "dm": dm,
        "messages": messages,
        "modal": None
        if modal is None
        else {
            "id": modal.id,
            "hash": modal.hash,
            "html": render_view(modal.view, NAMES, CHANNEL_NAMES, errors=modal.errors),
        },
        "home": None
        if home is None
        else {"id": home.id, "html": render_view(home.view, NAMES, CHANNEL_NAMES)},
    }


def _action(raw: Any) -> dict[str, Any]:
    """An element of Slack's `actions` list, from what the page says was clicked."""
    if not isinstance(raw, dict):
        raise BadInput("no action")
    kind = str(raw.get("type") or "button")
    action: dict[str, Any] = {
        "type": kind,
        "action_id": str(raw.get("action_id") or ""),
        "block_id": str(raw.get("block_id") or ""),
    }
    if kind == "button":
        action["value"] = str(raw.get("value") or "")
        action["text"] = {"type": "plain_text", "text": str(raw.get("text") or ""), "emoji": True}
    elif kind in ("static_select", "overflow"):
        action["selected_option"] = raw.get("selected_option")
    return action


def _values(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


class PageApi:
    """The `/play/...` endpoints."""

    def __init__(
        self,
        slack: Workspace,
        outgoing: Outgoing,
        reconcile: Callable[[], Awaitable[list[str]]],
    ) -> None:
        self._slack, self._out, self._reconcile = slack, outgoing, reconcile

    async def handle(self, request: RawRequest) -> Answer:
        """Answer one page call: (HTTP status, JSON body)."""
        try:
            if request.method == "GET" and request.path == "/play/state":
                query = dict(q.split("=", 1) for q in request.query.split("&") if "=" in q)
                return 200, state_for(self._slack, _user(query.get("user")))
            if request.method != "POST":
                return 405, {"error": "method not allowed"}
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise BadInput("expected a JSON object")
            return 200, await self._do(request.path, body)
        except (BadInput, json.JSONDecodeError) as bad:
            return 400, {"error": str(bad)}
        except SlackError as refused:
            return 200, {"ok": False, "error": refused.error}
        except httpx.HTTPError as lost:  # pixelbot did not answer (still starting, say)
            return 502, {"error": f"pixelbot did not answer ({type(lost).__name__})"}

    async def _do(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        user = _user(body.get("user"))
        if path == "/play/command":
            text = str(body.get("text") or "").strip()
            channel = self._slack.channel_of(str(body.get("channel") or ""))
            await self._out.command(user, channel, text.removeprefix("/pixel").strip())
        elif path == "/play/click":
            action, values = _action(body.get("action")), _values(body.get("values"))
            if body.get("view_id"):
                view = self._slack.view(str(body["view_id"]))
                await self._out.click_in_view(user, view, action, values)
            else:
                channel = self._slack.channel_of(str(body.get("channel") or ""))
                posted = self._slack.message(channel, str(body.get("ts") or ""))
                await self._out.click_in_message(user, posted, action, values)
        elif path == "/play/submit":
            view = self._slack.view(str(body.get("view_id") or ""))
            await self._out.submit(user, view, _values(body.get("values")))
        elif path == "/play/close":
            view = self._slack.view(str(body.get("view_id") or ""))
            await self._out.close(user, view)
        elif path == "/play/home":
            await self._out.home_opened(user)
        elif path == "/play/reconcile":
            return {"ok": True, "lines": await self._reconcile()}
        else:
            raise BadInput("no such endpoint")
        return {"ok": True}
