"""`/pixel` text parsed once, at the edge, into typed commands (the grammar in product.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import InvalidInput
from bot.flows import ids
from bot.flows.tasks import Task, parse_tasks

MAX_ACCOUNTS_PER_LINK = 500
# 500 ad accounts of up to 20 digits with `act_` and a space each, plus the rest.
MAX_COMMAND_TEXT = 14000

USAGE: dict[str, str] = {
    "help": "/pixel help",
    "share": "/pixel share PIXEL_ID AGENCY_BUSINESS_ID [TASK ...]",
    "unshare": "/pixel unshare PIXEL_ID AGENCY_BUSINESS_ID",
    "link": "/pixel link PIXEL_ID BUSINESS_ID AD_ACCOUNT_ID [AD_ACCOUNT_ID ...]",
    "unlink": "/pixel unlink PIXEL_ID BUSINESS_ID AD_ACCOUNT_ID",
    "accounts": "/pixel accounts PIXEL_ID BUSINESS_ID",
    "info": "/pixel info PIXEL_ID",
    "pending": "/pixel pending",
    "history": "/pixel history [PIXEL_ID]",
}

SUMMARY: dict[str, str] = {
    "help": "show this help",
    "share": "share a pixel with an agency (no arguments opens a form)",
    "unshare": "remove an agency's access, or cancel a pending request",
    "link": "link ad accounts to a pixel for a business",
    "unlink": "unlink an ad account from a pixel",
    "accounts": "list the ad accounts linked to a pixel for a business",
    "info": "show a pixel: owner, last fired, agencies, linked accounts",
    "pending": "requests waiting for you, and your own open requests",
    "history": "what happened to a pixel, newest first",
}


class UsageError(InvalidInput):
    """Bad `/pixel` input: says what was wrong and which subcommand's usage to show."""

    def __init__(self, problem: str, subcommand: str | None = None) -> None:
        super().__init__(problem)
        self.subcommand = subcommand


@dataclass(frozen=True)
class Help:
    """`/pixel help` (or no text at all)."""


@dataclass(frozen=True)
class Share:
    """`/pixel share`; `pixel_id` is None when the form should open."""

    pixel_id: str | None = None
    agency_id: str | None = None
    tasks: tuple[Task, ...] = ()


@dataclass(frozen=True)
class Unshare:
    pixel_id: str
    agency_id: str


@dataclass(frozen=True)
class Link:
    pixel_id: str
    business_id: str
    account_ids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Unlink:
    pixel_id: str
    business_id: str
    account_id: str


@dataclass(frozen=True)
class Accounts:
    pixel_id: str
    business_id: str


@dataclass(frozen=True)
class Info:
    pixel_id: str


@dataclass(frozen=True)
class Pending:
    """`/pixel pending`."""


@dataclass(frozen=True)
class History:
    pixel_id: str | None = None


Command = Help | Share | Unshare | Link | Unlink | Accounts | Info | Pending | History


def parse(text: str) -> Command:
    """Parse the text after `/pixel`; raise `UsageError` saying exactly what is wrong."""
    if len(text) > MAX_COMMAND_TEXT:
        raise UsageError(f"that command is too long ({len(text)} characters)")
    words = text.split()
    if not words:
        return Help()
    name, args = words[0].lower(), words[1:]
    parser = _PARSERS.get(name)
    if parser is None:
        raise UsageError(f"unknown subcommand {words[0][:30]!r}")
    try:
        return parser(args)
    except UsageError:
        raise
    except InvalidInput as exc:
        raise UsageError(str(exc), name) from None


def _arity(args: list[str], sub: str, names: tuple[str, ...], extra: bool = False) -> None:
    if len(args) < len(names):
        missing = names[len(args)]
        raise UsageError(f"{missing} is missing", sub)
    if len(args) > len(names) and not extra:
        raise UsageError(f"unexpected {args[len(names)][:30]!r}", sub)


def _account(value: str) -> str:
    digits = value[4:] if value.lower().startswith("act_") else value
    return ids.meta_id(digits, "AD_ACCOUNT_ID")


def _share(args: list[str]) -> Share:
    if not args:
        return Share()
    _arity(args, "share", ("PIXEL_ID", "AGENCY_BUSINESS_ID"), extra=True)
    tasks = parse_tasks(args[2:]) if args[2:] else [Task.ANALYZE]
    return Share(
        ids.meta_id(args[0], "PIXEL_ID"), ids.meta_id(args[1], "AGENCY_BUSINESS_ID"), tuple(tasks)
    )


def _unshare(args: list[str]) -> Unshare:
    _arity(args, "unshare", ("PIXEL_ID", "AGENCY_BUSINESS_ID"))
    return Unshare(ids.meta_id(args[0], "PIXEL_ID"), ids.meta_id(args[1], "AGENCY_BUSINESS_ID"))


def _link(args: list[str]) -> Link:
    _arity(args, "link", ("PIXEL_ID", "BUSINESS_ID", "AD_ACCOUNT_ID"), extra=True)
    accounts = tuple(dict.fromkeys(_account(a) for a in args[2:]))
    if len(accounts) > MAX_ACCOUNTS_PER_LINK:
        raise UsageError(f"at most {MAX_ACCOUNTS_PER_LINK} ad accounts at once", "link")
    return Link(ids.meta_id(args[0], "PIXEL_ID"), ids.meta_id(args[1], "BUSINESS_ID"), accounts)


def _unlink(args: list[str]) -> Unlink:
    _arity(args, "unlink", ("PIXEL_ID", "BUSINESS_ID", "AD_ACCOUNT_ID"))
    pixel, business = ids.meta_id(args[0], "PIXEL_ID"), ids.meta_id(args[1], "BUSINESS_ID")
    return Unlink(pixel, business, _account(args[2]))


def _accounts(args: list[str]) -> Accounts:
    _arity(args, "accounts", ("PIXEL_ID", "BUSINESS_ID"))
    return Accounts(ids.meta_id(args[0], "PIXEL_ID"), ids.meta_id(args[1], "BUSINESS_ID"))


def _info(args: list[str]) -> Info:
    _arity(args, "info", ("PIXEL_ID",))
    return Info(ids.meta_id(args[0], "PIXEL_ID"))


def _history(args: list[str]) -> History:
    if not args:
        return History()
    _arity(args, "history", ("PIXEL_ID",))
    return History(ids.meta_id(args[0], "PIXEL_ID"))


Parser = Callable[[list[str]], "Command"]


def _no_args(sub: str, command: Command) -> Parser:
    def parse_(args: list[str]) -> Command:
        _arity(args, sub, ())
        return command

    return parse_


_PARSERS: dict[str, Parser] = {
    "help": _no_args("help", Help()),
    "share": _share,
    "unshare": _unshare,
    "link": _link,
    "unlink": _unlink,
    "accounts": _accounts,
    "info": _info,
    "pending": _no_args("pending", Pending()),
    "history": _history,
}
