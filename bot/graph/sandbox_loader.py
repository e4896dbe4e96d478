"""Load and validate a sandbox world file (YAML or JSON); errors name the exact spot."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml

from bot.errors import ConfigError
from bot.graph.sandbox_world import (
    REQUEST_STATUSES,
    TASKS,
    AdAccount,
    Agreement,
    Business,
    Pixel,
    World,
    WorldSettings,
)

DEMO_WORLD_PATH = Path(__file__).with_name("demo_world.yaml")
_ID = re.compile(r"\d{15,16}")
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class WorldFileError(ConfigError):
    """A world file is unreadable or invalid; the message says where and why."""


def load_demo_world() -> World:
    """The built-in demo world (Acme Shoes, Bright Agency, Nova Media)."""
    return load_world(DEMO_WORLD_PATH)


def load_world(path: Path) -> World:
    """Read a world from a `.yaml`/`.yml` or `.json` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldFileError(f"{path}: cannot read the world file ({exc.strerror})") from None
    kind = "JSON" if path.suffix == ".json" else "YAML"
    try:
        data = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())  # YAML errors span lines; keep one line
        raise WorldFileError(f"{path}: not valid {kind}: {reason}") from None
    return world_from_data(data, str(path))


def world_from_data(data: object, source: str = "world") -> World:
    """Build a world from parsed YAML/JSON data, validating every field and reference."""
    reader = _Reader(source)
    top = reader.mapping(data, "", {"businesses"}, {"settings", "partners", "requests"})
    world = World(settings=reader.settings(top.get("settings", {})))
    items = reader.seq(top["businesses"], "businesses")
    if not items:
        reader.fail("businesses", "at least one business is required")
    for index, item in enumerate(items):
        reader.business(world, item, f"businesses[{index}]")
    for index, item in enumerate(items):
        reader.business_links(world, item, f"businesses[{index}]")
    for index, pair in enumerate(reader.seq(top.get("partners", []), "partners")):
        ids = [reader.ref(world, v, f"partners[{index}]") for v in reader.seq(pair, "partners")]
        if len(set(ids)) != 2:
            reader.fail(f"partners[{index}]", "a partnership is a list of two business ids")
        world.add_partnership(ids[0], ids[1])
    for index, item in enumerate(reader.seq(top.get("requests", []), "requests")):
        reader.request(world, item, f"requests[{index}]")
    return world


class _Reader:
    """Typed accessors that fail with `source: location: problem`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen_ids: set[str] = set()
        self.seen_tokens: set[str] = set()

    def fail(self, where: str, problem: str) -> NoReturn:
        """Stop with `source: where: problem`."""
        raise WorldFileError(f"{self.source}: {where or 'top level'}: {problem}")

    def mapping(
        self, value: object, where: str, required: set[str], optional: set[str]
    ) -> Mapping[str, Any]:
        """A dict with exactly the allowed keys and all the required ones."""
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            self.fail(where, f"unknown key {unknown[0]!r} (expected: {allowed})")
        missing = sorted(required - set(value))
        if missing:
            self.fail(where, f"missing key {missing[0]!r}")
        return value

    def seq(self, value: object, where: str) -> list[Any]:
        """A list."""
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def text(self, value: object, where: str) -> str:
        """A non-empty string."""
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "expected a non-empty string")
        return value

    def ident(self, value: object, where: str, *, new: bool = False) -> str:
        """A Graph id (15-16 digits); `new` ids must be unique across the world."""
        # YAML reads unquoted ids as ints; accept them, Meta's ids are numeric strings anyway.
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _ID.fullmatch(text):
            self.fail(where, f"expected a numeric id of 15-16 digits, got {value!r}")
        if new:
            if text in self.seen_ids:
                self.fail(where, f"id {text} is used twice (Graph ids are global)")
            self.seen_ids.add(text)
        return text

    def ref(self, world: World, value: object, where: str) -> str:
        """The id of a business already read."""
        business_id = self.ident(value, where)
        if business_id not in world.businesses:
            self.fail(where, f"no business has id {business_id}")
        return business_id

    def time(self, value: object, where: str) -> datetime:
        """An ISO-8601 time (UTC when it has no offset)."""
        if isinstance(value, datetime):
            stamp = value
        elif isinstance(value, str):
            try:
                stamp = datetime.fromisoformat(value)
            except ValueError:
                self.fail(where, f"expected an ISO-8601 time, got {value!r}")
        else:
            self.fail(where, f"expected an ISO-8601 time, got {value!r}")
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)

    def tasks(self, value: object, where: str) -> list[str]:
        """A non-empty list of pixel tasks."""
        tasks = [self.text(t, where) for t in self.seq(value, where)]
        bad = [t for t in tasks if t not in TASKS]
        if bad or not tasks:
            self.fail(where, f"tasks must be a non-empty list of {', '.join(TASKS)}, got {value!r}")
        return tasks

    def flag(self, value: object, where: str) -> bool:
        """A boolean."""
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {value!r}")
        return value

    def settings(self, value: object) -> WorldSettings:
        """The `settings` mapping."""
        raw = self.mapping(
            value, "settings", set(), {"app_secret", "edit_allowlisted", "hourly_call_budget"}
        )
        budget = raw.get("hourly_call_budget", 300)
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            self.fail("settings.hourly_call_budget", f"expected a positive integer, got {budget!r}")
        secret = raw.get("app_secret")
        return WorldSettings(
            app_secret=None if secret is None else self.text(secret, "settings.app_secret"),
            edit_allowlisted=self.flag(
                raw.get("edit_allowlisted", False), "settings.edit_allowlisted"
            ),
            hourly_call_budget=budget,
        )

    def business(self, world: World, value: object, where: str) -> None:
        """One business with its tokens, ad accounts and pixels (links come later)."""
        keys = {"tokens", "expired_tokens", "pixels", "ad_accounts"}
        raw = self.mapping(value, where, {"id", "name"}, keys)
        business = Business(
            self.ident(raw["id"], f"{where}.id", new=True), self.text(raw["name"], f"{where}.name")
        )
        world.businesses[business.id] = business
        for key in ("tokens", "expired_tokens"):
            for index, token in enumerate(self.seq(raw.get(key, []), f"{where}.{key}")):
                token = self.text(token, f"{where}.{key}[{index}]")
                if token in self.seen_tokens or any(c.isspace() for c in token):
                    self.fail(f"{where}.{key}[{index}]", "tokens must be unique and have no spaces")
                self.seen_tokens.add(token)
                business.tokens.append(token)
                if key == "expired_tokens":
                    world.expired_tokens.add(token)
        for index, item in enumerate(self.seq(raw.get("ad_accounts", []), f"{where}.ad_accounts")):
            self.ad_account(world, business.id, item, f"{where}.ad_accounts[{index}]")
        for index, item in enumerate(self.seq(raw.get("pixels", []), f"{where}.pixels")):
            self.pixel(world, business.id, item, f"{where}.pixels[{index}]")

    def ad_account(self, world: World, owner_id: str, value: object, where: str) -> None:
        """One ad account owned by `owner_id`."""
        raw = self.mapping(value, where, {"id", "name"}, {"users"})
        account_id = str(raw["id"]).removeprefix("act_")
        account = AdAccount(
            self.ident(account_id, f"{where}.id", new=True),
            self.text(raw["name"], f"{where}.name"),
            owner_id,
        )
        world.ad_accounts[account.id] = account

    def pixel(self, world: World, owner_id: str, value: object, where: str) -> None:
        """One pixel owned by `owner_id`."""
        optional = {
            "creation_time",
            "last_fired_time",
            "is_unavailable",
            "agencies",
            "linked_accounts",
        }
        raw = self.mapping(value, where, {"id", "name"}, optional)
        fired = raw.get("last_fired_time")
        pixel = Pixel(
            id=self.ident(raw["id"], f"{where}.id", new=True),
            name=self.text(raw["name"], f"{where}.name"),
            owner_id=owner_id,
            creation_time=self.time(raw.get("creation_time", _EPOCH), f"{where}.creation_time"),
            last_fired_time=None if fired is None else self.time(fired, f"{where}.last_fired_time"),
            is_unavailable=self.flag(raw.get("is_unavailable", False), f"{where}.is_unavailable"),
        )
        world.pixels[pixel.id] = pixel

    def business_links(self, world: World, value: Mapping[str, Any], where: str) -> None:
        """Second pass: references to other businesses (users, shares, links)."""
        for index, item in enumerate(value.get("ad_accounts", [])):
            spot = f"{where}.ad_accounts[{index}].users"
            account = world.ad_accounts[str(item["id"]).removeprefix("act_")]
            account.users = {
                self.ref(world, u, spot) for u in self.seq(item.get("users", []), spot)
            }
        for index, item in enumerate(value.get("pixels", [])):
            self.pixel_links(world, world.pixels[str(item["id"])], item, f"{where}.pixels[{index}]")

    def pixel_links(self, world: World, pixel: Pixel, raw: Mapping[str, Any], where: str) -> None:
        """A pixel's agencies and ad-account links."""
        for index, item in enumerate(self.seq(raw.get("agencies", []), f"{where}.agencies")):
            spot = f"{where}.agencies[{index}]"
            share = self.mapping(item, spot, {"business", "tasks"}, set())
            business_id = self.ref(world, share["business"], f"{spot}.business")
            if business_id == pixel.owner_id:
                self.fail(spot, "a pixel cannot be shared with its owner")
            world.share(pixel.id, business_id, self.tasks(share["tasks"], f"{spot}.tasks"))
        for index, item in enumerate(
            self.seq(raw.get("linked_accounts", []), f"{where}.linked_accounts")
        ):
            spot = f"{where}.linked_accounts[{index}]"
            link = self.mapping(item, spot, {"business", "account"}, set())
            business_id = self.ref(world, link["business"], f"{spot}.business")
            account_id = self.ident(str(link["account"]).removeprefix("act_"), f"{spot}.account")
            if account_id not in world.ad_accounts:
                self.fail(f"{spot}.account", f"no ad account has id {account_id}")
            pixel.linked_accounts.add((business_id, account_id))

    def request(self, world: World, value: object, where: str) -> None:
        """One sharing request (BusinessAgreement)."""
        keys = {"id", "from", "to", "assets"}
        raw = self.mapping(value, where, keys, {"status", "created_time"})
        status = raw.get("status", "PENDING")
        if status not in REQUEST_STATUSES:
            self.fail(
                f"{where}.status", f"expected one of {', '.join(REQUEST_STATUSES)}, got {status!r}"
            )
        agreement = Agreement(
            id=self.ident(raw["id"], f"{where}.id", new=True),
            requester_id=self.ref(world, raw["from"], f"{where}.from"),
            recipient_id=self.ref(world, raw["to"], f"{where}.to"),
            status=status,
            created_time=self.time(raw.get("created_time", _EPOCH), f"{where}.created_time"),
        )
        for index, item in enumerate(self.seq(raw["assets"], f"{where}.assets")):
            spot = f"{where}.assets[{index}]"
            asset = self.mapping(item, spot, {"pixel", "tasks"}, set())
            pixel_id = self.ident(asset["pixel"], f"{spot}.pixel")
            if (
                world.pixels.get(pixel_id) is None
                or world.pixels[pixel_id].owner_id != agreement.requester_id
            ):
                self.fail(
                    f"{spot}.pixel",
                    f"{pixel_id} is not a pixel of business {agreement.requester_id}",
                )
            agreement.assets[pixel_id] = self.tasks(asset["tasks"], f"{spot}.tasks")
        world.agreements[agreement.id] = agreement
