"""Meta variants: readings of Meta its documentation leaves open, played on demand
(bot/sandbox/variants.py; docs/meta.md lists what each guards)."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.sandbox import Sandbox
from bot.sandbox.loader import WorldFileError, world_from_data
from bot.sandbox.variants import VARIANTS
from tests.sandbox.support import ACME, NOVA, auth

PIXEL = "300400500600702"


async def _request(client: httpx.AsyncClient, sandbox: Sandbox) -> str:
    shared = await client.post(
        f"/v25.0/{PIXEL}/agencies",
        data={"business": NOVA, "permitted_tasks": '["ANALYZE"]'},
        headers=auth(sandbox, ACME),
    )
    return str(shared.json()["pending_request_id"])


async def test_by_default_both_sides_read_a_request(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await _request(client, sandbox)
    for business in (ACME, NOVA):
        read = await client.get(f"/v25.0/{request_id}", headers=auth(sandbox, business))
        assert read.json()["request_status"] == "PENDING"


async def test_requester_cannot_read_answers_the_sender_as_meta_answers_the_unseen(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await _request(client, sandbox)
    played = await client.post("/_sandbox/variants", json={"variants": ["requester_cannot_read"]})
    assert played.json() == {"variants": ["requester_cannot_read"]}
    refused = await client.get(f"/v25.0/{request_id}", headers=auth(sandbox, ACME))
    error = refused.json()["error"]
    assert (refused.status_code, error["code"], error["error_subcode"]) == (400, 100, 33)
    read = await client.get(f"/v25.0/{request_id}", headers=auth(sandbox, NOVA))
    assert read.json()["request_status"] == "PENDING"  # the receiver still may


async def test_a_reset_and_an_empty_list_play_the_default_again(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await client.post("/_sandbox/variants", json={"variants": ["requester_cannot_read"]})
    cleared = await client.post("/_sandbox/variants", json={"variants": []})
    assert cleared.json() == {"variants": []}
    assert sandbox.world.settings.variants == frozenset()


async def test_an_unknown_variant_is_refused_with_the_known_ones(
    client: httpx.AsyncClient,
) -> None:
    refused = await client.post("/_sandbox/variants", json={"variants": ["telepathy"]})
    assert refused.status_code == 400
    assert "telepathy" in refused.text and "requester_cannot_read" in refused.text


def test_a_world_file_selects_variants_and_refuses_unknown_ones() -> None:
    base = {"businesses": [{"id": "100200300400599", "name": "One", "tokens": ["EAAone"]}]}
    world = world_from_data(base | {"settings": {"variants": ["requester_cannot_read"]}})
    assert world.settings.variants == {"requester_cannot_read"}
    with pytest.raises(WorldFileError, match="telepathy"):
        world_from_data(base | {"settings": {"variants": ["telepathy"]}})


def test_every_variant_says_what_it_plays_and_why_it_is_plausible() -> None:
    for variant in VARIANTS.values():
        assert len(variant.plays) > 40 and len(variant.source) > 40, variant.name


def test_the_sandbox_command_offers_each_variant() -> None:
    shown = CliRunner().invoke(main, ["sandbox", "--help"])
    assert "--variant" in shown.output
    refused = CliRunner().invoke(main, ["sandbox", "--variant", "telepathy"])
    assert refused.exit_code == 2 and "requester_cannot_read" in refused.output


async def test_delete_keeps_request_open_leaves_the_request_for_the_agency_to_accept(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    request_id = await _request(client, sandbox)
    await client.post("/_sandbox/variants", json={"variants": ["delete_keeps_request_open"]})
    removed = await client.delete(
        f"/v25.0/{PIXEL}/agencies", params={"business": NOVA}, headers=auth(sandbox, ACME)
    )
    assert removed.json() == {"success": True}
    assert sandbox.world.agreements[request_id].status == "PENDING"
    assert PIXEL in sandbox.world.agreements[request_id].assets
