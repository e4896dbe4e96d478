"""Rules Meta enforces on sharing: owner-only, EDIT allowlist, parameter validation."""

from __future__ import annotations

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import (
    ACME,
    BRIGHT,
    NOVA,
    PIXEL_CHECKOUT,
    PIXEL_WEB,
    V,
    auth,
    error_of,
    share,
    tasks,
)


async def test_only_the_owner_may_share(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    body = {"business": NOVA, "permitted_tasks": tasks("ANALYZE")}
    by_agency = await client.post(
        f"{V}/{PIXEL_WEB}/agencies", data=body, headers=auth(sandbox, BRIGHT)
    )
    by_stranger = await client.post(
        f"{V}/{PIXEL_CHECKOUT}/agencies", data=body, headers=auth(sandbox, NOVA)
    )

    assert by_agency.status_code == 400
    assert error_of(by_agency)["code"] == 200
    assert "Acme Shoes" in error_of(by_agency)["error_user_msg"]
    # A pixel the token cannot see at all "does not exist", as Meta says.
    assert (error_of(by_stranger)["code"], error_of(by_stranger)["error_subcode"]) == (100, 33)


async def test_only_the_owner_may_unshare(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.delete(
        f"{V}/{PIXEL_WEB}/agencies", params={"business": BRIGHT}, headers=auth(sandbox, BRIGHT)
    )

    assert error_of(response)["code"] == 200


async def test_edit_is_refused_unless_the_app_is_allowlisted(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    refused = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT, "ANALYZE", "EDIT")
    sandbox.world.settings.edit_allowlisted = True
    allowed = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT, "ANALYZE", "EDIT")

    assert error_of(refused)["code"] == 200
    assert "allowlist" in error_of(refused)["error_user_msg"]
    assert allowed.json() == {"success": True}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"permitted_tasks": tasks("ANALYZE")}, "The parameter business is required"),
        ({"business": NOVA}, "The parameter permitted_tasks is required"),
        ({"business": NOVA, "permitted_tasks": '["FLY"]'}, "permitted_tasks[0] must be one of"),
        ({"business": NOVA, "permitted_tasks": "ANALYZE"}, "must be a JSON array"),
        ({"business": NOVA, "permitted_tasks": "[]"}, "must not be empty"),
        ({"business": "999999999999999", "permitted_tasks": tasks("ANALYZE")}, "valid business"),
        ({"business": ACME, "permitted_tasks": tasks("ANALYZE")}, "with itself"),
    ],
)
async def test_bad_share_params_are_error_100(
    client: httpx.AsyncClient, sandbox: Sandbox, data: dict[str, str], message: str
) -> None:
    response = await client.post(
        f"{V}/{PIXEL_CHECKOUT}/agencies", data=data, headers=auth(sandbox, ACME)
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == 100
    assert message in error_of(response)["message"]
