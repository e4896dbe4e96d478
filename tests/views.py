"""A share request as the renderers see it (`RequestView`), for tests of messages and pages."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from bot.flows.views import RequestView


def request_view(created_at: datetime, **changes: Any) -> RequestView:
    """Request #12: Owner Co asks to share "Shop pixel" with Agency Ltd, pending; `changes`
    replace any field."""
    base = RequestView(
        id=12,
        pixel_id="111",
        pixel_name="Shop pixel",
        owner_business_id="222",
        owner_name="Owner Co",
        agency_business_id="333",
        agency_name="Agency Ltd",
        tasks=("ANALYZE", "UPLOAD"),
        status="pending",
        pending_request_id="444",
        requester="U0REQ",
        note=None,
        decider=None,
        reason=None,
        created_at=created_at,
        decided_at=None,
        slack_channel=None,
        slack_ts=None,
        error_message=None,
        error_code=None,
        fbtrace_id=None,
    )
    return dataclasses.replace(base, **changes)
