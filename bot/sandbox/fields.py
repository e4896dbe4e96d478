"""Field selection (`fields=id,owner_business{name}`) and cursor paging, as Graph does them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.errors import MetaError, invalid_param
from bot.sandbox.router import Call

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000
# Node type of nested objects, for error messages about their subfields.
_NESTED = {"owner_business": "Business"}


@dataclass(frozen=True)
class Selection:
    """One requested field and its requested subfields."""

    name: str
    sub: tuple[Selection, ...] = ()


def graph_time(value: datetime) -> str:
    """A datetime as Graph writes it: `2024-01-02T03:04:05+0000`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_fields(value: str) -> tuple[Selection, ...]:
    """Parse a `fields` value; 2500 (as Meta) on unbalanced braces."""
    selections, rest = _parse(value, 0)
    if rest != len(value):
        raise MetaError(2500, f"Syntax error in fields at character {rest}: {value!r}")
    return selections


def _parse(text: str, pos: int) -> tuple[tuple[Selection, ...], int]:
    out: list[Selection] = []
    name = ""
    while pos < len(text) and text[pos] != "}":
        char = text[pos]
        if char == "{":
            sub, pos = _parse(text, pos + 1)
            if pos >= len(text):
                raise MetaError(2500, f"Syntax error in fields: missing '}}' in {text!r}")
            out.append(Selection(name.split(".")[0].strip(), sub))
            name = ""
        elif char == ",":
            if name.strip():
                out.append(Selection(name.split(".")[0].strip()))
            name = ""
        else:
            name += char
        pos += 1
    if name.strip():
        out.append(Selection(name.split(".")[0].strip()))
    return tuple(out), pos


def select(
    record: Mapping[str, Any], fields: str | None, default: Sequence[str], node: str
) -> dict[str, Any]:
    """The requested (or default) fields of a record; Graph always adds `id` and drops nulls."""
    wanted = parse_fields(fields) if fields else tuple(Selection(n) for n in default)
    return _pick(record, wanted, node)


def _pick(record: Mapping[str, Any], wanted: tuple[Selection, ...], node: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for selection in wanted:
        if selection.name not in record:
            error = invalid_param(
                f"Tried accessing nonexisting field ({selection.name}) on node type ({node})",
                user_msg=f"The sandbox serves these {node} fields: {', '.join(record)}.",
            )
            raise error
        value = record[selection.name]
        if value is None:
            continue
        if isinstance(value, Mapping) and selection.sub:
            value = _pick(value, selection.sub, _NESTED.get(selection.name, "Object"))
        out[selection.name] = value
    if "id" in record and "id" not in out:
        out["id"] = record["id"]
    return out


def page(call: Call, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of an edge: `{"data": [...], "paging": {"cursors", "next", "previous"}}`."""
    limit = _limit(call.params.get("limit"))
    start, stop = 0, len(items)
    if "after" in call.params:
        start = _cursor(call.params["after"]) + 1
    elif "before" in call.params:
        stop = _cursor(call.params["before"])
        start = max(0, stop - limit)
    chunk = items[start : min(stop, start + limit)]
    if not chunk:
        return {"data": []}
    last = start + len(chunk) - 1
    paging: dict[str, Any] = {"cursors": {"before": _encode(start), "after": _encode(last)}}
    if last + 1 < len(items):
        paging["next"] = _url(call, limit, "after", _encode(last))
    if start > 0:
        paging["previous"] = _url(call, limit, "before", _encode(start))
    return {"data": chunk, "paging": paging}


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 0 < int(raw) <= MAX_LIMIT:
        raise invalid_param(f"Param limit must be an integer between 1 and {MAX_LIMIT}")
    return int(raw)


def _encode(index: int) -> str:
    return base64.urlsafe_b64encode(f"sandbox:{index}".encode()).decode().rstrip("=")


def _cursor(raw: str) -> int:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, index = text.partition(":")
        if prefix == "sandbox" and index.isdigit():
            return int(index)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise invalid_param("Param after/before must be a cursor from a previous page")


def _url(call: Call, limit: int, key: str, cursor: str) -> str:
    # The token stays out of paging URLs: clients send it in a header (Meta would echo it).
    params = {k: v for k, v in call.params.items() if k not in ("after", "before", "limit")}
    params |= {"limit": str(limit), key: cursor}
    version = f"/{call.version}" if call.version else ""
    return f"{call.base_url}{version}{call.path}?{urlencode(params)}"
