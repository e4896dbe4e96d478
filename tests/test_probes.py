"""Liveness and readiness: `/livez` answers whenever the process can, `/readyz` only when this
replica should get work (database, Slack socket, not shutting down); `/healthz` as before."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Settings
from bot.server import Check, Server
from bot.store.db import create_engine
from tests.conftest import _drop_pg_database
from tests.processes import free_port, wait_healthy
from tests.services import make_services
from tests.waiting import until

PROBES = ("/livez", "/readyz", "/healthz", "/metrics")


def _server(
    settings: Settings,
    engine: AsyncEngine,
    *,
    extra_checks: dict[str, Check] | None = None,
    on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
) -> Server:
    app = create_app(settings, make_services(engine))
    secret = settings.secret("slack_signing_secret")
    return Server(
        app, engine, signing_secret=secret, extra_checks=extra_checks, on_shutdown=on_shutdown
    )


def _client(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://pixelbot")


def _samples(text: str) -> dict[str, float]:
    """Unlabelled samples by name, and `name{labels}` for the others."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(_server(settings, engine)) as client:
        yield client


async def test_everything_up_is_live_and_ready(client: httpx.AsyncClient) -> None:
    live, ready = await client.get("/livez"), await client.get("/readyz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok"})
    assert ready.headers["content-type"] == "application/json"


@pytest.mark.parametrize("path", PROBES)
async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient, path: str) -> None:
    get, head = await client.get(path), await client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if path != "/metrics":  # a scrape's size changes between two scrapes
        assert head.headers["content-length"] == str(len(get.content))


@pytest.mark.parametrize("path", PROBES)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_other_methods_are_refused(client: httpx.AsyncClient, path: str, method: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"error": "method not allowed"}


async def test_metrics_has_prometheus_content_type_and_openmetrics_on_request(
    client: httpx.AsyncClient,
) -> None:
    plain = await client.get("/metrics")
    assert plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert _samples(plain.text)["pixelbot_database_up"] == 1
    accept = "application/openmetrics-text; version=1.0.0"
    open_metrics = await client.get("/metrics", headers={"accept": accept})
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")


UNREACHABLE = {
    "postgresql on a closed port": "postgresql://nobody@127.0.0.1:9/none",
    "sqlite file in a folder that does not exist": "sqlite:///{tmp}/missing/folder/pixelbot.db",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
async def test_database_down_is_live_but_not_ready(
    settings: Settings, tmp_path: Path, url: str
) -> None:
    engine = create_engine(url.format(tmp=tmp_path))
    try:
        async with _client(_server(settings, engine)) as client:
            live = await client.get("/livez")
            ready = await client.get("/readyz")
            health = await client.get("/healthz")
            scrape = await client.get("/metrics")
    finally:
        await engine.dispose()
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "down": ["database"],
        "database": "unreachable",
    }
    # /healthz as documented: 503, "unavailable", the database named.
    assert health.status_code == 503
    assert health.json() == {
        "status": "unavailable",
        "version": health.json()["version"],
        "database": "unreachable",
    }
    # The scrape still answers, and says the database did not.
    assert scrape.status_code == 200
    samples = _samples(scrape.text)
    assert samples["pixelbot_database_up"] == 0
    assert not [name for name in samples if name.startswith("pixelbot_share_requests")]


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_dropped_postgresql_database_makes_the_replica_unready(
    settings: Settings, engine: AsyncEngine, database_url: str
) -> None:
    async with _client(_server(settings, engine)) as client:
        assert (await client.get("/readyz")).status_code == 200
        await _drop_pg_database(database_url)
        ready = await client.get("/readyz")
        live = await client.get("/livez")
        scrape = await client.get("/metrics")
    assert (ready.status_code, ready.json()["down"]) == (503, ["database"])
    assert live.status_code == 200
    assert _samples(scrape.text)["pixelbot_database_up"] == 0


@pytest.mark.parametrize("kind", ["function", "coroutine function"])
async def test_a_disconnected_socket_makes_the_replica_unready(
    settings: Settings, engine: AsyncEngine, kind: str
) -> None:
    connected = False

    async def is_connected() -> bool:  # as Socket Mode's client asks
        return connected

    check: Check = is_connected if kind == "coroutine function" else lambda: connected
    server = _server(settings, engine, extra_checks={"slack_socket": check})
    async with _client(server) as client:
        ready = await client.get("/readyz")
        live = await client.get("/livez")
        health = await client.get("/healthz")
        connected = True
        ready_again = await client.get("/readyz")
    assert (live.status_code, health.status_code) == (200, 503)
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "down": ["slack_socket"],
        "database": "ok",
        "slack_socket": "down",
    }
    assert ready_again.status_code == 200
    assert ready_again.json() == {"status": "ok", "database": "ok", "slack_socket": "ok"}


async def test_readyz_is_503_from_the_start_of_shutdown(
    settings: Settings, engine: AsyncEngine
) -> None:
    in_hook, release = asyncio.Event(), asyncio.Event()

    async def slow_hook() -> None:  # e.g. background work being drained
        in_hook.set()
        await release.wait()

    server = _server(settings, engine, on_shutdown=[slow_hook])
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    lifespan = asyncio.create_task(server({"type": "lifespan"}, inbox.get, send))
    async with _client(server) as client:
        await inbox.put({"type": "lifespan.startup"})
        await until(lambda: sent == [{"type": "lifespan.startup.complete"}])
        assert (await client.get("/readyz")).status_code == 200
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(in_hook.wait(), 5)
        ready = await client.get("/readyz")
        head = await client.head("/readyz")
        live = await client.get("/livez")
        health = await client.get("/healthz")
        release.set()
        await asyncio.wait_for(lifespan, 5)
    assert (ready.status_code, ready.json()) == (503, {"status": "shutting_down"})
    assert head.status_code == 503
    assert live.status_code == 200
    assert health.status_code == 200  # /healthz keeps its documented meaning
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}


# A real `pixelbot serve`: the probes and the metrics through uvicorn, in both modes.


async def _serve(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "serve", *args),
        env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 15) == 0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_served_process_answers_probes_and_scrapes(
    settings_env: dict[str, str], mode: str
) -> None:
    port = free_port()
    socket_args = ("--socket-mode",) if mode == "socket" else ()
    proc = await _serve(settings_env, "--port", str(port), *socket_args)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(port, proc)
        async with httpx.AsyncClient(base_url=base) as client:
            live, head = await client.get("/livez"), await client.head("/readyz")
            ready = await client.get("/readyz")
            passes: list[float] = []

            async def scraped_a_pass() -> None:
                samples = _samples((await client.get("/metrics")).text)
                passes.append(samples.get("pixelbot_upkeep_passes_total{result=ok}", 0))

            for _ in range(100):  # serve's first upkeep pass runs at start
                await scraped_a_pass()
                if passes[-1] >= 1:
                    break
                await asyncio.sleep(0.05)
    finally:
        await _stop(proc)
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (head.status_code, head.content) == (200, b"")
    expected = {"status": "ok", "database": "ok"}
    if mode == "socket":
        expected["slack_socket"] = "ok"
    assert (ready.status_code, ready.json()) == (200, expected)
    assert passes[-1] == 1
    stderr = (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    assert "Traceback" not in stderr, stderr
