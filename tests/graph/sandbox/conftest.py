"""Fixtures of the sandbox tests: a fresh demo-world sandbox and raw HTTP into it.

`client` here is an httpx client on the sandbox, overriding the Graph-client fixture of
tests/graph/conftest.py for this folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.graph.sandbox import Sandbox
from tests.graph.sandbox.support import graph_client, new_sandbox


@pytest.fixture
def sandbox() -> Sandbox:
    return new_sandbox()[0]


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with graph_client(sandbox) as client:
        yield client
