"""Ad accounts linked to a pixel (`/{pixel}/shared_accounts`), one at a time or in batches."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from bot.flows.meta.errors import GraphError
from bot.flows.meta.port import OnChunk
from bot.flows.meta.types import AdAccount, LinkResult
from bot.graph import results
from bot.graph.base import GraphCalls
from bot.graph.batch import BatchOperation, Outcome, run_batch
from bot.graph.encoding import ad_account_number, validate_id

# Businesses may hold hundreds of ad accounts; Graph's default page of 25 costs round trips.
PAGE_LIMIT = 500


def _pixel_and_business(pixel_id: str, business_id: str) -> tuple[str, str]:
    return validate_id(pixel_id, "pixel id"), validate_id(business_id, "business id")


class AccountCalls(GraphCalls):
    """Link and unlink ad accounts; `business_id` must reach both pixel and account."""

    async def list_shared_accounts(
        self, token: SecretStr, pixel_id: str, business_id: str
    ) -> list[AdAccount]:
        """Ad accounts of `business_id` linked to the pixel (`GET /{pixel}/shared_accounts`)."""
        pixel, business = _pixel_and_business(pixel_id, business_id)
        items = await self._list(
            token,
            f"{pixel}/shared_accounts",
            business=business,
            fields="id,account_id,name",
            limit=PAGE_LIMIT,
        )
        return [results.ad_account(item) for item in items]

    async def list_ad_accounts(self, token: SecretStr, business_id: str) -> list[AdAccount]:
        """Ad accounts a business owns or was given (`owned_` and `client_ad_accounts`)."""
        business = validate_id(business_id, "business id")
        fields, limit = "id,account_id,name", PAGE_LIMIT
        owned = await self._list(token, f"{business}/owned_ad_accounts", fields=fields, limit=limit)
        given = await self._list(
            token, f"{business}/client_ad_accounts", fields=fields, limit=limit
        )
        return [results.ad_account(item) for item in [*owned, *given]]

    async def link_ad_account(
        self, token: SecretStr, pixel_id: str, business_id: str, account_id: str
    ) -> None:
        """Let one ad account use the pixel (`POST /{pixel}/shared_accounts`)."""
        pixel, business = _pixel_and_business(pixel_id, business_id)
        account = ad_account_number(account_id)
        await self._write(
            "POST", token, f"{pixel}/shared_accounts", business=business, account_id=account
        )

    async def unlink_ad_account(
        self, token: SecretStr, pixel_id: str, business_id: str, account_id: str
    ) -> None:
        """Stop an ad account using the pixel (`DELETE /{pixel}/shared_accounts`)."""
        pixel, business = _pixel_and_business(pixel_id, business_id)
        account = ad_account_number(account_id)
        await self._write(
            "DELETE", token, f"{pixel}/shared_accounts", business=business, account_id=account
        )

    async def link_ad_accounts(
        self,
        token: SecretStr,
        pixel_id: str,
        business_id: str,
        account_ids: Sequence[str],
        *,
        on_chunk: OnChunk | None = None,
    ) -> list[LinkResult]:
        """Link many ad accounts in batches of 50; one result per account, in order."""
        return await self._link_many("POST", token, pixel_id, business_id, account_ids, on_chunk)

    async def unlink_ad_accounts(
        self,
        token: SecretStr,
        pixel_id: str,
        business_id: str,
        account_ids: Sequence[str],
        *,
        on_chunk: OnChunk | None = None,
    ) -> list[LinkResult]:
        """Unlink many ad accounts in batches of 50; one result per account, in order."""
        return await self._link_many("DELETE", token, pixel_id, business_id, account_ids, on_chunk)

    async def _link_many(
        self,
        method: str,
        token: SecretStr,
        pixel_id: str,
        business_id: str,
        account_ids: Sequence[str],
        on_chunk: OnChunk | None,
    ) -> list[LinkResult]:
        pixel, business = _pixel_and_business(pixel_id, business_id)
        accounts = [ad_account_number(a) for a in account_ids]
        # [I] Setting or removing a link twice leaves the same state, so a timed-out item
        # may be sent again.
        ops = [
            BatchOperation(
                method,
                pixel,
                "shared_accounts",
                {"business": business, "account_id": account},
                safe_to_retry=True,
            )
            for account in accounts
        ]
        outcomes = await self.batch(token, ops, on_chunk=on_chunk)
        return [
            LinkResult(account, o if isinstance(o, GraphError) else None)
            for account, o in zip(accounts, outcomes, strict=True)
        ]

    async def batch(
        self,
        token: SecretStr,
        operations: Sequence[BatchOperation],
        *,
        on_chunk: OnChunk | None = None,
    ) -> list[Outcome]:
        """Run operations as Graph batches of 50; a BatchResult or GraphError each, in order."""
        return await run_batch(self._session, token, operations, on_chunk)
