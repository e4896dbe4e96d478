"""The port through which the flows talk to Meta: the Graph client's typed surface.

The flows depend on this Protocol, never on HTTP; `bot.graph.GraphClient` satisfies it, and
its value and error types (`bot.graph.types`, `bot.graph.errors`) are plain data modules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from pydantic import SecretStr

from bot.graph.errors import GraphError
from bot.graph.types import (
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

# Called after each batch of a bulk call with (done, total); same shape as bot.graph.batch.
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
