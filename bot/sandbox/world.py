"""The sandbox's world: businesses, pixels, ad accounts, partnerships and sharing requests.

The methods here are the mechanics (what changes); permission checks live in the routes, so
the control API can act "behind the bot's back" exactly as Business Settings would. A world
is read from a file by loader.py, whose format world_file.py describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

TASKS = ("ADVERTISE", "ANALYZE", "EDIT", "UPLOAD")
# businessagreement_request_status in Meta's codegen enum_types.json.
REQUEST_STATUSES = (
    "APPROVE",
    "CANCELED",
    "DECLINE",
    "EXPIRED",
    "IN_PROGRESS",
    "MMA_DIRECT_ASSETS_APPROVED",
    "MMA_DIRECT_ASSETS_DECLINED",
    "MMA_DIRECT_ASSETS_EXPIRED",
    "MMA_DIRECT_ASSETS_PENDING",
    "PENDING",
    "PENDING_EMAIL_VERIFICATION",
    "PENDING_INTEGRITY_REVIEW",
)
PENDING = "PENDING"
DECISIONS = ("APPROVE", "DECLINE")
# Tasks that let a business use a pixel with its ad accounts (G-PIX step 3).
AD_TASKS = frozenset({"ADVERTISE", "ANALYZE", "EDIT"})
_FIRST_NEW_ID = 2_000_000_000_000_001

Kind = Literal["business", "pixel", "ad_account", "request"]


class WorldStateError(ValueError):
    """A change that the current state does not allow (e.g. deciding a decided request)."""


@dataclass
class Business:
    """A Business Manager account and the (fake) tokens of its system users."""

    id: str
    name: str
    tokens: list[str] = field(default_factory=list, repr=False)


@dataclass
class AdAccount:
    """An ad account, owned by one business and usable by `users` too."""

    id: str  # numeric, without act_
    name: str
    owner_id: str
    users: set[str] = field(default_factory=set)


@dataclass
class Pixel:
    """A pixel (dataset), its agencies with their tasks and its ad-account links."""

    id: str
    name: str
    owner_id: str
    creation_time: datetime
    last_fired_time: datetime | None = None
    is_unavailable: bool = False
    agencies: dict[str, list[str]] = field(default_factory=dict)
    linked_accounts: set[tuple[str, str]] = field(default_factory=set)  # (business, account)
    events_received: int = 0


@dataclass
class Agreement:
    """A sharing request (BusinessAgreement) from the owner to a business, per pixel tasks."""

    id: str
    requester_id: str
    recipient_id: str
    status: str
    created_time: datetime
    assets: dict[str, list[str]] = field(default_factory=dict)  # pixel id -> tasks


@dataclass
class WorldSettings:
    """Per-world switches: app secret (proof required), EDIT allowlist, hourly budget."""

    app_secret: str | None = field(default=None, repr=False)
    edit_allowlisted: bool = False
    hourly_call_budget: int = 300  # Meta's Limited tier: 300 + 40 x active ads per hour
    variants: frozenset[str] = frozenset()  # readings of Meta played (variants.py)


@dataclass
class World:
    """Everything the sandbox knows; ids are global, as in the Graph."""

    businesses: dict[str, Business] = field(default_factory=dict)
    pixels: dict[str, Pixel] = field(default_factory=dict)
    ad_accounts: dict[str, AdAccount] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    partners: set[frozenset[str]] = field(default_factory=set)
    settings: WorldSettings = field(default_factory=WorldSettings)
    expired_tokens: set[str] = field(default_factory=set, repr=False)
    next_id: int = _FIRST_NEW_ID

    def kind_of(self, object_id: str) -> Kind | None:
        """Which kind of object an id names, or None."""
        if object_id in self.businesses:
            return "business"
        if object_id in self.pixels:
            return "pixel"
        if object_id in self.ad_accounts:
            return "ad_account"
        if object_id in self.agreements:
            return "request"
        return None

    def new_id(self) -> str:
        """A fresh 16-digit id that names nothing yet."""
        while self.kind_of(str(self.next_id)) is not None:
            self.next_id += 1
        self.next_id += 1
        return str(self.next_id - 1)

    def business_of_token(self, token: str) -> str | None:
        """The business a token belongs to, or None."""
        return next((b.id for b in self.businesses.values() if token in b.tokens), None)

    def token_for(self, business_id_or_name: str) -> str:
        """The first token of a business named by id or name (for tests and demos)."""
        for business in self.businesses.values():
            if business_id_or_name in (business.id, business.name) and business.tokens:
                return business.tokens[0]
        raise KeyError(f"no business with a token is called {business_id_or_name!r}")

    def expire_tokens(self, business_id: str) -> None:
        """Expire every token of a business (they then fail with 190/463)."""
        self.expired_tokens.update(self._business(business_id).tokens)

    def are_partners(self, a: str, b: str) -> bool:
        """Whether two businesses have an approved relationship."""
        return frozenset((a, b)) in self.partners

    def add_partnership(self, a: str, b: str) -> None:
        """Approve a relationship: later shares between them happen at once."""
        for business_id in (a, b):
            self._business(business_id)
        self.partners.add(frozenset((a, b)))

    def remove_partnership(self, a: str, b: str) -> None:
        """End a relationship: later shares go pending again (existing shares stay)."""
        self.partners.discard(frozenset((a, b)))

    def pixel_tasks(self, business_id: str, pixel_id: str) -> list[str] | None:
        """The tasks a business has on a pixel (all for the owner), or None without access."""
        pixel = self.pixels[pixel_id]
        if pixel.owner_id == business_id:
            return list(TASKS)
        return pixel.agencies.get(business_id)

    def can_use_account(self, business_id: str, account_id: str) -> bool:
        """Whether a business owns the ad account or was given access to it."""
        account = self.ad_accounts[account_id]
        return business_id == account.owner_id or business_id in account.users

    def share(self, pixel_id: str, business_id: str, tasks: list[str]) -> None:
        """Grant a business the tasks on a pixel (replacing earlier tasks)."""
        self.pixels[pixel_id].agencies[business_id] = list(tasks)

    def pending_between(self, requester_id: str, recipient_id: str) -> Agreement | None:
        """The request still pending from one business to another, if any."""
        return next(
            (
                a
                for a in self.agreements.values()
                if (a.requester_id, a.recipient_id, a.status)
                == (requester_id, recipient_id, PENDING)
            ),
            None,
        )

    def request_share(
        self, pixel_id: str, recipient_id: str, tasks: list[str], now: datetime
    ) -> Agreement:
        """Add a pixel to the pending request to a business, opening one if needed."""
        owner_id = self.pixels[pixel_id].owner_id
        agreement = self.pending_between(owner_id, recipient_id)
        if agreement is None:
            agreement = Agreement(self.new_id(), owner_id, recipient_id, PENDING, now)
            self.agreements[agreement.id] = agreement
        agreement.assets[pixel_id] = list(tasks)
        return agreement

    def decide(self, agreement_id: str, status: str) -> Agreement:
        """Approve (grant every pixel, approve the relationship), decline, expire or cancel."""
        agreement = self.agreements[agreement_id]
        if agreement.status != PENDING:
            raise WorldStateError(f"request {agreement_id} is already {agreement.status}")
        if status == "APPROVE":
            for pixel_id, tasks in agreement.assets.items():
                pixel = self.pixels.get(pixel_id)
                # The owner may have lost the pixel since; only its current pixels are granted.
                if pixel is not None and pixel.owner_id == agreement.requester_id:
                    self.share(pixel_id, agreement.recipient_id, tasks)
            self.add_partnership(agreement.requester_id, agreement.recipient_id)
        elif status not in ("DECLINE", "EXPIRED", "CANCELED"):
            raise WorldStateError(f"{status} is not a decision")
        agreement.status = status
        return agreement

    def expire_request(self, agreement_id: str) -> Agreement:
        """Let a pending request expire, as Meta does after a while."""
        return self.decide(agreement_id, "EXPIRED")

    def cancel_request(self, agreement_id: str) -> Agreement:
        """Cancel a pending request, as the owner can in Business Settings."""
        return self.decide(agreement_id, "CANCELED")

    def unshare(self, pixel_id: str, business_id: str) -> bool:
        """Remove a business from a pixel and from pending requests; True if anything changed."""
        pixel = self.pixels[pixel_id]
        changed = pixel.agencies.pop(business_id, None) is not None
        links = {link for link in pixel.linked_accounts if link[0] == business_id}
        pixel.linked_accounts -= links
        agreement = self.pending_between(pixel.owner_id, business_id)
        if "delete_keeps_request_open" in self.settings.variants:
            agreement = None  # the request stays as it was (variants.py)
        if agreement is not None and agreement.assets.pop(pixel_id, None) is not None:
            changed = True
            if not agreement.assets:
                agreement.status = "CANCELED"
        return changed or bool(links)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready view of the state, without tokens or the app secret."""
        return {
            "businesses": [{"id": b.id, "name": b.name} for b in self.businesses.values()],
            "pixels": [_pixel_view(p) for p in self.pixels.values()],
            "ad_accounts": [
                {"id": a.id, "name": a.name, "owner": a.owner_id, "users": sorted(a.users)}
                for a in self.ad_accounts.values()
            ],
            "requests": [agreement_view(a) for a in self.agreements.values()],
            "partners": sorted(sorted(pair) for pair in self.partners),
            "edit_allowlisted": self.settings.edit_allowlisted,
            "hourly_call_budget": self.settings.hourly_call_budget,
        }

    def _business(self, business_id: str) -> Business:
        if business_id not in self.businesses:
            raise WorldStateError(f"no business {business_id}")
        return self.businesses[business_id]


def agreement_view(agreement: Agreement) -> dict[str, Any]:
    """A request as the control API shows it (more than Meta's BusinessAgreement fields)."""
    return {
        "id": agreement.id,
        "request_status": agreement.status,
        "requesting_business_id": agreement.requester_id,
        "receiving_business_id": agreement.recipient_id,
        "assets": {pixel: list(tasks) for pixel, tasks in agreement.assets.items()},
        "created_time": agreement.created_time.isoformat(),
    }


def _pixel_view(pixel: Pixel) -> dict[str, Any]:
    return {
        "id": pixel.id,
        "name": pixel.name,
        "owner": pixel.owner_id,
        "agencies": {b: list(t) for b, t in pixel.agencies.items()},
        "linked_accounts": sorted([b, a] for b, a in pixel.linked_accounts),
        "events_received": pixel.events_received,
    }
