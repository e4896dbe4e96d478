"""`run_sandbox` for real: a uvicorn process on a free loopback port, spoken to over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, wait_answering_sync

REPO = Path(__file__).resolve().parents[2]
TOKEN = "EAASandboxServerTestToken01"
WORLD = f"""
businesses:
  - id: "100000000000001"
    name: Solo Shop
    tokens: ["{TOKEN}"]
    pixels:
      - id: "100000000000002"
        name: Solo pixel
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    world = tmp_path / "world.yaml"
    world.write_text(WORLD, encoding="utf-8")
    port = free_port()
    code = (
        "import sys; from pathlib import Path; "
        "from bot.sandbox import faults_from_cli, run_sandbox; "
        "run_sandbox('127.0.0.1', int(sys.argv[1]), Path(sys.argv[2]), faults_from_cli())"
    )
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port), str(world)], cwd=REPO, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering_sync(f"{url}/_sandbox/world", process, tmp_path / "server.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    # uvicorn shuts down gracefully, then re-raises SIGTERM to exit with it.
    assert process.returncode in (0, -signal.SIGTERM), (tmp_path / "server.log").read_text()
    assert "Application shutdown complete" in (tmp_path / "server.log").read_text()


@pytest.mark.slow
def test_run_sandbox_serves_graph_over_real_http(server: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server, headers=headers, timeout=5) as client:
        pixel = client.get("/v25.0/100000000000002", params={"fields": "id,name,owner_business"})
        unknown = client.get("/v25.0/999999999999999")

    assert pixel.status_code == 200
    assert pixel.json()["owner_business"] == {"id": "100000000000001", "name": "Solo Shop"}
    assert "100000000000001" in pixel.headers["x-business-use-case-usage"]
    assert unknown.status_code == 400
    assert unknown.json()["error"]["error_subcode"] == 33


@pytest.mark.slow
def test_real_server_timeouts_and_drops(server: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server, headers=headers, timeout=5) as client:
        client.post(
            "/_sandbox/faults", json={"rules": [{"kind": "timeout", "hold_ms": 60000, "times": 1}]}
        )
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v25.0/100000000000001", timeout=0.3)
        client.post("/_sandbox/faults", json={"rules": [{"kind": "drop", "times": 1}]})
        dropped = client.get("/v25.0/100000000000001")
        after = client.get("/v25.0/100000000000001")

    assert (dropped.status_code, dropped.content) == (502, b"")
    assert after.json() == {"id": "100000000000001", "name": "Solo Shop"}
