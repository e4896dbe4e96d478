"""Meta Graph API transport implementing the domain's port (`bot.flows.meta`).

The client returns the port's types and raises the port's errors; import those from
`bot.flows.meta.types` and `bot.flows.meta.errors`. Here: the client and its transport parts.
"""

from __future__ import annotations

from bot.graph.batch import BatchOperation, BatchResult
from bot.graph.client import GraphClient
from bot.graph.encoding import InvalidId, appsecret_proof
from bot.graph.results import TestEventResult
from bot.graph.retry import RetryPolicy
from bot.graph.usage import Usage, pause_for

__all__ = [
    "BatchOperation",
    "BatchResult",
    "GraphClient",
    "InvalidId",
    "RetryPolicy",
    "TestEventResult",
    "Usage",
    "appsecret_proof",
    "pause_for",
]
