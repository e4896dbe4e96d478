"""Meta's semantics for the AdAccount node (`act_<id>`): how it reads, wherever it is listed."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fields import select
from bot.sandbox.router import Call, Reply, Route
from bot.sandbox.world import AdAccount, World

ACCOUNT_FIELDS = ("id", "account_id", "name")


def account_record(account: AdAccount) -> dict[str, Any]:
    """The simulated AdAccount fields."""
    return {"id": f"act_{account.id}", "account_id": account.id, "name": account.name}


def get_ad_account(world: World, call: Call) -> Reply:
    """GET /act_{ad_account}?fields=id,account_id,name"""
    record = account_record(world.ad_accounts[call.target])
    return select(record, call.params.get("fields"), ("id", "account_id"), "AdAccount")


ROUTES: tuple[Route, ...] = (
    Route("GET", "ad_account", None, get_ad_account, fields=ACCOUNT_FIELDS),
)
