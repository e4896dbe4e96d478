"""Doctor checks of each business's Meta token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence

from pydantic import SecretStr

from bot.config import Settings
from bot.doctor.report import Check, Registered
from bot.flows.meta.errors import (
    GraphAuthError,
    GraphError,
    GraphInvalidParameter,
    GraphPermissionError,
)
from bot.graph.client import GraphClient
from bot.graph.retry import RetryPolicy

# A doctor should answer in seconds: one retry at most, not the serving budget of 90 s.
DOCTOR_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=2.0, budget=5.0)
# Meta names the permission either before "permission" or after "(extended) permission(:)".
_PERMISSION = re.compile(r"\b([a-z]+(?:_[a-z]+)+) permission|permission:?\s+([a-z]+(?:_[a-z]+)+)")


async def graph_checks(
    settings: Settings,
    graph: GraphClient | None,
    businesses: Sequence[Registered],
    tokens: Mapping[str, SecretStr],
) -> list[Check]:
    targets = [b for b in businesses if b.business_id in tokens]
    if not targets:
        return []
    client = graph or GraphClient.for_settings(settings, retry=DOCTOR_RETRY)
    try:
        return list(
            await asyncio.gather(*(check_token(client, b, tokens[b.business_id]) for b in targets))
        )
    finally:
        if graph is None:
            await client.aclose()


async def check_token(graph: GraphClient, business: Registered, token: SecretStr) -> Check:
    """The token is valid, Meta knows the business, and the token may list its owned pixels."""
    name = f"token {business.fingerprint} of {business.label}"
    step = f"GET /{business.business_id}"
    try:
        meta = await graph.get_business(token, business.business_id)
        step = f"GET /{business.business_id}/owned_pixels"
        pixels = await graph.list_owned_pixels(token, business.business_id)
    except GraphError as error:
        return _graph_failure(name, business, step, error)
    detail = f"valid, acts for {meta.name!r} (Meta's name); lists its {len(pixels)} owned pixel(s)"
    return Check(name, True, detail)


def _graph_failure(name: str, business: Registered, step: str, error: GraphError) -> Check:
    code = f"#{error.code}" + (f"/{error.error_subcode}" if error.error_subcode else "")
    if isinstance(error, GraphAuthError):
        hint = f"make a new token, then {business.re_add()}"
        return Check(name, False, f"token expired or revoked ({code})", hint)
    if isinstance(error, GraphPermissionError):
        permission = missing_permission(error)
        what = f"the {permission} permission is missing" if permission else "permission denied"
        detail = f"{step}: {what} ({code}): {error.user_message}"
        hint = (
            f"give the system user {permission or 'business_management'} on this business "
            f"and access to its pixels, then store its new token with {business.re_add()}"
        )
        return Check(name, False, detail, hint)
    if isinstance(error, GraphInvalidParameter):
        detail = f"{step}: Meta cannot load the business with this token ({code})"
        hint = "check the business id (`pixelbot business list`) and whose token this is"
        return Check(name, False, detail, hint)
    said = error if error.code is not None else error.message  # no code: say what happened
    detail = f"{step}: no usable answer from Meta: {said}"
    return Check(name, False, detail, "check GRAPH_API_URL, then run the doctor again")


def missing_permission(error: GraphError) -> str | None:
    """The permission Meta's message names (e.g. business_management), if it names one."""
    for text in (error.message, error.error_user_msg or ""):
        match = _PERMISSION.search(text)
        if match:
            return match.group(1) or match.group(2)
    return None
