"""Linking pixels to ad accounts (the September 2024 rule) and sending events (CAPI)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import (
    ACME,
    ACME_ACCOUNT,
    ACME_ACCOUNT_FOR_BRIGHT,
    BRIGHT,
    BRIGHT_ACCOUNT,
    NOVA,
    NOVA_ACCOUNT,
    PIXEL_CHECKOUT,
    PIXEL_WEB,
    START,
    V,
    auth,
    error_of,
    share,
)


async def link(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    pixel: str,
    account: str,
    business: str = BRIGHT,
    method: str = "POST",
    token_of: str | None = None,
) -> httpx.Response:
    params = {"business": business, "account_id": account}
    headers = auth(sandbox, token_of or business)
    if method == "POST":
        return await client.post(f"{V}/{pixel}/shared_accounts", data=params, headers=headers)
    return await client.request(
        method, f"{V}/{pixel}/shared_accounts", params=params, headers=headers
    )


async def linked(
    client: httpx.AsyncClient, sandbox: Sandbox, pixel: str, business: str = BRIGHT
) -> list[object]:
    response = await client.get(
        f"{V}/{pixel}/shared_accounts",
        params={"business": business},
        headers=auth(sandbox, business),
    )
    assert response.status_code == 200, response.json()
    data: list[object] = response.json()["data"]
    return data


async def test_a_business_with_both_pixel_and_account_links_them(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    own_account = await link(client, sandbox, PIXEL_WEB, BRIGHT_ACCOUNT)
    again = await link(client, sandbox, PIXEL_WEB, BRIGHT_ACCOUNT)
    clients_account = await link(client, sandbox, PIXEL_WEB, ACME_ACCOUNT_FOR_BRIGHT)

    assert own_account.json() == again.json() == clients_account.json() == {"success": True}
    assert await linked(client, sandbox, PIXEL_WEB) == [
        {
            "id": f"act_{ACME_ACCOUNT_FOR_BRIGHT}",
            "account_id": ACME_ACCOUNT_FOR_BRIGHT,
            "name": "Acme Shoes - Retargeting",
        },
        {
            "id": f"act_{BRIGHT_ACCOUNT}",
            "account_id": BRIGHT_ACCOUNT,
            "name": "Bright Agency - Acme campaigns",
        },
    ]


async def test_september_2024_rule_needs_the_pixel(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await link(client, sandbox, PIXEL_CHECKOUT, BRIGHT_ACCOUNT)

    error = error_of(response)
    assert error["code"] == 100
    assert "September 2024" in error["error_user_msg"]
    assert "access to both" in error["error_user_msg"]
    assert "pixel" in error["error_user_title"]


async def test_september_2024_rule_needs_the_ad_account(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    someone_elses = await link(client, sandbox, PIXEL_WEB, NOVA_ACCOUNT)
    owner_with_agency_account = await link(
        client, sandbox, PIXEL_WEB, BRIGHT_ACCOUNT, business=ACME
    )

    for response in (someone_elses, owner_with_agency_account):
        error = error_of(response)
        assert error["code"] == 100
        assert "ad account" in error["error_user_title"]
        assert "September 2024" in error["error_user_msg"]


async def test_upload_only_access_is_not_enough_to_link(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await share(client, sandbox, PIXEL_WEB, BRIGHT, "UPLOAD")

    response = await link(client, sandbox, PIXEL_WEB, BRIGHT_ACCOUNT)

    assert "no ADVERTISE or ANALYZE access" in error_of(response)["error_user_msg"]


async def test_the_owner_links_its_own_accounts(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await link(client, sandbox, PIXEL_CHECKOUT, ACME_ACCOUNT, business=ACME)

    assert response.json() == {"success": True}
    assert len(await linked(client, sandbox, PIXEL_CHECKOUT, ACME)) == 1


@pytest.mark.parametrize(
    ("account", "token_of", "code", "text"),
    [
        (f"act_{BRIGHT_ACCOUNT}", None, 100, "without act_"),
        ("999999999999999", None, 100, "valid ad account"),
        (BRIGHT_ACCOUNT, ACME, 200, "Use a token of Bright Agency"),
    ],
)
async def test_bad_link_params(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    account: str,
    token_of: str | None,
    code: int,
    text: str,
) -> None:
    response = await link(client, sandbox, PIXEL_WEB, account, token_of=token_of)

    error = error_of(response)
    assert error["code"] == code
    assert text in error["message"] + error.get("error_user_msg", "")


async def test_unlink_and_unshare_remove_links(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await link(client, sandbox, PIXEL_WEB, BRIGHT_ACCOUNT)
    await link(client, sandbox, PIXEL_WEB, ACME_ACCOUNT_FOR_BRIGHT)

    unlinked = await link(client, sandbox, PIXEL_WEB, BRIGHT_ACCOUNT, method="DELETE")
    assert unlinked.json() == {"success": True}
    assert len(await linked(client, sandbox, PIXEL_WEB)) == 1
    await client.delete(
        f"{V}/{PIXEL_WEB}/agencies", params={"business": BRIGHT}, headers=auth(sandbox, ACME)
    )
    assert sandbox.world.pixels[PIXEL_WEB].linked_accounts == set()


def event(age: timedelta = timedelta(minutes=5), **extra: object) -> dict[str, object]:
    return {
        "event_name": "Purchase",
        "event_time": int((START - age).timestamp()),
        "action_source": "website",
        "user_data": {"em": ["309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd"]},
        **extra,
    }


async def send_events(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    events: list[dict[str, object]],
    who: str = ACME,
    **extra: str,
) -> httpx.Response:
    return await client.post(
        f"{V}/{PIXEL_WEB}/events",
        data={"data": json.dumps(events), **extra},
        headers=auth(sandbox, who),
    )


async def test_events_are_received(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await send_events(client, sandbox, [event(), event()])

    body = response.json()
    assert (body["events_received"], body["messages"]) == (2, [])
    assert body["fbtrace_id"] == response.headers["x-fb-trace-id"]
    assert sandbox.world.pixels[PIXEL_WEB].last_fired_time == START


async def test_test_events_do_not_fire_the_pixel(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    before = sandbox.world.pixels[PIXEL_WEB].last_fired_time

    response = await send_events(client, sandbox, [event()], test_event_code="TEST123")

    assert response.json()["events_received"] == 1
    assert sandbox.world.pixels[PIXEL_WEB].last_fired_time == before


async def test_events_older_than_seven_days_reject_the_request(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await send_events(client, sandbox, [event(), event(timedelta(days=8))])
    store = await send_events(
        client, sandbox, [event(timedelta(days=8), action_source="physical_store")]
    )

    assert error_of(response)["error_subcode"] == 2804003
    assert sandbox.world.pixels[PIXEL_WEB].events_received == 1  # only the store event
    assert store.json()["events_received"] == 1


async def test_at_most_1000_events(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await send_events(client, sandbox, [event()] * 1001)

    assert "at most 1000 events" in error_of(response)["message"]


@pytest.mark.parametrize(
    "data", ["not json", '{"event_name": "x"}', '["x"]', '[{"event_name": "x"}]']
)
async def test_malformed_events(client: httpx.AsyncClient, sandbox: Sandbox, data: str) -> None:
    response = await client.post(
        f"{V}/{PIXEL_WEB}/events", data={"data": data}, headers=auth(sandbox, ACME)
    )

    assert error_of(response)["code"] == 100


async def test_sending_events_needs_upload(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    refused = await send_events(client, sandbox, [event()], who=BRIGHT)
    await share(client, sandbox, PIXEL_WEB, BRIGHT, "ANALYZE", "UPLOAD")
    allowed = await send_events(client, sandbox, [event()], who=BRIGHT)
    stranger = await send_events(client, sandbox, [event()], who=NOVA)

    assert error_of(refused)["code"] == 200
    assert allowed.json()["events_received"] == 1
    assert error_of(stranger)["error_subcode"] == 33
