"""The playground's Slack workspace in memory: messages, ephemeral messages, threads, modals,
App Home, triggers and response_urls, with Slack's rules for each (a trigger lasts 3 s, a
response_url takes 5 posts in 30 minutes, a view update with a stale hash is refused).

Every change bumps `version` and rings `bell` (the page's live feed waits for it).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bot.playground.cast import BOT_USER, CHANNELS, PEOPLE, dm_channel

TRIGGER_SECONDS = 3.0  # Slack: a trigger_id must be used within 3 seconds
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60


class SlackError(Exception):
    """A Web API error, as Slack names it (`{"ok": false, "error": ...}`)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Posted:
    """One message in a channel or DM (ephemeral: shown to `only_to` alone)."""

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    only_to: str | None = None
    edited: bool = False


@dataclass
class View:
    """A modal on a user's stack, or their App Home."""

    id: str
    user: str
    view: dict[str, Any]
    hash: str = field(default_factory=lambda: secrets.token_hex(8))
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ResponseUrl:
    """Where one interaction's replies go: its user, channel and (for a click) message."""

    user: str
    channel: str
    message_ts: str | None  # the message `replace_original` replaces
    created: float = field(default_factory=time.monotonic)
    uses: int = 0
    # A command's: what it replaces is its own latest message (the ack's, then each reply's).
    follows_posts: bool = False


class Workspace:
    """The state of the playground's Slack."""

    def __init__(self) -> None:
        self.messages: list[Posted] = []
        self.modals: dict[str, list[View]] = {}
        self.homes: dict[str, View] = {}
        self.triggers: dict[str, tuple[str, float]] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.version = 0
        self.bell = asyncio.Event()  # set, and replaced, at every change
        self._ts = itertools.count(1)

    # --- bookkeeping ---------------------------------------------------------------------

    async def touch(self) -> None:
        """Something changed: wake the live feed."""
        self.version += 1
        rung, self.bell = self.bell, asyncio.Event()
        rung.set()

    def new_ts(self) -> str:
        """A message timestamp, unique and increasing like Slack's."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def new_trigger(self, user: str) -> str:
        """A trigger_id for an interaction of `user`, valid for 3 seconds."""
        trigger = f"{next(self._ts)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self.triggers[trigger] = (user, time.monotonic() + TRIGGER_SECONDS)
        return trigger

    def new_response_url(self, user: str, channel: str, message_ts: str | None) -> str:
        """The token of a response_url for one interaction: a click's (replacing the
        clicked message), or a command's (`message_ts` None: replacing its latest reply)."""
        token = secrets.token_urlsafe(24)
        self.response_urls[token] = ResponseUrl(
            user, channel, message_ts, follows_posts=message_ts is None
        )
        return token

    def replied(self, token: str, posted: Posted) -> None:
        """`posted` answered the interaction of `token` (a command's ack, say)."""
        url = self.response_urls.get(token)
        if url is not None and url.follows_posts:
            url.message_ts = posted.ts

    # --- lookups -------------------------------------------------------------------------

    def channel_of(self, channel: str) -> str:
        """A channel id as Slack resolves it: a user id means the DM with that user."""
        if any(p.id == channel for p in PEOPLE):
            return dm_channel(channel)
        if channel.startswith("D") and any(dm_channel(p.id) == channel for p in PEOPLE):
            return channel
        if any(c.id == channel for c in CHANNELS):
            return channel
        raise SlackError("channel_not_found")

    def message(self, channel: str, ts: str) -> Posted:
        """The message at `ts` in `channel`."""
        for posted in self.messages:
            if posted.channel == channel and posted.ts == ts:
                return posted
        raise SlackError("message_not_found")

    def top_modal(self, user: str) -> View | None:
        """The modal `user` sees now, if any."""
        stack = self.modals.get(user)
        return stack[-1] if stack else None

    def view(self, view_id: str) -> View:
        """A modal or home view by id."""
        for stack in self.modals.values():
            for view in stack:
                if view.id == view_id:
                    return view
        for home in self.homes.values():
            if home.id == view_id:
                return home
        raise SlackError("not_found")

    # --- what the Web API methods do ----------------------------------------------------

    async def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        only_to: str | None = None,
        user: str = BOT_USER,
    ) -> Posted:
        """Post a message (the checks Slack makes first, then the message)."""
        where = self.channel_of(channel)
        if not text and not blocks:
            raise SlackError("no_text")
        if len(blocks) > 50:
            raise SlackError("invalid_blocks")
        if thread_ts is not None:
            self.message(where, thread_ts)  # Slack: thread_not_found; here, as missing
        posted = Posted(self.new_ts(), where, user, text, blocks, thread_ts, only_to)
        self.messages.append(posted)
        await self.touch()
        return posted

    async def update(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> Posted:
        """Edit a message the bot posted."""
        posted = self.message(self.channel_of(channel), ts)
        if posted.user != BOT_USER:
            raise SlackError("cant_update_message")
        posted.text, posted.blocks, posted.edited = text, blocks, True
        await self.touch()
        return posted

    def use_trigger(self, trigger_id: str) -> str:
        """The user of a trigger still valid; Slack's errors otherwise."""
        found = self.triggers.pop(trigger_id, None)
        if found is None:
            raise SlackError("invalid_trigger_id")
        user, until = found
        if time.monotonic() > until:
            raise SlackError("expired_trigger_id")
        return user

    async def open_modal(self, trigger_id: str, view: dict[str, Any], *, push: bool) -> View:
        """views.open and views.push."""
        user = self.use_trigger(trigger_id)
        stack = self.modals.setdefault(user, [])
        if push and not stack:
            raise SlackError("not_found")
        if push and len(stack) >= 3:
            raise SlackError("push_limit_reached")
        opened = View(f"V{secrets.token_hex(5).upper()}", user, view)
        if not push:
            stack.clear()
        stack.append(opened)
        await self.touch()
        return opened

    async def update_view(self, view_id: str, view: dict[str, Any], hash_: str | None) -> View:
        """views.update: the view replaced, unless `hash_` is stale."""
        current = self.view(view_id)
        if hash_ is not None and hash_ != current.hash:
            raise SlackError("hash_conflict")
        current.view, current.hash, current.errors = view, secrets.token_hex(8), {}
        await self.touch()
        return current

    async def publish_home(self, user: str, view: dict[str, Any]) -> View:
        """views.publish: `user`'s App Home."""
        if not any(p.id == user for p in PEOPLE):
            raise SlackError("user_not_found")
        home = self.homes.get(user) or View(f"V{secrets.token_hex(5).upper()}", user, view)
        home.view, home.hash = view, secrets.token_hex(8)
        self.homes[user] = home
        await self.touch()
        return home

    async def close_modals(self, user: str, *, all_of_them: bool) -> None:
        """The top modal closed (or the whole stack)."""
        stack = self.modals.get(user, [])
        if all_of_them:
            stack.clear()
        elif stack:
            stack.pop()
        await self.touch()

    async def respond(self, token: str, body: dict[str, Any]) -> None:
        """A post to a response_url: a new ephemeral or channel message, or the original
        message replaced or deleted."""
        url = self.response_urls.get(token)
        if url is None or time.monotonic() - url.created > RESPONSE_URL_SECONDS:
            raise SlackError("expired_url")
        if url.uses >= RESPONSE_URL_USES:
            raise SlackError("used_url")
        url.uses += 1
        text, blocks = str(body.get("text") or ""), list(body.get("blocks") or [])
        original = self._original(url)
        if body.get("delete_original") and original is not None:
            self.messages.remove(original)
        elif body.get("replace_original") and original is not None:
            original.text, original.blocks, original.edited = text, blocks, True
        else:
            in_channel = body.get("response_type") == "in_channel"
            posted = Posted(
                self.new_ts(),
                url.channel,
                BOT_USER,
                text,
                blocks,
                thread_ts=body.get("thread_ts"),
                only_to=None if in_channel else url.user,
            )
            self.messages.append(posted)
            self.replied(token, posted)
        await self.touch()

    def _original(self, url: ResponseUrl) -> Posted | None:
        if url.message_ts is None:
            return None
        try:
            return self.message(url.channel, url.message_ts)
        except SlackError:
            return None
