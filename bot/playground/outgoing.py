"""What the playground's Slack sends to pixelbot: Slack's payloads (slash command, block
actions, view submission and closing, App Home opened), signed with the app's signing
secret and POSTed over loopback HTTP to `/slack/events`, the path Slack itself uses. The
acknowledgement's body is applied as Slack applies it.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.playground.cast import APP_ID, CHANNELS, TEAM_DOMAIN, TEAM_ID, person
from bot.playground.slack_state import Posted, SlackError, View, Workspace

log = logging.getLogger(__name__)


class Outgoing:
    """Sends what people do on the page to pixelbot, as Slack would."""

    def __init__(
        self, workspace: Workspace, http: httpx.AsyncClient, events_url: str, base_url: str
    ) -> None:
        self._slack, self._http, self._events = workspace, http, events_url
        self._base = base_url.rstrip("/")
        self.signing_secret = secrets.token_hex(16)

    def _user(self, user: str) -> dict[str, Any]:
        found = person(user)
        name = found.name if found else user
        return {"id": user, "username": name.split()[0].lower(), "name": name, "team_id": TEAM_ID}

    def _team(self) -> dict[str, str]:
        return {"id": TEAM_ID, "domain": TEAM_DOMAIN}

    def _response_url(self, token: str) -> str:
        return f"{self._base}/hooks/{token}"

    async def command(self, user: str, channel: str, text: str) -> None:
        """`/pixel TEXT` typed by `user` in `channel`."""
        name = next((c.name for c in CHANNELS if c.id == channel), "directmessage")
        token = self._slack.new_response_url(user, channel, None)
        body = urlencode(
            {
                "token": "playground",
                "team_id": TEAM_ID,
                "team_domain": TEAM_DOMAIN,
                "channel_id": channel,
                "channel_name": name,
                "user_id": user,
                "user_name": self._user(user)["username"],
                "command": "/pixel",
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": self._response_url(token),
                "trigger_id": self._slack.new_trigger(user),
            }
        )
        answer = await self._send(body)
        if answer:  # Slack shows a command's ack body to its user alone
            posted = await self._slack.post(
                channel,
                str(answer.get("text") or ""),
                list(answer.get("blocks") or []),
                only_to=None if answer.get("response_type") == "in_channel" else user,
            )
            self._slack.replied(token, posted)

    async def click_in_message(
        self, user: str, posted: Posted, action: dict[str, Any], values: dict[str, Any]
    ) -> None:
        """A button or menu of a message (`action` as Slack describes it in `actions`)."""
        container = {
            "type": "message",
            "message_ts": posted.ts,
            "channel_id": posted.channel,
            "is_ephemeral": posted.only_to is not None,
        }
        payload = self._block_actions(user, action, container) | {
            "channel": {"id": posted.channel, "name": _channel_name(posted.channel)},
            "message": {
                "type": "message",
                "user": posted.user,
                "ts": posted.ts,
                "text": posted.text,
                "blocks": posted.blocks,
            },
            "state": {"values": values},
            "response_url": self._response_url(
                self._slack.new_response_url(user, posted.channel, posted.ts)
            ),
        }
        await self._send(urlencode({"payload": json.dumps(payload)}))

    async def click_in_view(
        self, user: str, view: View, action: dict[str, Any], values: dict[str, Any]
    ) -> None:
        """A button or menu inside a modal or App Home."""
        container = {"type": "view", "view_id": view.id}
        payload = self._block_actions(user, action, container) | {
            "view": self._view(view, values),
        }
        await self._send(urlencode({"payload": json.dumps(payload)}))

    def _block_actions(
        self, user: str, action: dict[str, Any], container: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "playground",
            "container": container,
            "trigger_id": self._slack.new_trigger(user),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action | {"action_ts": f"{time.time():.6f}"}],
        }

    def _view(self, view: View, values: dict[str, Any]) -> dict[str, Any]:
        return view.view | {
            "id": view.id,
            "team_id": TEAM_ID,
            "state": {"values": values},
            "hash": view.hash,
            "private_metadata": view.view.get("private_metadata", ""),
            "callback_id": view.view.get("callback_id", ""),
            "app_id": APP_ID,
            "bot_id": "B0PIXELBOT",
        }

    async def submit(self, user: str, view: View, values: dict[str, Any]) -> None:
        """The modal's submit button: Slack applies the ack's `response_action`."""
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "playground",
            "trigger_id": self._slack.new_trigger(user),
            "view": self._view(view, values),
            "response_urls": [],
            "is_enterprise_install": False,
        }
        answer = await self._send(urlencode({"payload": json.dumps(payload)})) or {}
        action = answer.get("response_action")
        if action == "errors":
            view.errors = {str(k): str(v) for k, v in dict(answer.get("errors") or {}).items()}
            await self._slack.touch()
        elif action == "update":
            await self._slack.update_view(view.id, dict(answer.get("view") or {}), None)
        elif action == "push":
            stack = self._slack.modals.setdefault(user, [])
            stack.append(View(f"V{secrets.token_hex(5).upper()}", user, dict(answer["view"])))
            await self._slack.touch()
        else:
            await self._slack.close_modals(user, all_of_them=action == "clear")

    async def close(self, user: str, view: View) -> None:
        """The modal's cancel button: view_closed, when the view asked to be told."""
        await self._slack.close_modals(user, all_of_them=False)
        if not view.view.get("notify_on_close"):
            return
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "playground",
            "view": self._view(view, {}),
            "is_cleared": False,
        }
        await self._send(urlencode({"payload": json.dumps(payload)}))

    async def home_opened(self, user: str) -> None:
        """`user` opened pixelbot's App Home tab (an Events API callback)."""
        home = self._slack.homes.get(user)
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user[1:],
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
            **({"view": self._view(home, {})} if home else {}),
        }
        body = {
            "token": "playground",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": "U0PIXELBOT", "is_bot": True},
            ],
        }
        await self._send(json.dumps(body), content_type="application/json")

    async def _send(
        self, body: str, content_type: str = "application/x-www-form-urlencoded"
    ) -> dict[str, Any] | None:
        """Sign and POST to pixelbot; the ack's JSON body, if it had one."""
        timestamp = str(int(time.time()))
        signature = str(
            SignatureVerifier(self.signing_secret).generate_signature(
                timestamp=timestamp, body=body
            )
        )
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        }
        answer = await self._http.post(self._events, content=body, headers=headers)
        if answer.status_code != 200:
            # What Slack shows when an app fails to answer: the user sees it too.
            log.warning("pixelbot answered %s", answer.status_code)
            raise SlackError(f"pixelbot answered HTTP {answer.status_code}")
        if not answer.content or "json" not in answer.headers.get("content-type", ""):
            return None
        parsed = answer.json()
        return parsed if isinstance(parsed, dict) else None


def _channel_name(channel: str) -> str:
    return next((c.name for c in CHANNELS if c.id == channel), "directmessage")
