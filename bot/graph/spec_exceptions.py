"""Graph calls we make that Meta's codegen specs do not describe, each with its source.

This is the ONE place where a departure from `tests/specs/graph/*.json` is allowed;
`tests/graph/speccheck.py` reads it. Add an entry only with a citation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpecException:
    """One call (or one detail of a call) that the codegen spec lacks, and why we make it."""

    method: str
    # Canonical template: {pixel}=AdsPixel, {biz}=Business, {request_id}=BusinessAgreement,
    # {ad_account}=AdAccount (act_ prefixed). "/" is the batch endpoint.
    path: str
    source: str
    reason: str
    # Parameters declared (or re-typed) here, in the spec's own type vocabulary.
    params: tuple[tuple[str, str], ...] = ()
    required: frozenset[str] = frozenset()
    # Readable fields beyond the return node's spec fields (edge-specific fields).
    extra_fields: frozenset[str] = frozenset()
    # Node type returned, so requested `fields` can be checked; None = not checkable.
    returns: str | None = None
    # True when the whole call is absent from the spec (not just one detail of it).
    absent_from_spec: bool = False


_D_REF = "developers.facebook.com/documentation/ads-commerce/marketing-api/reference/"

SPEC_EXCEPTIONS: tuple[SpecException, ...] = (
    SpecException(
        method="GET",
        path="/{biz}/received_sharing_agreements",
        source=_D_REF + "business/received_sharing_agreements (v25.0, updated Aug 11 2025)",
        reason="Documented edge; removed from facebook-business-sdk-codegen in 2022 (2c2c484)",
        params=(
            ("request_status", "businessagreement_request_status"),
            ("requesting_business_id", "string"),
        ),
        returns="BusinessAgreement",
        absent_from_spec=True,
    ),
    SpecException(
        method="GET",
        path="/{biz}/initiated_sharing_agreements",
        source=_D_REF + "business/initiated_sharing_agreements (v25.0, updated Aug 11 2025)",
        reason="Documented edge; removed from facebook-business-sdk-codegen in 2022 (2c2c484)",
        params=(
            ("receiving_business_id", "string"),
            ("request_status", "businessagreement_request_status"),
        ),
        returns="BusinessAgreement",
        absent_from_spec=True,
    ),
    SpecException(
        method="POST",
        path="/",
        source="developers.facebook.com/docs/graph-api/batch-requests; "
        "facebook-python-business-sdk api.py FacebookAdsApiBatch (posts to /{version}/)",
        reason="The batch endpoint is not a node or edge, so the codegen specs cannot list it",
        params=(("batch", "list<Object>"), ("include_headers", "bool")),
        required=frozenset({"batch"}),
        absent_from_spec=True,
    ),
    SpecException(
        method="GET",
        path="/{pixel}/agencies",
        source=_D_REF + "ads-pixel/agencies (updated Aug 5 2024): each Business node "
        "carries permitted_tasks and permitted_roles",
        reason="Edge-specific fields that the Business node spec does not list",
        extra_fields=frozenset({"permitted_tasks", "permitted_roles"}),
    ),
    SpecException(
        method="POST",
        path="/{pixel}/events",
        source=_D_REF + "ads-pixel/events (example body data=[{...}]); "
        "developers.facebook.com/docs/marketing-api/conversions-api/using-the-api",
        reason="The spec types `data` as list<string>, but Meta's example and SDK send a JSON "
        "array of event objects",
        params=(("data", "list<Object>"),),
        required=frozenset({"data"}),
    ),
    SpecException(
        method="GET",
        path="/{biz}/client_pixels",
        source=_D_REF + "business/client_pixels: each AdsPixel node carries permitted_tasks",
        reason="Edge-specific field that the AdsPixel node spec does not list",
        extra_fields=frozenset({"permitted_tasks"}),
    ),
)


def find_exception(method: str, path: str) -> tuple[SpecException, ...]:
    """All entries for one call (method and canonical path template)."""
    return tuple(e for e in SPEC_EXCEPTIONS if e.method == method.upper() and e.path == path)
