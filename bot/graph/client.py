"""The Graph API client: one per process, one typed method per call the bot makes.

Tokens are passed per call (each business has its own) and travel only in the
`Authorization: Bearer` header. Every id is validated before a path is built.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.flows.meta.errors import GraphError, GraphTimeout
from bot.flows.meta.types import (
    Agency,
    Business,
    Pixel,
    PixelSummary,
    ShareResult,
    ShareStatus,
    Task,
)
from bot.graph import results
from bot.graph.accounts import AccountCalls
from bot.graph.agreements import AgreementCalls
from bot.graph.encoding import validate_id
from bot.graph.results import TestEventResult
from bot.graph.retry import RetryPolicy
from bot.graph.session import DEFAULT_TIMEOUT, Clock, GraphSession, Sleep
from bot.graph.usage import Usage

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v25.0"
PIXEL_FIELDS = "id,name,owner_business,last_fired_time,is_unavailable,creation_time"


def _tasks(tasks: Iterable[Task | str]) -> list[str]:
    try:
        chosen = sorted({Task(t).value for t in tasks})
    except ValueError as exc:
        raise ValueError(f"unknown task; expected some of {[t.value for t in Task]}") from exc
    if not chosen:
        raise ValueError("at least one permitted task is required")
    return chosen


class GraphClient(AccountCalls, AgreementCalls):
    """Async Meta Graph API client for pixel sharing; create one per process, then `aclose()`."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        app_secret: SecretStr | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base_url):
            raise ValueError(f"base_url must be an http(s) URL without query, got {base_url!r}")
        if not re.fullmatch(r"v\d+\.\d+", version):
            raise ValueError(f"version must look like v25.0, got {version!r}")
        self._session = GraphSession(
            base_url=base_url,
            version=version,
            app_secret=app_secret,
            transport=transport,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            jitter=jitter,
        )

    @classmethod
    def for_settings(cls, settings: Settings, retry: RetryPolicy | None = None) -> Self:
        """The client for Meta as configured: GRAPH_API_URL, its version, META_APP_SECRET."""
        return cls(
            base_url=settings.graph_api_url,
            version=settings.graph_api_version,
            app_secret=settings.meta_app_secret,
            retry=retry,
        )

    @property
    def last_usage(self) -> Usage | None:
        """Usage reported by the latest answer that carried usage headers (any token)."""
        return self._session.last_usage

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._session.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # Sharing a pixel with a business.

    async def share_pixel(
        self, token: SecretStr, pixel_id: str, business_id: str, tasks: Iterable[Task | str]
    ) -> ShareResult:
        """Share a pixel with a business (`POST /{pixel}/agencies`): shared, or pending."""
        pixel, business = validate_id(pixel_id, "pixel id"), validate_id(business_id, "business id")
        wanted = _tasks(tasks)
        url = self._session.url(f"{pixel}/agencies")
        params = {"business": business, "permitted_tasks": wanted}
        try:
            body = await self._session.call_object("POST", url, token, params)
        except GraphTimeout as timeout:
            return await self._share_outcome(token, pixel, business, wanted, timeout)
        except GraphError as error:
            # [I] Meta's guide says the request id may come back in an error response.
            pending = error.error_data.get("pending_request_id")
            if pending:
                return ShareResult(ShareStatus.PENDING, str(pending))
            raise
        return results.share_result(body)

    async def _share_outcome(
        self, token: SecretStr, pixel: str, business: str, wanted: list[str], failure: GraphTimeout
    ) -> ShareResult:
        """After a share timed out: shared if the agency is listed with exactly those tasks."""
        try:
            agencies = await self.list_agencies(token, pixel)
        except GraphError:
            logger.warning(
                "graph share %s -> %s: timed out and could not be checked", pixel, business
            )
            raise failure from None
        for agency in agencies:
            if agency.id == business and set(agency.permitted_tasks) == set(wanted):
                logger.info("graph share %s -> %s: timed out but is in place", pixel, business)
                return ShareResult(ShareStatus.SHARED)
        raise failure

    async def unshare_pixel(self, token: SecretStr, pixel_id: str, business_id: str) -> None:
        """Stop sharing a pixel with a business (`DELETE /{pixel}/agencies`)."""
        pixel, business = validate_id(pixel_id, "pixel id"), validate_id(business_id, "business id")
        await self._write("DELETE", token, f"{pixel}/agencies", business=business)

    async def list_agencies(self, token: SecretStr, pixel_id: str) -> list[Agency]:
        """Every business the pixel is shared with, and its tasks (all pages)."""
        pixel = validate_id(pixel_id, "pixel id")
        items = await self._list(token, f"{pixel}/agencies", fields="id,name,permitted_tasks")
        return [results.agency(item) for item in items]

    # Reading pixels and businesses.

    async def get_pixel(self, token: SecretStr, pixel_id: str) -> Pixel:
        """A pixel's name, owner business, last fired time and availability (`GET /{pixel}`)."""
        pixel = validate_id(pixel_id, "pixel id")
        return results.pixel(await self._get(token, pixel, fields=PIXEL_FIELDS))

    async def get_business(self, token: SecretStr, business_id: str) -> Business:
        """A business's id and name (`GET /{business}?fields=id,name`)."""
        business = validate_id(business_id, "business id")
        return results.business(await self._get(token, business, fields="id,name"))

    async def list_owned_pixels(self, token: SecretStr, business_id: str) -> list[PixelSummary]:
        """Pixels the business owns (all pages), for pickers."""
        return await self._pixels(token, business_id, "owned_pixels")

    async def list_client_pixels(self, token: SecretStr, business_id: str) -> list[PixelSummary]:
        """Pixels clients shared with the business (all pages), for pickers."""
        return await self._pixels(token, business_id, "client_pixels")

    async def _pixels(self, token: SecretStr, business_id: str, edge: str) -> list[PixelSummary]:
        business = validate_id(business_id, "business id")
        items = await self._list(token, f"{business}/{edge}", fields="id,name")
        return [results.pixel_summary(item) for item in items]

    # Conversions API test events.

    async def send_test_event(
        self,
        token: SecretStr,
        pixel_id: str,
        events: Sequence[Mapping[str, Any]],
        test_event_code: str,
    ) -> TestEventResult:
        """Send events flagged with a test code (`POST /{pixel}/events`); seen in Test Events."""
        pixel = validate_id(pixel_id, "pixel id")
        if not events or not test_event_code:
            raise ValueError("a test event needs at least one event and a test_event_code")
        url = self._session.url(f"{pixel}/events")
        params = {"data": [dict(e) for e in events], "test_event_code": test_event_code}
        return results.test_event_result(
            await self._session.call_object("POST", url, token, params)
        )
