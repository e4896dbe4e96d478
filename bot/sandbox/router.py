"""From a Graph path to its handler: the call as received (`Operation`), an enumerable
route table keyed by (method, node kind, edge), and the call as a handler sees it (`Call`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.sandbox.errors import invalid_param, missing_param, unsupported
from bot.sandbox.world import Kind, World

_VERSION = re.compile(r"(?:^|/)(v\d+\.\d+)(?=/|$)")
# Accepted by every read, whatever the edge: field selection and cursor paging.
READ_PARAMS = ("fields", "limit", "after", "before")
# How templates name each kind of id (the placeholders tests/graph/speccheck.py reads).
PLACEHOLDERS: dict[Kind, str] = {
    "pixel": "{pixel}",
    "business": "{biz}",
    "request": "{request_id}",
    "ad_account": "act_{ad_account}",
}


@dataclass
class Operation:
    """One Graph call to run: a top-level request or one operation of a batch."""

    method: str
    path: str  # after the version
    params: dict[str, str]
    token: str | None = field(default=None, repr=False)
    proof: str | None = field(default=None, repr=False)


def split_version(path: str) -> tuple[str, str | None, str]:
    """(prefix, version, rest): "/mount/v25.0/1/agencies" gives ("/mount", "v25.0", "/1/agencies").

    A prefix before the version is tolerated, for clients whose base URL carries a mount
    point; without a version there is no prefix, and the whole path is the Graph path.
    """
    match = _VERSION.search(path)
    if match is None:
        return "", None, "/" + path.lstrip("/")
    rest = "/" + path[match.end() :].lstrip("/")
    return path[: match.start()], match.group(1), rest


@dataclass(frozen=True)
class Param:
    """A declared parameter; `enum` lists allowed values (the items', for a "list")."""

    name: str
    required: bool = False
    enum: tuple[str, ...] = ()
    type: Literal["string", "list", "bool"] = "string"

    @property
    def is_list(self) -> bool:
        """Whether the value is a JSON array (Graph's list<...> types)."""
        return self.type == "list"


@dataclass
class Call:
    """One authenticated Graph call, as a handler sees it."""

    method: str
    path: str  # after the version, e.g. "/123/agencies"
    version: str | None
    params: dict[str, str]  # declared and read params only; never the token
    business_id: str
    target: str  # the node's id (without act_)
    base_url: str
    now: datetime
    trace_id: str

    def list_param(self, name: str) -> list[str]:
        """A JSON-array param, already validated by the router (empty when absent)."""
        raw = self.params.get(name)
        return [] if raw is None else [str(item) for item in json.loads(raw)]


Reply = dict[str, Any]
Handler = Callable[[World, Call], Reply]


@dataclass(frozen=True)
class Route:
    """One Meta operation the sandbox serves; `handler` None means the sandbox's own (batch)."""

    method: str
    kind: Kind | None
    edge: str | None
    handler: Handler | None
    params: tuple[Param, ...] = ()
    fields: tuple[str, ...] = ()  # readable fields of the returned nodes (GET)
    # The handler checks access itself, to explain a refusal better than "does not exist".
    checks_access: bool = False

    @property
    def template(self) -> str:
        """The path template, e.g. "/{pixel}/agencies" ("/" for the batch endpoint)."""
        if self.kind is None:
            return "/"
        node = "/" + PLACEHOLDERS[self.kind]
        return node if self.edge is None else f"{node}/{self.edge}"


class RouteTable:
    """The routes, enumerable (for the spec check) and matchable."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._routes = routes
        self._index = {(r.method, r.kind, r.edge): r for r in routes if r.kind is not None}

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def match(self, world: World, method: str, path: str) -> tuple[Route, str]:
        """The route and node id for a path after the version; 100/33 when none fits."""
        segments = [s for s in path.split("/") if s]
        if not segments or len(segments) > 2:
            raise unsupported(method, "/".join(segments))
        raw_id = segments[0]
        node_id = raw_id.removeprefix("act_")
        kind = world.kind_of(node_id)
        # Ad accounts are addressed as act_<id> only; a bare account id names nothing.
        if (kind == "ad_account") != raw_id.startswith("act_"):
            kind = None
        edge = segments[1] if len(segments) == 2 else None
        route = self._index.get((method, kind, edge)) if kind else None
        if route is None:
            raise unsupported(method, raw_id)
        return route, node_id


def can_see(world: World, business_id: str, kind: Kind, node_id: str) -> bool:
    """Whether a business may load a node at all (else Meta answers 100/33)."""
    if kind == "pixel":
        return world.pixel_tasks(business_id, node_id) is not None
    if kind == "request":
        agreement = world.agreements[node_id]
        return business_id in (agreement.requester_id, agreement.recipient_id)
    if kind == "ad_account":
        return world.can_use_account(business_id, node_id)
    return True


def declared_params(route: Route, raw: Mapping[str, str]) -> dict[str, str]:
    """The params a route reads, validated: required present, enums and JSON arrays valid."""
    names = [p.name for p in route.params]
    if route.method == "GET":
        names += READ_PARAMS
    params = {name: raw[name] for name in names if name in raw}
    for param in route.params:
        value = params.get(param.name)
        if value is None or value == "":
            if param.required:
                raise missing_param(param.name)
            params.pop(param.name, None)
            continue
        _check_value(param, value)
    return params


def _items(param: Param, value: str) -> list[object]:
    if not param.is_list:
        return [value]
    try:
        items: object = json.loads(value)
    except ValueError:
        items = None
    if not isinstance(items, list):
        raise invalid_param(f"Param {param.name} must be a JSON array")
    return items


def _check_value(param: Param, value: str) -> None:
    if param.type == "bool" and value not in ("true", "false"):
        raise invalid_param(f"Param {param.name} must be true or false")
    for index, item in enumerate(_items(param, value)):
        if param.enum and item not in param.enum:
            where = f"{param.name}[{index}]" if param.is_list else param.name
            raise invalid_param(f"Param {where} must be one of {{{', '.join(param.enum)}}}")
