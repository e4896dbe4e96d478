"""Who and what the playground's Slack holds: the demo people, their channels, and which
business of the Graph sandbox's demo world each one acts for."""

from __future__ import annotations

from dataclasses import dataclass

TEAM_ID = "T0PLAYGRND"
TEAM_DOMAIN = "pixelbot-playground"
BOT_USER = "U0PIXELBOT"
BOT_ID = "B0PIXELBOT"
APP_ID = "A0PIXELBOT"

ACME, BRIGHT, NOVA = "100200300400501", "100200300400502", "100200300400503"


@dataclass(frozen=True)
class Person:
    """A demo user: their Slack id, name, and the business they administer (if any)."""

    id: str
    name: str
    title: str
    business: str | None


@dataclass(frozen=True)
class Channel:
    """A public channel of the playground workspace."""

    id: str
    name: str
    purpose: str


PEOPLE = (
    Person("U0PLAYACME", "Ada Okafor", "Marketing lead, Acme Shoes (owner admin)", ACME),
    Person("U0PLAYNOVA", "Noor Haddad", "Account director, Nova Media (agency admin)", NOVA),
    Person("U0PLAYBRIT", "Ben Li", "Ops lead, Bright Agency (agency admin)", BRIGHT),
    Person("U0PLAYGUES", "Sam Guest", "Intern (no role in pixelbot)", None),
)
CHANNELS = (
    Channel("C0PLAYACME", "acme-marketing", "Acme Shoes' team: share pixels from here"),
    Channel("C0PLAYNOVA", "nova-approvals", "Nova Media's approvals channel"),
    Channel("C0PLAYBRIT", "bright-approvals", "Bright Agency's approvals channel"),
)
# Where each business's approval requests are posted.
APPROVALS = {NOVA: "C0PLAYNOVA", BRIGHT: "C0PLAYBRIT", ACME: "C0PLAYACME"}


def dm_channel(user: str) -> str:
    """The id of the direct-message channel between `user` and pixelbot."""
    return "D" + user[1:]


def person(user: str) -> Person | None:
    """The demo person with this id."""
    return next((p for p in PEOPLE if p.id == user), None)
