"""The playground's Slack Web API (`POST /api/{method}`) and response_urls (`POST
/hooks/{token}`): the methods pixelbot calls, with Slack's answer shapes and error names.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from bot.playground.cast import (
    BOT_ID,
    BOT_USER,
    CHANNELS,
    PEOPLE,
    TEAM_DOMAIN,
    TEAM_ID,
    dm_channel,
)
from bot.playground.slack_state import SlackError, View, Workspace
from bot.sandbox.http import RawRequest

Params = dict[str, Any]
Method = Callable[[Workspace, Params], Awaitable[Params]]
_JSON_FIELDS = ("blocks", "view", "attachments", "metadata")


def params_of(request: RawRequest) -> Params:
    """A Web API call's arguments, whether sent as JSON or as a form."""
    if "json" in request.headers.get("content-type", ""):
        loaded = json.loads(request.body or b"{}")
        params: Params = loaded if isinstance(loaded, dict) else {}
    else:
        params = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        params.update(parse_qsl(request.query, keep_blank_values=True))
    for key in _JSON_FIELDS:  # a form carries these JSON-encoded
        if isinstance(params.get(key), str) and params[key]:
            params[key] = json.loads(params[key])
    return params


def _message(posted: Any) -> Params:
    return {
        "type": "message",
        "user": posted.user,
        "bot_id": BOT_ID,
        "text": posted.text,
        "blocks": posted.blocks,
        "ts": posted.ts,
        **({"thread_ts": posted.thread_ts} if posted.thread_ts else {}),
    }


def _view(view: View) -> Params:
    return view.view | {"id": view.id, "team_id": TEAM_ID, "hash": view.hash, "state": {}}


async def _auth_test(slack: Workspace, params: Params) -> Params:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": "pixelbot playground",
        "user": "pixelbot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


async def _post_message(slack: Workspace, params: Params) -> Params:
    posted = await slack.post(
        str(params.get("channel") or ""),
        str(params.get("text") or ""),
        list(params.get("blocks") or []),
        thread_ts=params.get("thread_ts") or None,
    )
    return {"channel": posted.channel, "ts": posted.ts, "message": _message(posted)}


async def _post_ephemeral(slack: Workspace, params: Params) -> Params:
    user = str(params.get("user") or "")
    if not any(p.id == user for p in PEOPLE):
        raise SlackError("user_not_in_channel")
    posted = await slack.post(
        str(params.get("channel") or ""),
        str(params.get("text") or ""),
        list(params.get("blocks") or []),
        only_to=user,
    )
    return {"message_ts": posted.ts}


async def _update(slack: Workspace, params: Params) -> Params:
    posted = await slack.update(
        str(params.get("channel") or ""),
        str(params.get("ts") or ""),
        str(params.get("text") or ""),
        list(params.get("blocks") or []),
    )
    return {"channel": posted.channel, "ts": posted.ts, "text": posted.text}


async def _views_open(slack: Workspace, params: Params) -> Params:
    view = await slack.open_modal(
        str(params.get("trigger_id") or ""), _view_arg(params), push=False
    )
    return {"view": _view(view)}


async def _views_push(slack: Workspace, params: Params) -> Params:
    view = await slack.open_modal(str(params.get("trigger_id") or ""), _view_arg(params), push=True)
    return {"view": _view(view)}


async def _views_update(slack: Workspace, params: Params) -> Params:
    view = await slack.update_view(
        str(params.get("view_id") or ""), _view_arg(params), params.get("hash") or None
    )
    return {"view": _view(view)}


async def _views_publish(slack: Workspace, params: Params) -> Params:
    view = await slack.publish_home(str(params.get("user_id") or ""), _view_arg(params))
    return {"view": _view(view)}


def _view_arg(params: Params) -> dict[str, Any]:
    view = params.get("view")
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise SlackError("invalid_arguments")
    return view


async def _conversations_open(slack: Workspace, params: Params) -> Params:
    users = str(params.get("users") or "").split(",")
    if len(users) != 1 or not any(p.id == users[0] for p in PEOPLE):
        raise SlackError("user_not_found")
    return {"channel": {"id": dm_channel(users[0]), "is_im": True}}


async def _conversations_info(slack: Workspace, params: Params) -> Params:
    channel = str(params.get("channel") or "")
    for found in CHANNELS:
        if found.id == channel:
            return {
                "channel": {
                    "id": found.id,
                    "name": found.name,
                    "is_channel": True,
                    "is_member": True,
                    "is_archived": False,
                    "purpose": {"value": found.purpose},
                }
            }
    raise SlackError("channel_not_found")


async def _users_info(slack: Workspace, params: Params) -> Params:
    user = str(params.get("user") or "")
    for found in PEOPLE:
        if found.id == user:
            return {
                "user": {
                    "id": found.id,
                    "team_id": TEAM_ID,
                    "name": found.name.split()[0].lower(),
                    "real_name": found.name,
                    "profile": {"real_name": found.name, "title": found.title},
                    "is_bot": False,
                    "tz": "UTC",
                }
            }
    raise SlackError("user_not_found")


METHODS: dict[str, Method] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _update,
    "views.open": _views_open,
    "views.push": _views_push,
    "views.update": _views_update,
    "views.publish": _views_publish,
    "conversations.open": _conversations_open,
    "conversations.info": _conversations_info,
    "users.info": _users_info,
}


async def call(slack: Workspace, token: str, method: str, request: RawRequest) -> Params:
    """One Web API call, answered as Slack answers: HTTP 200 with `ok` true or false."""
    auth = request.headers.get("authorization", "")
    given = auth.removeprefix("Bearer ").strip() if auth else ""
    if not given:
        return {"ok": False, "error": "not_authed"}
    if given != token:
        return {"ok": False, "error": "invalid_auth"}
    handler = METHODS.get(method)
    if handler is None:
        return {"ok": False, "error": "unknown_method"}
    try:
        return {"ok": True} | await handler(slack, params_of(request))
    except SlackError as refused:
        return {"ok": False, "error": refused.error}
    except (ValueError, TypeError, KeyError):
        return {"ok": False, "error": "invalid_arguments"}
