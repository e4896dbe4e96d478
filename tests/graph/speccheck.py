"""Check Graph requests against Meta's codegen specs in `tests/specs/graph/`.

Reusable: `check_request(method, path_template, params)` for a route table (the sandbox),
`check_http_request(request, ids)` for a request recorded from an `httpx.MockTransport`.
Both return a list of problems (empty = conforms). Departures from the spec are allowed only
when listed in `bot/graph/spec_exceptions.py`.

Path templates use placeholders: {pixel}/{pixel_id}/{ads_pixel_id}/{dataset} = AdsPixel,
{biz}/{business}/{business_id} = Business, {request_id}/{pending_request_id} =
BusinessAgreement, act_{...} or {ad_account} = AdAccount. "/" is the batch endpoint.
Params are the wire values (strings; lists/bools JSON-encoded as Meta's SDK does).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from bot.graph.spec_exceptions import SpecException, find_exception

SPEC_DIR = Path(__file__).resolve().parents[1] / "specs" / "graph"

PLACEHOLDER_NODES: dict[str, str] = {
    "pixel": "AdsPixel",
    "pixel_id": "AdsPixel",
    "ads_pixel_id": "AdsPixel",
    "dataset": "AdsPixel",
    "biz": "Business",
    "business": "Business",
    "business_id": "Business",
    "request_id": "BusinessAgreement",
    "pending_request_id": "BusinessAgreement",
    "ad_account": "AdAccount",
}
# The placeholder each node type is written with in bot/graph/spec_exceptions.py.
CANONICAL: dict[str, str] = {
    "AdsPixel": "{pixel}",
    "Business": "{biz}",
    "BusinessAgreement": "{request_id}",
    "AdAccount": "{ad_account}",
}
# Accepted on every call by Graph itself, whatever the node or edge.
GENERIC_PARAMS = frozenset({"appsecret_proof"})
# Accepted on every read: field selection and cursor paging.
GENERIC_READ_PARAMS = frozenset({"fields", "limit", "after", "before"})
_NODE_METHODS = {"GET": "#get", "POST": "#update", "DELETE": "#delete"}
_PLACEHOLDER = re.compile(r"^(act_)?\{([a-z_]+)\}$")


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter: its spec type and whether it is required."""

    type: str
    required: bool


@dataclass(frozen=True, slots=True)
class Call:
    """What the spec (plus exceptions) says about one method on one path."""

    params: dict[str, Param]
    returns: str | None
    extra_fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class Node:
    """One spec file: its APIs and readable fields."""

    apis: tuple[dict[str, Any], ...]
    fields: frozenset[str]


@cache
def load_nodes() -> dict[str, Node]:
    """Every `<Node>.json` in SPEC_DIR, by node name."""
    if not SPEC_DIR.is_dir():
        raise FileNotFoundError(f"Graph specs not found at {SPEC_DIR}")
    nodes = {}
    for path in sorted(SPEC_DIR.glob("*.json")):
        if path.name.startswith("enum_types"):
            continue
        raw = json.loads(path.read_text(encoding="utf-8"))
        fields = frozenset(f["name"] for f in raw.get("fields", []))
        nodes[path.stem] = Node(apis=tuple(raw.get("apis", [])), fields=fields)
    return nodes


@cache
def load_enums() -> dict[str, frozenset[str]]:
    """Enum name -> allowed values, from enum_types.subset.json."""
    raw = json.loads((SPEC_DIR / "enum_types.subset.json").read_text(encoding="utf-8"))
    return {e["name"]: frozenset(e["values"]) for e in raw}


def canonical_path(path_template: str) -> tuple[str, str | None, str | None, list[str]]:
    """(canonical template, node type, edge, problems) for a path template."""
    segments = [s for s in path_template.strip("/").split("/") if s]
    if re.fullmatch(r"v\d+\.\d+", segments[0] if segments else ""):
        segments = segments[1:]
    if not segments:
        return "/", None, None, []
    match = _PLACEHOLDER.match(segments[0])
    if match is None:
        return path_template, None, None, [f"first segment {segments[0]!r} is not a placeholder"]
    node = "AdAccount" if match.group(1) else PLACEHOLDER_NODES.get(match.group(2))
    if node is None:
        return path_template, None, None, [f"unknown placeholder {segments[0]!r}"]
    if len(segments) > 2:
        return path_template, node, None, [f"path {path_template!r} is deeper than node/edge"]
    edge = segments[1] if len(segments) == 2 else None
    canonical = "/" + "/".join([CANONICAL[node], *([edge] if edge else [])])
    return canonical, node, edge, []


def spec_call(node: str | None, method: str, edge: str | None) -> Call | None:
    """The call as the codegen spec alone declares it (no exceptions), or None."""
    spec = load_nodes().get(node or "")
    if spec is None:
        return None
    for api in spec.apis:
        if api.get("method") != method:
            continue
        if (edge is not None and api.get("endpoint") == edge) or (
            edge is None and api.get("name") == _NODE_METHODS.get(method)
        ):
            params = {p["name"]: Param(p["type"], bool(p.get("required"))) for p in api["params"]}
            returns = node if edge is None else api.get("return")
            return Call(params=params, returns=returns, extra_fields=frozenset())
    return None


def _merge(call: Call | None, exceptions: tuple[SpecException, ...]) -> Call | None:
    if not exceptions:
        return call
    params = dict(call.params) if call else {}
    returns = call.returns if call else None
    extra: frozenset[str] = call.extra_fields if call else frozenset()
    for exc in exceptions:
        for name, type_ in exc.params:
            params[name] = Param(type_, name in exc.required)
        returns = exc.returns or returns
        extra |= exc.extra_fields
    return Call(params=params, returns=returns, extra_fields=extra)


def resolve(method: str, path_template: str) -> tuple[Call | None, list[str]]:
    """The spec call for (method, path), merged with listed exceptions, and path problems."""
    method = method.upper()
    canonical, node, edge, problems = canonical_path(path_template)
    if problems:
        return None, problems
    exceptions = find_exception(method, canonical)
    call = _merge(spec_call(node, method, edge), exceptions)
    if call is None:
        where = f"{node}.json " + (f"endpoint {edge!r}" if edge else _NODE_METHODS.get(method, "?"))
        return None, [f"{method} {canonical}: not in {where} and not in spec_exceptions.py"]
    return call, []


def _top_level_fields(value: str) -> list[str]:
    # Field expansion ("owner_business{id,name}") and modifiers (".limit(5)") are Graph syntax.
    names, depth, current = [], 0, ""
    for char in value + ",":
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current.split(".")[0].strip())
            current = ""
        elif depth == 0:
            current += char
    return [n for n in names if n]


def _check_fields(call: Call, value: str) -> list[str]:
    node = load_nodes().get(call.returns or "")
    if node is None:
        return [f"fields: cannot check fields of {call.returns!r} (no spec file)"]
    allowed = node.fields | call.extra_fields
    return [
        f"fields: {name!r} is not a field of {call.returns}"
        for name in _top_level_fields(value)
        if name not in allowed
    ]


def check_value(name: str, type_: str, value: str) -> list[str]:
    """Problems with one wire value for a parameter of spec type `type_`."""
    enums = load_enums()
    if type_.startswith("list<") and type_.endswith(">"):
        try:
            items = json.loads(value)
        except ValueError:
            return [f"{name}: {type_} must be a JSON array, got {value[:40]!r}"]
        if not isinstance(items, list):
            return [f"{name}: {type_} must be a JSON array"]
        inner = type_[5:-1]
        problems = []
        for item in items:
            wire = item if isinstance(item, str) else json.dumps(item)
            if inner == "string" and not isinstance(item, str):
                problems.append(f"{name}: list<string> item is not a string: {wire[:40]!r}")
            elif inner in enums or inner in ("int", "unsigned int", "bool"):
                problems += check_value(name, inner, wire)
        return problems
    if type_ in enums:
        ok = value in enums[type_]
        return [] if ok else [f"{name}: {value!r} is not in enum {type_} {sorted(enums[type_])}"]
    if type_ == "bool" and value not in ("true", "false"):
        return [f"{name}: bool must be true/false, got {value!r}"]
    if type_ in ("int", "unsigned int") and not re.fullmatch(r"-?\d+", value):
        return [f"{name}: {type_} must be an integer, got {value!r}"]
    if type_ == "unsigned int" and value.startswith("-"):
        return [f"{name}: unsigned int must not be negative"]
    return []


def check_request(
    method: str, path_template: str, params: Mapping[str, str], *, allow_access_token: bool = False
) -> list[str]:
    """Problems with one request: call exists, params declared, required present, enums valid."""
    call, problems = resolve(method, path_template)
    if call is None:
        return problems
    method = method.upper()
    for name, value in params.items():
        if name == "access_token" and not allow_access_token:
            problems.append("access_token: the token must travel in the Authorization header")
        elif name in GENERIC_PARAMS or name == "access_token":
            continue
        elif name == "fields" and method == "GET":
            problems += _check_fields(call, value)
        elif name in GENERIC_READ_PARAMS and method == "GET":
            continue
        elif name not in call.params:
            problems.append(f"{name}: not a declared parameter of {method} {path_template}")
        else:
            problems += check_value(name, call.params[name].type, value)
    missing = sorted(n for n, p in call.params.items() if p.required and n not in params)
    problems += [f"{name}: required parameter missing" for name in missing]
    return problems


def _wire_params(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    params: dict[str, str] = {}
    problems = []
    for name, value in pairs:
        if name in params:
            problems.append(f"{name}: sent more than once")
        params[name] = value
    return params, problems


def template_for(path: str, ids: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace concrete ids in a request path by placeholders (`ids`: id -> placeholder name)."""
    out, problems = [], []
    for segment in path.strip("/").split("/"):
        bare = segment.removeprefix("act_")
        if bare in ids:
            prefix = "act_" if segment.startswith("act_") else ""
            out.append(f"{prefix}{{{ids[bare]}}}")
        elif bare.isdigit():
            problems.append(f"id {segment!r} in path is not mapped to a placeholder")
            out.append(segment)
        else:
            out.append(segment)
    return "/" + "/".join(s for s in out if s), problems


def _check_batch(params: Mapping[str, str], ids: Mapping[str, str]) -> list[str]:
    try:
        ops = json.loads(params.get("batch", "[]"))
    except ValueError:
        return ["batch: not JSON"]
    problems = [] if len(ops) <= 50 else [f"batch: {len(ops)} operations (max 50)"]
    for index, op in enumerate(ops):
        url = urlsplit(op["relative_url"])
        pairs = parse_qsl(url.query, keep_blank_values=True)
        pairs += parse_qsl(op.get("body", ""), keep_blank_values=True)
        op_params, dup = _wire_params(pairs)
        template, unmapped = template_for(url.path, ids)
        found = dup + unmapped + check_request(op["method"], template, op_params)
        problems += [f"batch[{index}] {op['method']} {template}: {p}" for p in found]
    return problems


def _after_version(path: str) -> str:
    # The base URL may carry a prefix (a sandbox mount point); the Graph path follows /vNN.N.
    match = re.search(r"/v\d+\.\d+(/|$)", path)
    return "/" + path[match.end() :] if match else path


def check_http_request(request: httpx.Request, ids: Mapping[str, str]) -> list[str]:
    """Problems with a recorded request; batch operations are checked one by one."""
    pairs = list(request.url.params.multi_items())
    if request.method == "POST":
        pairs += parse_qsl(request.content.decode(), keep_blank_values=True)
    params, problems = _wire_params(pairs)
    template, unmapped = template_for(_after_version(request.url.path), ids)
    problems += unmapped + check_request(request.method, template, params)
    if template == "/" and request.method == "POST":
        problems += _check_batch(params, ids)
    return problems
