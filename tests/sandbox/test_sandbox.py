"""The sandbox's Meta semantics for sharing a pixel: immediate, pending, approve, decline."""

from __future__ import annotations

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
    V,
    auth,
    error_of,
    share,
)


async def agencies(
    client: httpx.AsyncClient, sandbox: Sandbox, pixel: str
) -> list[dict[str, object]]:
    response = await client.get(f"{V}/{pixel}/agencies", headers=auth(sandbox, ACME))
    assert response.status_code == 200
    data: list[dict[str, object]] = response.json()["data"]
    return data


async def status_of(client: httpx.AsyncClient, sandbox: Sandbox, request_id: str) -> str:
    response = await client.get(
        f"{V}/{request_id}", params={"fields": "id,request_status"}, headers=auth(sandbox, ACME)
    )
    assert response.json()["id"] == request_id
    status: str = response.json()["request_status"]
    return status


async def decide(
    client: httpx.AsyncClient, sandbox: Sandbox, request_id: str, decision: str, who: str = NOVA
) -> httpx.Response:
    return await client.post(
        f"{V}/{request_id}", data={"request_status": decision}, headers=auth(sandbox, who)
    )


async def pending_to_nova(client: httpx.AsyncClient, sandbox: Sandbox, pixel: str) -> str:
    response = await share(client, sandbox, pixel, NOVA, "ANALYZE", "UPLOAD")
    assert response.status_code == 200
    request_id: str = response.json()["pending_request_id"]
    return request_id


async def test_share_with_a_partner_happens_at_once(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT, "ANALYZE", "ADVERTISE")

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert await agencies(client, sandbox, PIXEL_CHECKOUT) == [
        {"id": BRIGHT, "name": "Bright Agency", "permitted_tasks": ["ANALYZE", "ADVERTISE"]}
    ]


async def test_share_with_a_stranger_goes_pending(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)

    assert request_id.isdigit() and 15 <= len(request_id) <= 16
    assert await agencies(client, sandbox, PIXEL_CHECKOUT) == []
    assert await status_of(client, sandbox, request_id) == "PENDING"
    received = await client.get(
        f"{V}/{NOVA}/received_sharing_agreements",
        params={"request_status": "PENDING", "requesting_business_id": ACME},
        headers=auth(sandbox, NOVA),
    )
    assert received.json()["data"] == [{"id": request_id, "request_status": "PENDING"}]
    initiated = await client.get(
        f"{V}/{ACME}/initiated_sharing_agreements",
        params={"receiving_business_id": NOVA},
        headers=auth(sandbox, ACME),
    )
    assert initiated.json()["data"] == [{"id": request_id, "request_status": "PENDING"}]


async def test_sharing_again_while_pending_adds_to_the_same_request(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    first = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)
    again = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)
    other_pixel = await pending_to_nova(client, sandbox, PIXEL_OUTLET)

    assert first == again == other_pixel
    assert set(sandbox.world.agreements[first].assets) == {PIXEL_CHECKOUT, PIXEL_OUTLET}


async def test_the_agency_approves(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)

    response = await decide(client, sandbox, request_id, "APPROVE")

    assert response.json() == {"success": True}
    assert await status_of(client, sandbox, request_id) == "APPROVE"
    assert await agencies(client, sandbox, PIXEL_CHECKOUT) == [
        {"id": NOVA, "name": "Nova Media", "permitted_tasks": ["ANALYZE", "UPLOAD"]}
    ]
    client_pixels = await client.get(f"{V}/{NOVA}/client_pixels", headers=auth(sandbox, NOVA))
    assert client_pixels.json()["data"] == [
        {
            "id": PIXEL_CHECKOUT,
            "name": "Acme Shoes - Checkout",
            "permitted_tasks": ["ANALYZE", "UPLOAD"],
        }
    ]
    # The relationship is approved now, so the next share needs no request.
    assert (await share(client, sandbox, PIXEL_OUTLET, NOVA)).json() == {"success": True}


async def test_the_agency_declines(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)

    response = await decide(client, sandbox, request_id, "DECLINE")

    assert response.json() == {"success": True}
    assert await status_of(client, sandbox, request_id) == "DECLINE"
    assert await agencies(client, sandbox, PIXEL_CHECKOUT) == []
    assert "pending_request_id" in (await share(client, sandbox, PIXEL_OUTLET, NOVA)).json()


async def test_the_owner_cannot_approve_its_own_request(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)

    by_owner = await decide(client, sandbox, request_id, "APPROVE", who=ACME)
    by_stranger = await decide(client, sandbox, request_id, "APPROVE", who=BRIGHT)

    assert error_of(by_owner)["code"] == 200
    assert "Nova Media" in error_of(by_owner)["error_user_msg"]
    assert error_of(by_stranger)["error_subcode"] == 33
    assert await status_of(client, sandbox, request_id) == "PENDING"


@pytest.mark.parametrize(
    ("first", "then", "word"),
    [("APPROVE", "DECLINE", "approved"), ("DECLINE", "APPROVE", "declined")],
)
async def test_deciding_twice_is_refused(
    client: httpx.AsyncClient, sandbox: Sandbox, first: str, then: str, word: str
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)
    await decide(client, sandbox, request_id, first)

    response = await decide(client, sandbox, request_id, then)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert f"already {word}" in error["message"]
    assert error["error_user_title"] == f"Request already {word}"


async def test_a_request_expired_in_business_settings_cannot_be_decided(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)

    expired = await client.post(f"/_sandbox/requests/{request_id}/expire")
    response = await decide(client, sandbox, request_id, "APPROVE")

    assert expired.json()["request_status"] == "EXPIRED"
    assert await status_of(client, sandbox, request_id) == "EXPIRED"
    assert "already expired" in error_of(response)["message"]


async def test_delete_cancels_a_pending_request(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)
    await pending_to_nova(client, sandbox, PIXEL_OUTLET)
    params = {"business": NOVA}

    first = await client.delete(
        f"{V}/{PIXEL_CHECKOUT}/agencies", params=params, headers=auth(sandbox, ACME)
    )
    assert first.json() == {"success": True}
    assert await status_of(client, sandbox, request_id) == "PENDING"  # the outlet pixel is left
    await client.delete(f"{V}/{PIXEL_OUTLET}/agencies", params=params, headers=auth(sandbox, ACME))

    assert await status_of(client, sandbox, request_id) == "CANCELED"
    assert (
        "already canceled"
        in error_of(await decide(client, sandbox, request_id, "APPROVE"))["message"]
    )


async def test_a_request_cancelled_behind_the_bots_back(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_CHECKOUT)

    await client.post(f"/_sandbox/requests/{request_id}/cancel")

    assert await status_of(client, sandbox, request_id) == "CANCELED"


async def test_delete_removes_access(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.delete(
        f"{V}/{PIXEL_WEB}/agencies", params={"business": BRIGHT}, headers=auth(sandbox, ACME)
    )

    assert response.json() == {"success": True}
    assert await agencies(client, sandbox, PIXEL_WEB) == []
    gone = await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, BRIGHT))
    assert error_of(gone)["error_subcode"] == 33


async def test_an_agency_sees_only_itself_among_agencies(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await pending_to_nova(client, sandbox, PIXEL_WEB)
    await decide(client, sandbox, request_id, "APPROVE")

    as_bright = await client.get(f"{V}/{PIXEL_WEB}/agencies", headers=auth(sandbox, BRIGHT))

    assert [a["id"] for a in await agencies(client, sandbox, PIXEL_WEB)] == [BRIGHT, NOVA]
    assert [a["id"] for a in as_bright.json()["data"]] == [BRIGHT]
