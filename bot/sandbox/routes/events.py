"""Conversions API: `POST /{pixel}/events`, with Meta's batch-size and event-age limits."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.sandbox.errors import MetaError, invalid_param, permission_denied
from bot.sandbox.router import Call, Param, Reply, Route
from bot.sandbox.world import World

MAX_EVENTS = 1000
MAX_AGE = timedelta(days=7)
# CAPI allows physical_store events up to 62 days old.
MAX_AGE_PHYSICAL_STORE = timedelta(days=62)
_UPLOAD_TASKS = frozenset({"UPLOAD", "EDIT"})


def _too_old(index: int) -> MetaError:
    # Subcode and wording as Meta's CAPI answers them [I]; the rule itself is documented.
    return MetaError(
        100,
        "(#100) Invalid parameter",
        subcode=2804003,
        user_title="Event Timestamp Too Old",
        user_msg=f"The timestamp for event {index} is too far in the past. Events need to be "
        "sent from your server within 7 days of when they occurred.",
    )


def _check_event(index: int, event: Any, call: Call) -> None:
    if not isinstance(event, dict):
        raise invalid_param(f"Param data[{index}] must be an event object")
    if not isinstance(event.get("event_name"), str) or not event["event_name"]:
        raise invalid_param(f"Param data[{index}][event_name] is required")
    event_time = event.get("event_time")
    if not isinstance(event_time, int) or isinstance(event_time, bool):
        raise invalid_param(f"Param data[{index}][event_time] must be a Unix time in seconds")
    max_age = MAX_AGE_PHYSICAL_STORE if event.get("action_source") == "physical_store" else MAX_AGE
    if event_time < (call.now - max_age).timestamp():
        raise _too_old(index)
    if not isinstance(event.get("user_data", {}), dict):
        raise invalid_param(f"Param data[{index}][user_data] must be an object")


def post_events(world: World, call: Call) -> Reply:
    """Accept up to 1000 events; one bad event rejects the whole request, as in CAPI."""
    pixel = world.pixels[call.target]
    tasks = world.pixel_tasks(call.business_id, pixel.id) or []
    if pixel.owner_id != call.business_id and not _UPLOAD_TASKS & set(tasks):
        raise permission_denied("This business needs the UPLOAD task on the pixel to send events.")
    events = json.loads(call.params["data"])
    if len(events) > MAX_EVENTS:
        raise invalid_param(f"Param data must contain at most {MAX_EVENTS} events")
    for index, event in enumerate(events):
        _check_event(index, event, call)
    pixel.events_received += len(events)
    # Test events show in Events Manager's test tab only; they do not make the pixel "fire".
    if "test_event_code" not in call.params and events:
        pixel.last_fired_time = call.now
    return {"events_received": len(events), "messages": [], "fbtrace_id": call.trace_id}


ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "pixel",
        "events",
        post_events,
        (Param("data", required=True, type="list"), Param("test_event_code")),
    ),
)
