"""The sandbox as a Graph server: reads, field selection, paging, unknown ids, versions."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import (
    ACME,
    BRIGHT,
    NOVA,
    PIXEL_CHECKOUT,
    PIXEL_OUTLET,
    PIXEL_WEB,
    Clock,
    V,
    auth,
    error_of,
    new_sandbox,
)

GRAPH_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")


@pytest.fixture
def world_and_clock() -> tuple[Sandbox, Clock]:
    sandbox, clock, _ = new_sandbox()
    return sandbox, clock


@pytest.fixture
def sandbox(world_and_clock: tuple[Sandbox, Clock]) -> Sandbox:
    return world_and_clock[0]


async def test_pixel_fields(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    fields = "id,name,owner_business,last_fired_time,creation_time,is_unavailable"
    response = await client.get(
        f"{V}/{PIXEL_WEB}", params={"fields": fields}, headers=auth(sandbox, ACME)
    )

    body = response.json()
    assert response.status_code == 200
    assert body["id"] == PIXEL_WEB and body["name"] == "Acme Shoes - Website"
    assert body["owner_business"] == {"id": ACME, "name": "Acme Shoes"}
    assert GRAPH_TIME.fullmatch(body["last_fired_time"])
    assert body["creation_time"] == "2023-03-14T09:26:53+0000"
    assert body["is_unavailable"] is False


async def test_pixel_defaults_subfields_and_missing_values(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    default = await client.get(f"{V}/{PIXEL_OUTLET}", headers=auth(sandbox, ACME))
    nested = await client.get(
        f"{V}/{PIXEL_OUTLET}",
        params={"fields": "owner_business{name},last_fired_time"},
        headers=auth(sandbox, ACME),
    )

    assert default.json() == {"id": PIXEL_OUTLET, "name": "Acme Shoes - Outlet (CAPI)"}
    # Graph adds ids, also to nested nodes, and leaves out fields without a value (never fired).
    assert nested.json() == {
        "owner_business": {"name": "Acme Shoes", "id": ACME},
        "id": PIXEL_OUTLET,
    }


async def test_unknown_field_is_error_100(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get(
        f"{V}/{PIXEL_WEB}", params={"fields": "id,colour"}, headers=auth(sandbox, ACME)
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == 100
    assert "nonexisting field (colour) on node type (AdsPixel)" in error_of(response)["message"]


async def test_a_pixel_is_readable_by_its_agencies_only(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    by_agency = await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, BRIGHT))
    by_stranger = await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, NOVA))

    assert by_agency.status_code == 200
    assert error_of(by_stranger)["error_subcode"] == 33


async def test_business_node_and_edges(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    node = await client.get(
        f"{V}/{BRIGHT}", params={"fields": "id,name"}, headers=auth(sandbox, ACME)
    )
    owned = await client.get(f"{V}/{ACME}/owned_pixels", headers=auth(sandbox, ACME))
    clients = await client.get(f"{V}/{BRIGHT}/client_pixels", headers=auth(sandbox, BRIGHT))
    accounts = await client.get(f"{V}/{BRIGHT}/owned_ad_accounts", headers=auth(sandbox, BRIGHT))
    usable = await client.get(f"{V}/{BRIGHT}/client_ad_accounts", headers=auth(sandbox, BRIGHT))
    nosy = await client.get(f"{V}/{ACME}/owned_pixels", headers=auth(sandbox, NOVA))

    assert node.json() == {"id": BRIGHT, "name": "Bright Agency"}
    assert [p["id"] for p in owned.json()["data"]] == [PIXEL_WEB, PIXEL_CHECKOUT, PIXEL_OUTLET]
    assert clients.json()["data"][0]["permitted_tasks"] == ["ANALYZE", "ADVERTISE"]
    assert accounts.json()["data"][0] == {
        "id": "act_500600700800911",
        "account_id": "500600700800911",
        "name": "Bright Agency - Acme campaigns",
    }
    assert [a["account_id"] for a in usable.json()["data"]] == ["500600700800902"]
    assert error_of(nosy)["code"] == 200


async def test_ad_account_node_needs_act_prefix(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    node = await client.get(f"{V}/act_500600700800911", headers=auth(sandbox, BRIGHT))
    bare = await client.get(f"{V}/500600700800911", headers=auth(sandbox, BRIGHT))

    assert node.json() == {"id": "act_500600700800911", "account_id": "500600700800911"}
    assert error_of(bare)["error_subcode"] == 33


async def test_paging_follows_next_until_absent(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    url, seen, pages = f"{V}/{ACME}/owned_pixels?limit=2", [], 0
    while url:
        response = await client.get(url, headers=auth(sandbox, ACME))
        body = response.json()
        seen += [p["id"] for p in body["data"]]
        pages += 1
        url = body["paging"].get("next", "")
        assert sandbox.world.token_for(ACME) not in url
        assert not url or url.startswith("http://graph.test/v25.0/")

    assert (seen, pages) == ([PIXEL_WEB, PIXEL_CHECKOUT, PIXEL_OUTLET], 2)


async def test_paging_cursors_after_and_before(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    first = (
        await client.get(
            f"{V}/{ACME}/owned_pixels", params={"limit": 1}, headers=auth(sandbox, ACME)
        )
    ).json()
    after = first["paging"]["cursors"]["after"]
    second = (
        await client.get(
            f"{V}/{ACME}/owned_pixels",
            params={"limit": 1, "after": after},
            headers=auth(sandbox, ACME),
        )
    ).json()
    back = await client.get(second["paging"]["previous"], headers=auth(sandbox, ACME))
    bad = await client.get(
        f"{V}/{ACME}/owned_pixels", params={"after": "nonsense!"}, headers=auth(sandbox, ACME)
    )

    assert [p["id"] for p in second["data"]] == [PIXEL_CHECKOUT]
    assert [p["id"] for p in back.json()["data"]] == [PIXEL_WEB]
    assert "previous" not in first["paging"]
    assert error_of(bad)["code"] == 100


async def test_unknown_ids_and_paths_are_100_33(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    unknown = await client.get(f"{V}/999999999999999", headers=auth(sandbox, ACME))
    edge = await client.post(f"{V}/{PIXEL_WEB}/colours", headers=auth(sandbox, ACME))
    deep = await client.get(f"{V}/{PIXEL_WEB}/agencies/extra", headers=auth(sandbox, ACME))

    assert unknown.status_code == 400
    error = error_of(unknown)
    assert error["message"].startswith(
        "Unsupported get request. Object with ID '999999999999999' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation"
    )
    assert (error["code"], error["error_subcode"], error["type"]) == (
        100,
        33,
        "GraphMethodException",
    )
    assert error_of(edge)["message"].startswith(
        f"Unsupported post request. Object with ID '{PIXEL_WEB}'"
    )
    assert error_of(deep)["error_subcode"] == 33


@pytest.mark.parametrize("prefix", ["/v25.0", "/v26.0", "/v19.0", ""])
async def test_any_version_prefix(client: httpx.AsyncClient, sandbox: Sandbox, prefix: str) -> None:
    response = await client.get(f"{prefix}/{PIXEL_WEB}", headers=auth(sandbox, ACME))

    assert response.status_code == 200
    assert response.headers["facebook-api-version"] == (prefix.strip("/") or "v25.0")


async def test_a_mount_prefix_before_the_version_is_kept_in_links(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await client.get(
        f"/mount/v25.0/{ACME}/owned_pixels", params={"limit": 1}, headers=auth(sandbox, ACME)
    )

    assert response.json()["paging"]["next"].startswith(f"http://graph.test/mount/v25.0/{ACME}/")


async def test_an_asgi_root_path_is_honoured(sandbox: Sandbox) -> None:
    transport = httpx.ASGITransport(app=sandbox, root_path="/graph")
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as client:
        response = await client.get(
            f"/graph/v25.0/{ACME}/owned_pixels", params={"limit": 1}, headers=auth(sandbox, ACME)
        )

    assert response.json()["paging"]["next"].startswith("http://graph.test/graph/v25.0/")
