"""Meta's semantics for the AdsPixel node and its sharing edges: agencies, shared_accounts."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import MetaError, invalid_param, permission_denied
from bot.sandbox.fields import graph_time, page, select
from bot.sandbox.router import Call, Param, Reply, Route
from bot.sandbox.routes.accounts import ACCOUNT_FIELDS, account_record
from bot.sandbox.world import AD_TASKS, TASKS, Pixel, World

PIXEL_FIELDS = (
    "id",
    "name",
    "owner_business",
    "creation_time",
    "last_fired_time",
    "is_unavailable",
)
AGENCY_FIELDS = ("id", "name", "permitted_tasks")
_EDIT_NOT_ALLOWED = (
    "EDIT access is currently restricted, contact your Meta representative to allowlist your app."
)
_SEPT_2024 = (
    "Since September 2024 a business can link a pixel to an ad account only if it has access "
    "to both. Share the pixel with the business first (POST /{pixel}/agencies), then link."
)


def pixel_record(world: World, pixel: Pixel) -> dict[str, Any]:
    """Every simulated AdsPixel field of a pixel (None = Graph leaves it out)."""
    owner = world.businesses[pixel.owner_id]
    fired = pixel.last_fired_time
    return {
        "id": pixel.id,
        "name": pixel.name,
        "owner_business": {"id": owner.id, "name": owner.name},
        "creation_time": graph_time(pixel.creation_time),
        "last_fired_time": None if fired is None else graph_time(fired),
        "is_unavailable": pixel.is_unavailable,
    }


def business_param(world: World, call: Call) -> str:
    """The `business` param, which must name a business."""
    business_id = call.params["business"]
    if business_id not in world.businesses:
        raise invalid_param(f"Param business must be a valid business id, got {business_id!r}")
    return business_id


def _require_owner(world: World, pixel: Pixel, call: Call, action: str) -> None:
    if pixel.owner_id != call.business_id:
        owner = world.businesses[pixel.owner_id].name
        raise permission_denied(f"Only the business that owns this pixel ({owner}) can {action}.")


def get_pixel(world: World, call: Call) -> Reply:
    """GET /{pixel}?fields=..."""
    record = pixel_record(world, world.pixels[call.target])
    return select(record, call.params.get("fields"), ("id", "name"), "AdsPixel")


def get_agencies(world: World, call: Call) -> Reply:
    """GET /{pixel}/agencies: the owner sees every agency, an agency only itself."""
    pixel = world.pixels[call.target]
    items = [
        {"id": b, "name": world.businesses[b].name, "permitted_tasks": list(tasks)}
        for b, tasks in pixel.agencies.items()
        if call.business_id in (pixel.owner_id, b)
    ]
    fields = call.params.get("fields")
    return page(call, [select(i, fields, AGENCY_FIELDS, "Business") for i in items])


def post_agencies(world: World, call: Call) -> Reply:
    """POST /{pixel}/agencies: share at once with a partner, else open or extend a request."""
    pixel = world.pixels[call.target]
    _require_owner(world, pixel, call, "share it")
    agency_id = business_param(world, call)
    if agency_id == pixel.owner_id:
        raise invalid_param("A business cannot share a pixel with itself")
    tasks = call.list_param("permitted_tasks")
    if not tasks:
        raise invalid_param("Param permitted_tasks must not be empty")
    if "EDIT" in tasks and not world.settings.edit_allowlisted:
        raise MetaError(
            200,
            "(#200) The EDIT task requires an allowlisted app",
            user_title="EDIT access is restricted",
            user_msg=_EDIT_NOT_ALLOWED,
        )
    # An approved relationship (or access already given) shares at once (G-PIX).
    if world.are_partners(pixel.owner_id, agency_id) or agency_id in pixel.agencies:
        world.share(pixel.id, agency_id, tasks)
        return {"success": True}
    agreement = world.request_share(pixel.id, agency_id, tasks, call.now)
    return {"success": True, "pending_request_id": agreement.id}


def delete_agencies(world: World, call: Call) -> Reply:
    """DELETE /{pixel}/agencies: remove access, or take the pixel out of a pending request."""
    pixel = world.pixels[call.target]
    _require_owner(world, pixel, call, "remove a business from it")
    world.unshare(pixel.id, business_param(world, call))
    return {"success": True}


def _link_target(world: World, call: Call) -> tuple[Pixel, str, str]:
    pixel = world.pixels[call.target]
    business_id = business_param(world, call)
    account_id = call.params["account_id"]
    if not account_id.isdigit():
        raise invalid_param("Param account_id must be a numeric ad account id, without act_")
    if account_id not in world.ad_accounts:
        raise invalid_param(f"Param account_id must be a valid ad account id, got {account_id}")
    if call.business_id != business_id:
        name = world.businesses[business_id].name
        raise permission_denied(f"Use a token of {name} to link or unlink its ad accounts.")
    return pixel, business_id, account_id


def post_shared_accounts(world: World, call: Call) -> Reply:
    """POST /{pixel}/shared_accounts: the business must reach both pixel and ad account."""
    pixel, business_id, account_id = _link_target(world, call)
    name = world.businesses[business_id].name
    tasks = world.pixel_tasks(business_id, pixel.id) or []
    if not AD_TASKS & set(tasks):
        raise invalid_param(
            f"Business {business_id} has no access to pixel {pixel.id}",
            user_title="The business cannot use this pixel",
            user_msg=f"{name} has no ADVERTISE or ANALYZE access to pixel {pixel.id}. "
            + _SEPT_2024,
        )
    if not world.can_use_account(business_id, account_id):
        raise invalid_param(
            f"Business {business_id} has no access to ad account {account_id}",
            user_title="The business cannot use this ad account",
            user_msg=f"{name} has no access to ad account act_{account_id}. " + _SEPT_2024,
        )
    pixel.linked_accounts.add((business_id, account_id))
    return {"success": True}


def delete_shared_accounts(world: World, call: Call) -> Reply:
    """DELETE /{pixel}/shared_accounts: unlink (succeeds when there was no link)."""
    pixel, business_id, account_id = _link_target(world, call)
    pixel.linked_accounts.discard((business_id, account_id))
    return {"success": True}


def get_shared_accounts(world: World, call: Call) -> Reply:
    """GET /{pixel}/shared_accounts?business=: that business's ad accounts linked to the pixel."""
    pixel = world.pixels[call.target]
    business_id = business_param(world, call)
    if call.business_id not in (business_id, pixel.owner_id):
        raise permission_denied("Only the pixel's owner or that business can list its links.")
    accounts = sorted(a for b, a in pixel.linked_accounts if b == business_id)
    fields = call.params.get("fields")
    items = [account_record(world.ad_accounts[a]) for a in accounts]
    return page(call, [select(i, fields, ACCOUNT_FIELDS, "AdAccount") for i in items])


_TASKS = Param("permitted_tasks", required=True, enum=TASKS, type="list")
_BUSINESS = Param("business", required=True)
_ACCOUNT = Param("account_id", required=True)

ROUTES: tuple[Route, ...] = (
    Route("GET", "pixel", None, get_pixel, fields=PIXEL_FIELDS),
    Route("GET", "pixel", "agencies", get_agencies, fields=AGENCY_FIELDS),
    Route("POST", "pixel", "agencies", post_agencies, (_BUSINESS, _TASKS)),
    Route("DELETE", "pixel", "agencies", delete_agencies, (_BUSINESS,)),
    Route("GET", "pixel", "shared_accounts", get_shared_accounts, (_BUSINESS,), ACCOUNT_FIELDS),
    Route(
        "POST",
        "pixel",
        "shared_accounts",
        post_shared_accounts,
        (_ACCOUNT, _BUSINESS),
        checks_access=True,
    ),
    Route(
        "DELETE",
        "pixel",
        "shared_accounts",
        delete_shared_accounts,
        (_ACCOUNT, _BUSINESS),
        checks_access=True,
    ),
)
