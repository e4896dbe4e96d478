"""Every Meta route the sandbox serves, checked against Meta's codegen specs.

Departures are allowed only through bot/graph/spec_exceptions.py (read by speccheck).
"""

from __future__ import annotations

import json

import pytest

from bot.graph.spec_exceptions import find_exception
from bot.sandbox import ROUTES
from bot.sandbox.router import Param, Route
from tests.graph.speccheck import canonical_path, check_request, load_enums, load_nodes, resolve

META_ROUTES = list(ROUTES)


def _id(route: Route) -> str:
    return f"{route.method} {route.template}"


def test_the_route_table_is_enumerable_and_unique() -> None:
    keys = [(r.method, r.template) for r in META_ROUTES]

    assert len(keys) == len(set(keys)) >= 15
    assert ("POST", "/") in keys


@pytest.mark.parametrize("route", META_ROUTES, ids=_id)
def test_each_route_is_in_the_spec_or_a_listed_exception(route: Route) -> None:
    call, problems = resolve(route.method, route.template)

    assert call is not None, problems


@pytest.mark.parametrize("route", META_ROUTES, ids=_id)
def test_declared_params_match_the_spec(route: Route) -> None:
    call, _ = resolve(route.method, route.template)
    assert call is not None
    declared = {p.name: p for p in route.params}

    for name, param in declared.items():
        assert name in call.params, f"{name} is not a parameter of {_id(route)} in the spec"
        assert param.required == call.params[name].required, f"{name}: required differs"
    missing = [n for n, p in call.params.items() if p.required and n not in declared]
    assert not missing, f"the spec requires {missing} but the sandbox does not read them"


@pytest.mark.parametrize("route", META_ROUTES, ids=_id)
def test_enums_match_the_spec(route: Route) -> None:
    call, _ = resolve(route.method, route.template)
    assert call is not None
    enums = load_enums()

    for param in route.params:
        spec_type = call.params[param.name].type
        is_list = spec_type.startswith("list<")
        inner = spec_type[5:-1] if is_list else spec_type
        assert param.is_list == is_list, f"{param.name}: the spec type is {spec_type}"
        assert (param.type == "bool") == (spec_type == "bool"), f"{param.name}: {spec_type}"
        if inner in enums:
            assert set(param.enum) == enums[inner], f"{param.name}: enum differs from {inner}"
        else:
            assert not param.enum, f"{param.name}: the spec has no enum {inner}"


def _in_codegen_spec(route: Route) -> bool:
    _, node, edge, _ = canonical_path(route.template)
    spec = load_nodes().get(node or "")
    wanted = {"GET": "#get", "POST": "#update", "DELETE": "#delete"}[route.method]
    return spec is not None and any(
        api.get("method") == route.method
        and (api.get("endpoint") == edge if edge else api.get("name") == wanted)
        for api in spec.apis
    )


@pytest.mark.parametrize("route", META_ROUTES, ids=_id)
def test_undocumented_routes_are_listed_as_absent_from_the_spec(route: Route) -> None:
    if _in_codegen_spec(route):
        return
    canonical = canonical_path(route.template)[0]

    assert any(e.absent_from_spec for e in find_exception(route.method, canonical)), canonical


def test_the_known_undocumented_routes_are_served() -> None:
    absent = {(r.method, r.template) for r in META_ROUTES if not _in_codegen_spec(r)}

    assert absent == {
        ("GET", "/{biz}/received_sharing_agreements"),
        ("GET", "/{biz}/initiated_sharing_agreements"),
        ("POST", "/"),
    }


def _sample(param: Param) -> str:
    if param.type == "bool":
        return "true"
    if param.is_list:
        return json.dumps([param.enum[0]] if param.enum else [{"event_name": "PageView"}])
    return param.enum[0] if param.enum else "100200300400501"


@pytest.mark.parametrize("route", META_ROUTES, ids=_id)
def test_a_full_request_to_each_route_conforms(route: Route) -> None:
    params = {p.name: _sample(p) for p in route.params}
    if route.method == "GET" and route.fields:
        params |= {"fields": ",".join(route.fields), "limit": "10"}

    assert check_request(route.method, route.template, params) == []


@pytest.mark.parametrize("route", META_ROUTES, ids=_id)
def test_every_enum_value_the_sandbox_accepts_is_valid(route: Route) -> None:
    call, _ = resolve(route.method, route.template)
    assert call is not None

    for param in route.params:
        for value in param.enum:
            wire = json.dumps([value]) if param.is_list else value
            assert (
                check_request(route.method, route.template, {**_required(route), param.name: wire})
                == []
            )


def _required(route: Route) -> dict[str, str]:
    return {p.name: _sample(p) for p in route.params if p.required}
