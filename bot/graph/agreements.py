"""Sharing requests (BusinessAgreement): read, list, approve and decline."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from bot.flows.meta.errors import GraphError
from bot.flows.meta.types import REQUEST_STATUSES, Decision, SharingRequest
from bot.graph import results
from bot.graph.base import GraphCalls
from bot.graph.batch import BatchOperation, run_batch
from bot.graph.encoding import validate_id

REQUEST_FIELDS = "id,request_status"


def _optional_id(value: str | None) -> str | None:
    return None if value is None else validate_id(value, "business id")


def _status(value: str | None) -> str | None:
    if value is not None and value not in REQUEST_STATUSES:
        raise ValueError(f"unknown request_status {value!r}")
    return value


class AgreementCalls(GraphCalls):
    """Calls on sharing requests; the recipient business's token approves or declines."""

    async def decide_request(self, token: SecretStr, request_id: str, decision: Decision) -> None:
        """Approve or decline a sharing request (`POST /{request_id}`), as the recipient."""
        request = validate_id(request_id, "request id")
        await self._write("POST", token, request, request_status=Decision(decision).value)

    async def approve_request(self, token: SecretStr, request_id: str) -> None:
        """Approve a sharing request."""
        await self.decide_request(token, request_id, Decision.APPROVE)

    async def decline_request(self, token: SecretStr, request_id: str) -> None:
        """Decline a sharing request."""
        await self.decide_request(token, request_id, Decision.DECLINE)

    async def get_request(self, token: SecretStr, request_id: str) -> SharingRequest:
        """A sharing request's current status (`GET /{request_id}?fields=id,request_status`)."""
        request = validate_id(request_id, "request id")
        return results.sharing_request(await self._get(token, request, fields=REQUEST_FIELDS))

    async def get_requests(
        self, token: SecretStr, request_ids: Sequence[str]
    ) -> dict[str, SharingRequest | GraphError]:
        """Many requests' statuses in Graph batches of 50 (one HTTP call per 50 ids)."""
        unique = list(dict.fromkeys(validate_id(r, "request id") for r in request_ids))
        operations = [
            BatchOperation("GET", request, params={"fields": REQUEST_FIELDS}) for request in unique
        ]
        outcomes = await run_batch(self._session, token, operations)
        return {
            request: outcome
            if isinstance(outcome, GraphError)
            else results.sharing_request(outcome.body)
            for request, outcome in zip(unique, outcomes, strict=True)
        }

    async def list_received_requests(
        self,
        token: SecretStr,
        business_id: str,
        *,
        request_status: str | None = None,
        requesting_business_id: str | None = None,
    ) -> list[SharingRequest]:
        """Sharing agreements a business received (`received_sharing_agreements`)."""
        business = validate_id(business_id, "business id")
        items = await self._list(
            token,
            f"{business}/received_sharing_agreements",
            fields=REQUEST_FIELDS,
            request_status=_status(request_status),
            requesting_business_id=_optional_id(requesting_business_id),
        )
        return [results.sharing_request(item) for item in items]

    async def list_initiated_requests(
        self,
        token: SecretStr,
        business_id: str,
        *,
        receiving_business_id: str | None = None,
        request_status: str | None = None,
    ) -> list[SharingRequest]:
        """Sharing agreements a business initiated (`initiated_sharing_agreements`)."""
        business = validate_id(business_id, "business id")
        items = await self._list(
            token,
            f"{business}/initiated_sharing_agreements",
            fields=REQUEST_FIELDS,
            receiving_business_id=_optional_id(receiving_business_id),
            request_status=_status(request_status),
        )
        return [results.sharing_request(item) for item in items]
