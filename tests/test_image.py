"""pixelbot's container image, run for real, and the compose file that deploys it.

The image tests need a Docker daemon. CI builds the image with `.ci/docker` and names it in
PIXELBOT_TEST_IMAGE; without that variable they build it through the same script. Without
Docker they skip, unless PIXELBOT_REQUIRE_DOCKER=1 (CI sets it once dockerd runs): then
they fail. Containers use the host network only, and everything they talk to is on
127.0.0.1: the test's PostgreSQL database and the fake Slack.

compose.yaml cannot be run here (the host network only, maybe no compose plugin): it is
checked statically against the settings, the Dockerfile and its own promises.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.config import Settings, load_settings
from bot.store import migrate
from tests.fakes.slack import FakeSlack
from tests.processes import free_port
from tests.signing import command_body, signed_headers

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / ".ci" / "docker"
# Read at import: the suite's fixtures remove PIXELBOT_* variables from each test's env.
IMAGE = os.environ.get("PIXELBOT_TEST_IMAGE")
REQUIRE_DOCKER = os.environ.get("PIXELBOT_REQUIRE_DOCKER") == "1"
DEFAULT_TAG = "pixelbot:ci"
SETTINGS = {name.upper() for name in Settings.model_fields}
STOP_TIMEOUT_S = 30
# The image's own settings; anything that could be a secret must never be among them.
SECRET_SETTINGS = {
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "META_APP_SECRET",
    "PIXELBOT_SECRET_KEY",
}


# --- Docker ---------------------------------------------------------------------------------


def _docker_sync(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


async def _docker(*args: str, seconds: float = 120) -> tuple[int, str, str]:
    """Run the docker CLI without blocking the event loop (the fake Slack answers on it)."""
    proc = await asyncio.create_subprocess_exec(
        "docker", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), seconds)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"`docker {' '.join(args[:2])}` took over {seconds} s") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _docker_problem() -> str | None:
    """Why Docker cannot be used here, or None."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    try:
        info = _docker_sync("info", "--format", "{{.ServerVersion}}", timeout=30)
    except subprocess.TimeoutExpired:
        return "the Docker daemon did not answer `docker info` within 30 s"
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines()
        return f"the Docker daemon does not answer: {lines[-1] if lines else 'no output'}"
    return None


@pytest.fixture(scope="module")
def image() -> str:
    """The tag of an image built from this checkout."""
    problem = _docker_problem()
    if problem is not None:
        if REQUIRE_DOCKER:
            pytest.fail(f"PIXELBOT_REQUIRE_DOCKER=1, but {problem}")
        pytest.skip(f"{problem} (CI starts it with .ci/docker and sets PIXELBOT_REQUIRE_DOCKER=1)")
    if IMAGE:
        if _docker_sync("image", "inspect", IMAGE).returncode != 0:
            pytest.fail(
                f"PIXELBOT_TEST_IMAGE={IMAGE} names no image here: build it with .ci/docker"
            )
        return IMAGE
    built = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        env={**os.environ, "PIXELBOT_IMAGE": DEFAULT_TAG},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert built.returncode == 0, f".ci/docker failed:\n{built.stderr[-4000:]}"
    return DEFAULT_TAG


def _env_file(path: Path, values: dict[str, str]) -> Path:
    """A --env-file readable by its owner only: secrets stay off command lines."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(f"{name}={value}\n" for name, value in values.items())
    return path


@pytest.fixture
def container_name() -> Iterator[str]:
    """A unique name; the container is removed whatever happens."""
    name = f"pixelbot-test-{uuid.uuid4().hex[:10]}"
    yield name
    _docker_sync("rm", "--force", "--volumes", name)


async def _logs(name: str) -> str:
    _code, out, err = await _docker("logs", name)
    return out + err


async def _state(name: str) -> dict[str, Any]:
    code, out, err = await _docker("inspect", "--format", "{{json .State}}", name)
    assert code == 0, err
    state: dict[str, Any] = json.loads(out)
    return state


async def _wait_until_up(name: str, port: int, seconds: float = 90) -> httpx.Response:
    """The first answer of /healthz; fails with the container's logs if it stopped first."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except httpx.TransportError:
                if not (await _state(name))["Running"]:
                    raise AssertionError(f"the container stopped:\n{await _logs(name)}") from None
                await asyncio.sleep(0.2)
    raise AssertionError(f"no answer on port {port} in {seconds} s:\n{await _logs(name)}")


async def _wait_healthy(name: str, seconds: float = 60) -> None:
    """Docker's own verdict from the image's HEALTHCHECK."""
    deadline = time.monotonic() + seconds
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        health = (await _state(name)).get("Health") or {}
        if health.get("Status") == "healthy":
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the HEALTHCHECK never passed: {json.dumps(health)[-1500:]}")


_WARNING = re.compile(r"\bWARNING\b|Warning:")


@pytest.mark.slow
def test_image_is_configured_as_documented(image: str) -> None:
    inspected = _docker_sync("image", "inspect", "--format", "{{json .Config}}", image)
    assert inspected.returncode == 0, inspected.stderr
    config = json.loads(inspected.stdout)
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == "pixelbot"
    assert config["Cmd"] == ["pixelbot", "serve"]
    assert not config.get("Entrypoint")  # so `docker run IMAGE pixelbot db upgrade` works
    assert env["HOST"] == "0.0.0.0"  # noqa: S104 (a container listens on its own interfaces)
    assert env["PORT"] == "3000"
    assert "3000/tcp" in config["ExposedPorts"]
    assert "/livez" in " ".join(config["Healthcheck"]["Test"])
    assert SECRET_SETTINGS & set(env) == set()
    assert SECRET_SETTINGS <= SETTINGS  # the names above are real settings

    # Inside: a virtualenv without pip (the base image's own may have one), no compiler, no
    # sources, no .env or database file.
    look = _docker_sync(
        "run",
        "--rm",
        "--network",
        "host",
        image,
        "sh",
        "-c",
        "command -v gcc cc make; ls -d /opt/pixelbot/bin/pip* /src /opt/build 2>/dev/null; "
        "find / -xdev \\( -name .env -o -name '*.db' -o -name .git \\) -print 2>/dev/null; "
        "python -c 'import bot.store.migrate as m; print(m.migrations_dir())'",
        timeout=120,
    )
    assert look.returncode == 0, look.stderr
    lines = look.stdout.splitlines()
    assert lines[:-1] == [], f"found in the runtime image: {lines[:-1]}"
    assert lines[-1].startswith("/opt/pixelbot/lib/")

    # With no settings at all, the unprivileged user can still create the default SQLite
    # database in its working folder (a quick try; PostgreSQL is for real use).
    upgraded = _docker_sync("run", "--rm", "--network", "host", image, "pixelbot", "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("database sqlite+aiosqlite:///pixelbot.db is at revision")


@pytest.mark.slow
@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_image_migrates_serves_and_stops_cleanly(
    image: str,
    database_url: str,
    fake_slack: FakeSlack,
    settings_env: dict[str, str],
    container_name: str,
    tmp_path: Path,
) -> None:
    env_file = _env_file(tmp_path / "pixelbot.env", settings_env)
    secrets = [settings_env[name] for name in SECRET_SETTINGS if name in settings_env]
    run = ("run", "--network", "host", "--env-file", str(env_file))

    # The one-off migration, on a fresh PostgreSQL database.
    code, out, err = await _docker(*run, "--rm", image, "pixelbot", "db", "upgrade", seconds=180)
    assert code == 0, err
    assert out.strip().endswith(f"is at revision {migrate.head_revision()} (head)"), out + err

    # The default command: serve, on a free loopback port.
    port = free_port()
    code, _out, err = await _docker(
        *run,
        *("--detach", "--name", container_name),
        *("--env", "HOST=127.0.0.1", "--env", f"PORT={port}"),
        *("--health-interval", "1s", "--health-start-period", "30s"),
        image,
    )
    assert code == 0, err
    health = await _wait_until_up(container_name, port)
    assert health.status_code == 200, health.text
    assert health.json()["database"] == "ok"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        livez = await client.get("/livez")
        body = command_body("help")
        reply = await client.post("/slack/events", content=body, headers=signed_headers(body))
    assert reply.status_code == 200
    assert "/pixel unshare PIXEL_ID AGENCY_BUSINESS_ID" in json.dumps(reply.json())
    if livez.status_code == 404:
        warnings.warn("this pixelbot has no /livez: the HEALTHCHECK was not run", stacklevel=1)
    else:
        assert livez.status_code == 200, livez.text
        await _wait_healthy(container_name)

    code, uid, err = await _docker("exec", container_name, "id", "-u")
    assert code == 0, err
    assert int(uid) != 0

    running_logs = await _logs(container_name)
    assert "pixelbot serving" in running_logs
    warned = [line for line in running_logs.splitlines() if _WARNING.search(line)]
    assert warned == [], running_logs

    # SIGTERM, as `docker stop` sends it: a clean exit well within the timeout.
    started = time.monotonic()
    code, _out, err = await _docker("stop", "--time", str(STOP_TIMEOUT_S), container_name)
    stopped_after = time.monotonic() - started
    assert code == 0, err
    state = await _state(container_name)
    logs = await _logs(container_name)
    assert state["ExitCode"] == 0, logs
    assert stopped_after < STOP_TIMEOUT_S
    assert "pixelbot stopped" in logs, logs
    assert "Traceback" not in logs, logs
    assert [s for s in secrets if s in logs] == []


# --- compose.yaml ---------------------------------------------------------------------------

_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = _compose()["services"][name]
    return service


def _resolved(value: str) -> str:
    """`${VAR:-default}` as compose resolves it when VAR is unset; nothing else may remain."""
    text = _DEFAULTED.sub(lambda m: m[2], value)
    assert "$" not in text, f"{value!r} needs a variable without a default"
    return text


def _environment(name: str) -> dict[str, str]:
    env = _service(name).get("environment", {})
    assert isinstance(env, dict), "environment: as a mapping, please"
    return {key: _resolved(str(value)) for key, value in env.items()}


def _dockerfile_default_base() -> str:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, flags=re.MULTILINE)
    assert match, "the Dockerfile declares no ARG BASE_IMAGE=default"
    return match[1]


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert match, duration
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


def test_compose_has_the_database_the_migration_and_the_bot() -> None:
    compose = _compose()
    assert set(compose["services"]) == {"db", "migrate", "pixelbot"}
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:16")
    volume, mount = db["volumes"][0].split(":", 1)
    assert volume in compose["volumes"]  # a named volume: the data outlives the container
    assert mount == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_compose_migrates_once_after_the_database_is_healthy() -> None:
    migrate_ = _service("migrate")
    assert migrate_["command"] == ["pixelbot", "db", "upgrade"]
    assert migrate_["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate_.get("restart", "no") == "no"


def test_compose_serves_only_after_a_successful_migration() -> None:
    bot = _service("pixelbot")
    assert bot.get("command", ["pixelbot", "serve"]) == ["pixelbot", "serve"]
    assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert bot["restart"] in ("always", "unless-stopped", "on-failure")
    assert ".env" in ([bot["env_file"]] if isinstance(bot["env_file"], str) else bot["env_file"])
    published = [str(p).rsplit(":", 1) for p in bot["ports"]]
    assert published == [["3000", _environment("pixelbot")["PORT"]]]
    # Docker's default 10 s would kill a shutdown still within pixelbot's own budget.
    shutdown = Settings.model_fields["pixelbot_shutdown_seconds"].default
    assert _seconds(bot["stop_grace_period"]) > shutdown


def test_compose_runs_the_image_this_dockerfile_builds() -> None:
    migrate_, bot = _service("migrate"), _service("pixelbot")
    assert migrate_["image"] == bot["image"]
    for service in (migrate_, bot):
        assert service["build"]["context"] == "."
        assert service["build"]["args"]["BASE_IMAGE"] == _dockerfile_default_base()
        assert service["env_file"] == bot["env_file"]
        assert service["environment"] == bot["environment"]


def test_compose_sets_only_real_settings() -> None:
    for name in ("migrate", "pixelbot"):
        unknown = set(_environment(name)) - SETTINGS
        assert unknown == set(), f"{name} sets variables pixelbot does not read: {unknown}"
        load_settings(env_file=None, **{k.lower(): v for k, v in _environment(name).items()})


def test_compose_database_url_points_at_its_database() -> None:
    url = make_url(_environment("pixelbot")["DATABASE_URL"])
    db = _environment("db")
    assert url.get_backend_name() == "postgresql"
    assert (url.host, url.port or 5432) == ("db", 5432)
    assert url.username == db["POSTGRES_USER"]
    assert url.password == db["POSTGRES_PASSWORD"]
    assert url.database == db["POSTGRES_DB"]
