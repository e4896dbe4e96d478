"""World files: the demo world, YAML and JSON loading, and errors that say where and why."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.sandbox.loader import (
    DEMO_WORLD_PATH,
    WorldFileError,
    load_demo_world,
    load_world,
    world_from_data,
)

A, B = "111111111111111", "222222222222222"
PIXEL, ACCOUNT, REQUEST = "333333333333333", "4444444444444444", "555555555555555"
MINIMAL: dict[str, Any] = {
    "settings": {"app_secret": "s", "edit_allowlisted": True, "hourly_call_budget": 10},
    "businesses": [
        {
            "id": A,
            "name": "Owner",
            "tokens": ["tok-a"],
            "expired_tokens": ["tok-a-old"],
            "pixels": [
                {
                    "id": PIXEL,
                    "name": "P",
                    "agencies": [{"business": B, "tasks": ["UPLOAD"]}],
                    "linked_accounts": [{"business": B, "account": f"act_{ACCOUNT}"}],
                }
            ],
        },
        {
            "id": B,
            "name": "Agency",
            "tokens": ["tok-b"],
            "ad_accounts": [{"id": ACCOUNT, "name": "AA", "users": [A]}],
        },
    ],
    "partners": [[A, B]],
    "requests": [
        {
            "id": REQUEST,
            "from": A,
            "to": B,
            "status": "DECLINE",
            "assets": [{"pixel": PIXEL, "tasks": ["ANALYZE"]}],
        }
    ],
}


def test_the_demo_world() -> None:
    world = load_demo_world()

    names = {b.name: b.id for b in world.businesses.values()}
    assert set(names) == {"Acme Shoes", "Bright Agency", "Nova Media"}
    acme, bright, nova = names["Acme Shoes"], names["Bright Agency"], names["Nova Media"]
    assert len([p for p in world.pixels.values() if p.owner_id == acme]) == 3
    assert world.are_partners(acme, bright) and not world.are_partners(acme, nova)
    for business_id in names.values():
        assert world.businesses[business_id].tokens
        assert len([a for a in world.ad_accounts.values() if a.owner_id == business_id]) >= 2
    every_id = [*world.businesses, *world.pixels, *world.ad_accounts]
    assert all(i.isdigit() and 15 <= len(i) <= 16 for i in every_id)
    assert DEMO_WORLD_PATH.name == "demo_world.yaml"


def test_a_full_world_from_data() -> None:
    world = world_from_data(MINIMAL)

    assert world.settings.app_secret == "s" and world.settings.edit_allowlisted
    assert world.business_of_token("tok-a-old") == A and "tok-a-old" in world.expired_tokens
    assert world.pixels[PIXEL].agencies == {B: ["UPLOAD"]}
    assert world.pixels[PIXEL].linked_accounts == {(B, ACCOUNT)}
    assert world.ad_accounts[ACCOUNT].users == {A}
    assert world.agreements[REQUEST].status == "DECLINE"


def test_yaml_with_unquoted_ids_and_json_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "world.yaml"
    yaml_file.write_text(
        f"businesses:\n  - id: {A}\n    name: Solo\n    tokens: [t]\n", encoding="utf-8"
    )
    json_file = tmp_path / "world.json"
    json_file.write_text(json.dumps(MINIMAL), encoding="utf-8")

    assert list(load_world(yaml_file).businesses) == [A]
    assert PIXEL in load_world(json_file).pixels


def broken(path: str, value: Any) -> dict[str, Any]:
    """MINIMAL with one value replaced; `path` is dotted with list indexes."""
    data = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is KeyError:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("businesses", KeyError, "top level: missing key 'businesses'"),
        ("businesses", [], "businesses: at least one business"),
        ("colour", "red", "top level: unknown key 'colour'"),
        ("businesses.0.id", "12", "businesses[0].id: expected a numeric id of 15-16 digits"),
        ("businesses.1.id", A, f"businesses[1].id: id {A} is used twice"),
        ("businesses.0.name", "", "businesses[0].name: expected a non-empty string"),
        ("businesses.1.tokens", ["tok-a"], "businesses[1].tokens[0]: tokens must be unique"),
        ("businesses.0.pixels.0.agencies.0.business", "999999999999999", "no business has id"),
        ("businesses.0.pixels.0.agencies.0.tasks", ["FLY"], "agencies[0].tasks: tasks must be"),
        ("businesses.0.pixels.0.agencies.0.business", A, "cannot be shared with its owner"),
        ("businesses.0.pixels.0.creation_time", "yesterday", "creation_time: expected an ISO-8601"),
        ("businesses.0.pixels.0.is_unavailable", "no", "is_unavailable: expected true or false"),
        ("businesses.0.pixels.0.linked_accounts.0.account", "999999999999999", "no ad account"),
        ("businesses.1.ad_accounts.0.users", [B, "x"], "users[1]: expected a numeric id"),
        ("settings.hourly_call_budget", 0, "hourly_call_budget: expected a positive integer"),
        ("partners.0", [A, A], "partners[0]: a partnership is a list of two"),
        ("requests.0.status", "MAYBE", "requests[0].status: expected one of"),
        ("requests.0.from", B, "is not a pixel of business"),
        ("requests.0.id", PIXEL, "is used twice"),
    ],
)
def test_invalid_worlds_say_where(path: str, value: Any, expected: str) -> None:
    with pytest.raises(WorldFileError) as caught:
        world_from_data(broken(path, value), "my-world.yaml")

    assert expected in str(caught.value)
    assert str(caught.value).startswith("my-world.yaml: ")
    assert isinstance(caught.value, ConfigError)


def test_unreadable_files(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("businesses: [\n", encoding="utf-8")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{", encoding="utf-8")

    with pytest.raises(WorldFileError, match="cannot read the world file"):
        load_world(tmp_path / "missing.yaml")
    with pytest.raises(WorldFileError, match="not valid YAML"):
        load_world(bad_yaml)
    with pytest.raises(WorldFileError, match="not valid JSON"):
        load_world(bad_json)
    with pytest.raises(WorldFileError, match="expected a mapping"):
        world_from_data(["not", "a", "mapping"])
