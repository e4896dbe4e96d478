"""The control API (`/_sandbox/...`) and its Python twins: changes behind the bot's back."""

from __future__ import annotations

import httpx
import pytest

from bot.sandbox import Sandbox
from bot.sandbox.world import WorldStateError
from tests.sandbox.support import (
    ACME,
    BRIGHT,
    NOVA,
    PIXEL_CHECKOUT,
    PIXEL_OUTLET,
    PIXEL_WEB,
    V,
    auth,
    error_of,
    share,
)


async def pending(client: httpx.AsyncClient, sandbox: Sandbox) -> str:
    request_id: str = (await share(client, sandbox, PIXEL_CHECKOUT, NOVA)).json()[
        "pending_request_id"
    ]
    return request_id


@pytest.mark.parametrize(("decision", "granted"), [("APPROVE", True), ("DECLINE", False)])
async def test_decided_in_business_settings(
    client: httpx.AsyncClient, sandbox: Sandbox, decision: str, granted: bool
) -> None:
    request_id = await pending(client, sandbox)

    decided = await client.post(
        f"/_sandbox/requests/{request_id}/decide", json={"request_status": decision}
    )
    by_bot = await client.post(
        f"{V}/{request_id}", data={"request_status": "APPROVE"}, headers=auth(sandbox, NOVA)
    )

    assert decided.json()["request_status"] == decision
    assert (NOVA in sandbox.world.pixels[PIXEL_CHECKOUT].agencies) is granted
    assert error_of(by_bot)["code"] == 100


async def test_listing_requests_and_the_world(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    request_id = await pending(client, sandbox)

    requests = (await client.get("/_sandbox/requests")).json()["requests"]
    world = (await client.get("/_sandbox/world")).json()

    assert requests == [
        {
            "id": request_id,
            "request_status": "PENDING",
            "requesting_business_id": ACME,
            "receiving_business_id": NOVA,
            "assets": {PIXEL_CHECKOUT: ["ANALYZE"]},
            "created_time": sandbox.world.agreements[request_id].created_time.isoformat(),
        }
    ]
    assert [b["name"] for b in world["businesses"]] == ["Acme Shoes", "Bright Agency", "Nova Media"]
    assert "EAA" not in str(world)


async def test_agency_removed_from_a_pixel(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    removed = await client.post(
        "/_sandbox/partners/remove", json={"pixel_id": PIXEL_WEB, "business_id": BRIGHT}
    )

    assert removed.json() == {"ok": True, "changed": True}
    listed = await client.get(f"{V}/{PIXEL_WEB}/agencies", headers=auth(sandbox, ACME))
    assert listed.json()["data"] == []


async def test_relationship_ended_and_restored(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.post("/_sandbox/partners/remove", json={"business_ids": [ACME, BRIGHT]})
    pending_now = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)
    await client.post("/_sandbox/partners/add", json={"business_ids": [ACME, NOVA]})
    immediate = await share(client, sandbox, PIXEL_OUTLET, NOVA)

    assert "pending_request_id" in pending_now.json()
    assert immediate.json() == {"success": True}


async def test_calls_are_listed_and_cleared(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, ACME))

    calls = (await client.get("/_sandbox/calls")).json()["calls"]
    await client.delete("/_sandbox/calls")

    assert [(c["method"], c["path"], c["business_id"], c["status"]) for c in calls] == [
        ("GET", f"/{PIXEL_WEB}", ACME, 200)
    ]
    assert sandbox.calls == []


async def test_reset_restores_the_world(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await pending(client, sandbox)
    sandbox.faults.transient(times=None, path="nothing-matches")

    await client.post("/_sandbox/reset")

    assert sandbox.world.agreements == {}
    assert sandbox.faults.rules == []
    assert sandbox.calls == []
    assert (await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, ACME))).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "json_body", "status"),
    [
        ("GET", "/_sandbox/nothing", None, 404),
        ("POST", "/_sandbox/requests/123456789012345/expire", None, 404),
        ("POST", "/_sandbox/requests/{id}/decide", {"request_status": "MAYBE"}, 400),
        ("POST", "/_sandbox/partners/remove", {"pixel_id": PIXEL_WEB}, 400),
        ("POST", "/_sandbox/partners/add", {"business_ids": [ACME]}, 400),
        ("POST", "/_sandbox/tokens/expire", {}, 400),
    ],
)
async def test_control_errors(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    method: str,
    path: str,
    json_body: object,
    status: int,
) -> None:
    request_id = await pending(client, sandbox)

    response = await client.request(method, path.format(id=request_id), json=json_body)

    assert response.status_code == status
    assert response.json()["error"]


async def test_deciding_twice_via_control_is_a_conflict(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending(client, sandbox)
    await client.post(f"/_sandbox/requests/{request_id}/expire")

    again = await client.post(f"/_sandbox/requests/{request_id}/cancel")
    not_json = await client.post(f"/_sandbox/requests/{request_id}/decide", content=b"{")

    assert again.status_code == 409
    assert "already EXPIRED" in again.json()["error"]
    assert not_json.status_code == 400


async def test_python_twins_of_the_control_api(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    world = sandbox.world
    request_id = await pending(client, sandbox)

    world.expire_request(request_id)
    with pytest.raises(WorldStateError):
        world.cancel_request(request_id)
    second = await pending(client, sandbox)
    world.decide(second, "APPROVE")
    world.unshare(PIXEL_WEB, BRIGHT)
    world.remove_partnership(ACME, NOVA)
    world.expire_tokens(BRIGHT)

    assert world.agreements[request_id].status == "EXPIRED"
    assert world.pixel_tasks(NOVA, PIXEL_CHECKOUT) == ["ANALYZE"]
    assert world.pixel_tasks(BRIGHT, PIXEL_WEB) is None
    assert not world.are_partners(ACME, NOVA)
    expired = await client.get(f"{V}/{BRIGHT}", headers=auth(sandbox, BRIGHT))
    assert error_of(expired)["error_subcode"] == 463
    sandbox.reset()
    assert sandbox.world.pixel_tasks(BRIGHT, PIXEL_WEB) == ["ANALYZE", "ADVERTISE"]
