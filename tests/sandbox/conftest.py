"""Fixtures of the sandbox tests: a fresh demo-world sandbox and raw HTTP into it.

`client` here is a plain httpx client on the sandbox, not pixelbot's Graph client: these
tests speak HTTP to the simulator as any Graph client would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import graph_client, new_sandbox


@pytest.fixture
def sandbox() -> Sandbox:
    return new_sandbox()[0]


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with graph_client(sandbox) as client:
        yield client
