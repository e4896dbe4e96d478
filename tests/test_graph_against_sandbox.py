"""The real Graph client against the sandbox, in-process: every product call, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.flows.meta.errors import GraphAuthError, GraphInvalidParameter, GraphPermissionError
from bot.flows.meta.types import ShareStatus
from bot.graph.client import GraphClient
from bot.sandbox import Sandbox, create_sandbox
from bot.sandbox_mode import sandbox_graph_client

ACME, BRIGHT, NOVA = "100200300400501", "100200300400502", "100200300400503"
WEBSITE, CHECKOUT = "300400500600701", "300400500600702"


@pytest.fixture
def sandbox() -> Sandbox:
    return create_sandbox()


@pytest.fixture
async def graph(sandbox: Sandbox) -> AsyncIterator[GraphClient]:
    client = sandbox_graph_client(sandbox, "v25.0")
    yield client
    await client.aclose()


def token(sandbox: Sandbox, business: str) -> SecretStr:
    return SecretStr(sandbox.world.token_for(business))


async def test_share_with_a_partner_is_immediate(graph: GraphClient, sandbox: Sandbox) -> None:
    result = await graph.share_pixel(token(sandbox, ACME), CHECKOUT, BRIGHT, ["ANALYZE"])
    assert result.status is ShareStatus.SHARED
    agencies = await graph.list_agencies(token(sandbox, ACME), CHECKOUT)
    assert [(a.id, list(a.permitted_tasks)) for a in agencies] == [(BRIGHT, ["ANALYZE"])]


async def test_pending_share_approved_by_the_agency(graph: GraphClient, sandbox: Sandbox) -> None:
    result = await graph.share_pixel(token(sandbox, ACME), CHECKOUT, NOVA, ["ANALYZE", "UPLOAD"])
    assert result.status is ShareStatus.PENDING
    request_id = result.pending_request_id
    assert request_id is not None and request_id.isdigit()
    assert (await graph.get_request(token(sandbox, NOVA), request_id)).is_pending
    received = await graph.list_received_requests(token(sandbox, NOVA), NOVA)
    assert request_id in [r.id for r in received]
    with pytest.raises((GraphPermissionError, GraphInvalidParameter)):
        await graph.approve_request(token(sandbox, ACME), request_id)  # owner cannot decide
    await graph.approve_request(token(sandbox, NOVA), request_id)
    assert (await graph.get_request(token(sandbox, NOVA), request_id)).is_approved
    agencies = await graph.list_agencies(token(sandbox, ACME), CHECKOUT)
    assert NOVA in [a.id for a in agencies]
    with pytest.raises(GraphInvalidParameter):
        await graph.decline_request(token(sandbox, NOVA), request_id)  # already decided


async def test_decline_and_unshare(graph: GraphClient, sandbox: Sandbox) -> None:
    result = await graph.share_pixel(token(sandbox, ACME), CHECKOUT, NOVA, ["ANALYZE"])
    assert result.pending_request_id is not None
    await graph.decline_request(token(sandbox, NOVA), result.pending_request_id)
    status = await graph.get_request(token(sandbox, NOVA), result.pending_request_id)
    assert status.request_status == "DECLINE"
    await graph.unshare_pixel(token(sandbox, ACME), WEBSITE, BRIGHT)
    assert BRIGHT not in [a.id for a in await graph.list_agencies(token(sandbox, ACME), WEBSITE)]


async def test_read_calls(graph: GraphClient, sandbox: Sandbox) -> None:
    pixel = await graph.get_pixel(token(sandbox, ACME), WEBSITE)
    assert pixel.name == "Acme Shoes - Website"
    assert pixel.owner_business is not None and pixel.owner_business.id == ACME
    assert (await graph.get_business(token(sandbox, ACME), ACME)).name == "Acme Shoes"
    owned = await graph.list_owned_pixels(token(sandbox, ACME), ACME)
    assert {p.id for p in owned} >= {WEBSITE, CHECKOUT}
    client = await graph.list_client_pixels(token(sandbox, BRIGHT), BRIGHT)
    assert WEBSITE in {p.id for p in client}
    sent = await graph.send_test_event(
        token(sandbox, ACME),
        WEBSITE,
        [
            {
                "event_name": "PageView",
                "action_source": "website",
                "event_time": int(__import__("time").time()),
            }
        ],
        "TEST1",
    )
    assert sent.events_received == 1


async def test_link_accounts_in_batches(graph: GraphClient, sandbox: Sandbox) -> None:
    progress: list[tuple[int, int]] = []

    async def on_chunk(done: int, total: int) -> None:
        progress.append((done, total))

    results = await graph.link_ad_accounts(
        token(sandbox, BRIGHT),
        WEBSITE,
        BRIGHT,
        ["500600700800911", "act_500600700800912", "500600700800921"],
        on_chunk=on_chunk,
    )
    assert [r.ok for r in results] == [True, True, False]  # Nova's account: Sept 2024 rule
    assert progress == [(3, 3)]
    linked = await graph.list_shared_accounts(token(sandbox, BRIGHT), WEBSITE, BRIGHT)
    assert {a.account_id for a in linked} == {"500600700800911", "500600700800912"}
    await graph.unlink_ad_account(token(sandbox, BRIGHT), WEBSITE, BRIGHT, "500600700800911")
    linked = await graph.list_shared_accounts(token(sandbox, BRIGHT), WEBSITE, BRIGHT)
    assert {a.account_id for a in linked} == {"500600700800912"}


async def test_unknown_token_and_wrong_owner(graph: GraphClient, sandbox: Sandbox) -> None:
    with pytest.raises(GraphAuthError) as caught:
        await graph.get_pixel(SecretStr("EAAnotATokenTheSandboxKnows00"), WEBSITE)
    assert caught.value.code == 190 and caught.value.fbtrace_id
    with pytest.raises((GraphPermissionError, GraphInvalidParameter)):
        await graph.share_pixel(token(sandbox, NOVA), CHECKOUT, BRIGHT, ["ANALYZE"])
