"""Load a world file (YAML or JSON) into a `World`; every error names the file and the field.

world_file.py says what each entry may hold; here are the checks across entries (ids are
global, tokens unique, references name something that exists) and the World they build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.errors import ConfigError
from bot.sandbox.world import AdAccount, Agreement, Business, Pixel, World, WorldSettings
from bot.sandbox.world_file import BusinessEntry, PixelEntry, RequestEntry, WorldFile, keys_at

DEMO_WORLD_PATH = Path(__file__).with_name("demo_world.yaml")
_SHOWN_PROBLEMS = 5  # enough to fix a file in one go, few enough to stay readable


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
    try:
        spec = WorldFile.model_validate(data)
    except ValidationError as exc:
        raise WorldFileError(f"{source}: {_problems(exc)}") from None
    return _Builder(source).build(spec)


def where(location: tuple[int | str, ...]) -> str:
    """`businesses[0].pixels[1].id` for ("businesses", 0, "pixels", 1, "id")."""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location)
    return path.lstrip(".") or "top level"


def _problems(error: ValidationError) -> str:
    details = error.errors(include_url=False)
    shown = "; ".join(_describe(detail) for detail in details[:_SHOWN_PROBLEMS])
    more = len(details) - _SHOWN_PROBLEMS
    return shown + (f" (and {more} more)" if more > 0 else "")


def _describe(detail: ErrorDetails) -> str:
    """One pydantic error as `path: problem`, in the words of a world file, not of Python."""
    location, kind = tuple(detail["loc"]), detail["type"]
    if kind == "missing":
        return f"{where(location[:-1])}: missing key {location[-1]!r}"
    if kind == "extra_forbidden":
        allowed = ", ".join(keys_at(location[:-1]))
        return f"{where(location[:-1])}: unknown key {location[-1]!r} (expected: {allowed})"
    got = type(detail["input"]).__name__
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where(location)}: expected a mapping, got {got}"
    if kind == "list_type":
        return f"{where(location)}: expected a list, got {got}"
    return f"{where(location)}: {detail['msg']}"


class _Builder:
    """Builds the World entry by entry, in file order; stops at the first problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.world = World()
        self.seen_tokens: set[str] = set()

    def fail(self, where: str, problem: str) -> NoReturn:
        """Stop with `source: where: problem`."""
        raise WorldFileError(f"{self.source}: {where}: {problem}")

    def new_id(self, object_id: str, where: str) -> str:
        """An id no object of the world has yet (Graph ids are global)."""
        if self.world.kind_of(object_id) is not None:
            self.fail(where, f"id {object_id} is used twice (Graph ids are global)")
        return object_id

    def business(self, business_id: str, where: str) -> str:
        """The id of a business already built."""
        if business_id not in self.world.businesses:
            self.fail(where, f"no business has id {business_id}")
        return business_id

    def build(self, spec: WorldFile) -> World:
        """The world of a validated file."""
        settings = spec.settings
        self.world.settings = WorldSettings(
            settings.app_secret,
            settings.edit_allowlisted,
            settings.hourly_call_budget,
            settings.variants,
        )
        for index, entry in enumerate(spec.businesses):
            self._business(entry, f"businesses[{index}]")
        # A business may name any other, earlier or later in the file: links come second.
        for index, entry in enumerate(spec.businesses):
            self._links(entry, f"businesses[{index}]")
        for index, pair in enumerate(spec.partners):
            a, b = (self.business(x, f"partners[{index}][{i}]") for i, x in enumerate(pair))
            self.world.add_partnership(a, b)
        for index, request in enumerate(spec.requests):
            self._request(request, f"requests[{index}]")
        return self.world

    def _business(self, entry: BusinessEntry, where: str) -> None:
        business = Business(self.new_id(entry.id, f"{where}.id"), entry.name)
        self.world.businesses[business.id] = business
        for key, tokens in (("tokens", entry.tokens), ("expired_tokens", entry.expired_tokens)):
            for index, token in enumerate(tokens):
                # A token names its business: the same one twice could not say which.
                if token in self.seen_tokens:
                    self.fail(f"{where}.{key}[{index}]", "tokens must be unique across the world")
                self.seen_tokens.add(token)
                business.tokens.append(token)
        self.world.expired_tokens.update(entry.expired_tokens)
        for index, account in enumerate(entry.ad_accounts):
            account_id = self.new_id(account.id, f"{where}.ad_accounts[{index}].id")
            self.world.ad_accounts[account_id] = AdAccount(account_id, account.name, business.id)
        for index, pixel in enumerate(entry.pixels):
            pixel_id = self.new_id(pixel.id, f"{where}.pixels[{index}].id")
            self.world.pixels[pixel_id] = Pixel(
                id=pixel_id,
                name=pixel.name,
                owner_id=business.id,
                creation_time=pixel.creation_time,
                last_fired_time=pixel.last_fired_time,
                is_unavailable=pixel.is_unavailable,
            )

    def _links(self, entry: BusinessEntry, where: str) -> None:
        for index, account in enumerate(entry.ad_accounts):
            spot = f"{where}.ad_accounts[{index}].users"
            self.world.ad_accounts[account.id].users = {
                self.business(user, f"{spot}[{i}]") for i, user in enumerate(account.users)
            }
        for index, pixel in enumerate(entry.pixels):
            self._pixel_links(pixel, f"{where}.pixels[{index}]")

    def _pixel_links(self, entry: PixelEntry, where: str) -> None:
        pixel = self.world.pixels[entry.id]
        for index, share in enumerate(entry.agencies):
            spot = f"{where}.agencies[{index}]"
            business_id = self.business(share.business, f"{spot}.business")
            if business_id == pixel.owner_id:
                self.fail(spot, "a pixel cannot be shared with its owner")
            self.world.share(pixel.id, business_id, share.tasks)
        for index, link in enumerate(entry.linked_accounts):
            spot = f"{where}.linked_accounts[{index}]"
            business_id = self.business(link.business, f"{spot}.business")
            if link.account not in self.world.ad_accounts:
                self.fail(f"{spot}.account", f"no ad account has id {link.account}")
            pixel.linked_accounts.add((business_id, link.account))

    def _request(self, entry: RequestEntry, where: str) -> None:
        agreement = Agreement(
            id=self.new_id(entry.id, f"{where}.id"),
            requester_id=self.business(entry.requester, f"{where}.from"),
            recipient_id=self.business(entry.recipient, f"{where}.to"),
            status=entry.status,
            created_time=entry.created_time,
        )
        for index, asset in enumerate(entry.assets):
            pixel = self.world.pixels.get(asset.pixel)
            # The owner asks: a request can only carry pixels of the requesting business.
            if pixel is None or pixel.owner_id != agreement.requester_id:
                self.fail(
                    f"{where}.assets[{index}].pixel",
                    f"{asset.pixel} is not a pixel of business {agreement.requester_id}",
                )
            agreement.assets[asset.pixel] = list(asset.tasks)
        self.world.agreements[agreement.id] = agreement
