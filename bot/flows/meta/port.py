"""The port through which the flows talk to Meta: the typed surface of a Graph client.

The flows depend on this Protocol, never on HTTP; `bot.graph.GraphClient` satisfies it,
returning the values of `bot.flows.meta.types` and raising `bot.flows.meta.errors`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from pydantic import SecretStr

from bot.flows.meta.errors import GraphError
from bot.flows.meta.types import (
    AdAccount,
    Agency,
    Business,
    Decision,
    LinkResult,
    Pixel,
    PixelSummary,
    ShareResult,
    SharingRequest,
    Task,
)

# Called after each batch of a bulk call with (done, total).
OnChunk = Callable[[int, int], Awaitable[None]]


class Meta(Protocol):
    """What the flows ask of Meta; every call acts with the token it is given."""

    async def get_pixel(self, token: SecretStr, pixel_id: str) -> Pixel: ...

    async def get_business(self, token: SecretStr, business_id: str) -> Business: ...

    async def list_owned_pixels(self, token: SecretStr, business_id: str) -> list[PixelSummary]: ...

    async def share_pixel(
        self, token: SecretStr, pixel_id: str, business_id: str, tasks: Iterable[Task | str]
    ) -> ShareResult: ...

    async def unshare_pixel(self, token: SecretStr, pixel_id: str, business_id: str) -> None: ...

    async def list_agencies(self, token: SecretStr, pixel_id: str) -> list[Agency]: ...

    async def decide_request(
        self, token: SecretStr, request_id: str, decision: Decision
    ) -> None: ...

    async def get_request(self, token: SecretStr, request_id: str) -> SharingRequest: ...

    async def get_requests(
        self, token: SecretStr, request_ids: Sequence[str]
    ) -> dict[str, SharingRequest | GraphError]: ...

    async def list_initiated_requests(
        self,
        token: SecretStr,
        business_id: str,
        *,
        receiving_business_id: str | None = None,
        request_status: str | None = None,
    ) -> list[SharingRequest]: ...

    async def list_shared_accounts(
        self, token: SecretStr, pixel_id: str, business_id: str
    ) -> list[AdAccount]: ...

    async def list_ad_accounts(self, token: SecretStr, business_id: str) -> list[AdAccount]: ...

    async def link_ad_accounts(
        self,
        token: SecretStr,
        pixel_id: str,
        business_id: str,
        account_ids: Sequence[str],
        *,
        on_chunk: OnChunk | None = None,
    ) -> list[LinkResult]: ...

    async def unlink_ad_accounts(
        self,
        token: SecretStr,
        pixel_id: str,
        business_id: str,
        account_ids: Sequence[str],
        *,
        on_chunk: OnChunk | None = None,
    ) -> list[LinkResult]: ...


class MetaClient(Meta, Protocol):
    """The port as the composition root holds it: the calls, and `aclose()` at shutdown."""

    async def aclose(self) -> None: ...
