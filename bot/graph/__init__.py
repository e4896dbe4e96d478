"""Meta Graph API transport: an async client, typed results and a Graph error tree."""

from __future__ import annotations

from bot.graph.batch import BatchOperation
from bot.graph.client import GraphClient
from bot.graph.encoding import InvalidId, appsecret_proof
from bot.graph.errors import (
    GraphAuthError,
    GraphBlocked,
    GraphConnectError,
    GraphError,
    GraphInvalidParameter,
    GraphOtherError,
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
    GraphTransientError,
)
from bot.graph.retry import RetryPolicy
from bot.graph.types import (
    AdAccount,
    Agency,
    BatchResult,
    Business,
    Decision,
    LinkResult,
    Pixel,
    PixelSummary,
    ShareResult,
    ShareStatus,
    SharingRequest,
    Task,
    TestEventResult,
)
from bot.graph.usage import Usage, pause_for

__all__ = [
    "AdAccount",
    "Agency",
    "BatchOperation",
    "BatchResult",
    "Business",
    "Decision",
    "GraphAuthError",
    "GraphBlocked",
    "GraphClient",
    "GraphConnectError",
    "GraphError",
    "GraphInvalidParameter",
    "GraphOtherError",
    "GraphPermissionError",
    "GraphRateLimited",
    "GraphTimeout",
    "GraphTransientError",
    "InvalidId",
    "LinkResult",
    "Pixel",
    "PixelSummary",
    "RetryPolicy",
    "ShareResult",
    "ShareStatus",
    "SharingRequest",
    "Task",
    "TestEventResult",
    "Usage",
    "appsecret_proof",
    "pause_for",
]
