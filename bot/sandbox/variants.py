"""Readings of Meta that its documentation leaves open: each a named variant the sandbox can
play, so that pixelbot is tested under every reading it guards against (docs/meta.md).

A world file selects them (`settings: variants: [...]`), as does `pixelbot sandbox
--variant NAME` and the control API (`POST /_sandbox/variants`). With none selected the
sandbox plays the reading pixelbot's code was first written for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One reading: what the sandbox then does, and why it is plausible."""

    name: str
    plays: str
    source: str


VARIANTS = {
    v.name: v
    for v in (
        Variant(
            "requester_cannot_read",
            "GET /{request_id} with a token of the business that sent the request answers "
            "100/33 (not visible to that token); only the receiving business may read it.",
            "No Meta page says the sending business may read a BusinessAgreement: the "
            "Business Agreement reference documents the node without naming who may read "
            "it, and its examples are read by the receiver (graph-api.md, inference [I] "
            "on reading a pending request).",
        ),
        Variant(
            "delete_keeps_request_open",
            "DELETE /{pixel}/agencies removes an agency's access but leaves a pending request "
            "for that pixel open: the agency can still accept it.",
            "The Ad Pixel agencies edge documents DELETE as removing a business's access to "
            "the pixel; nothing says it withdraws a request not yet accepted (graph-api.md, "
            "inference [I] on cancelling a pending request).",
        ),
    )
}


def parse_variants(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The variants named; ValueError naming the first unknown one, with the known ones."""
    for name in names:
        if name not in VARIANTS:
            known = ", ".join(sorted(VARIANTS))
            raise ValueError(f"unknown Meta variant {name!r} (known: {known})")
    return frozenset(names)
