"""Real-browser tests: Playwright (async API) driving Debian's Chromium, headless.

Playwright cannot download its own browsers here, so it launches the system's Chromium:
/usr/bin/chromium, or the path in PIXELBOT_CHROMIUM. Without it the tests skip and say
why, unless PIXELBOT_REQUIRE_BROWSER=1 (.ci/run sets it once chromium is installed): then
they fail. Everything here is `slow` (real processes), so the newer-Python runs of .ci/run
(`-m "not slow"`) leave it out.

One browser serves the whole session; each test gets its own context and page. Playwright's
objects belong to the event loop that made them, so the fixtures and the tests all run in
pytest-asyncio's session loop: every test module here starts with

    pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

Screenshots (`screenshot(page, name)`) go to pytest's temporary directory, or to
docs/screenshots/<name>.png with PIXELBOT_SCREENSHOTS=1, so that CI never rewrites them.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tests.processes import Running, free_port, wait_answering

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, ViewportSize

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
# Read at import: the suite's autouse fixture removes PIXELBOT_* variables from each test.
CHROMIUM = os.environ.get("PIXELBOT_CHROMIUM") or "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("PIXELBOT_REQUIRE_BROWSER") == "1"
SCREENSHOTS_TO_DOCS = os.environ.get("PIXELBOT_SCREENSHOTS") == "1"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PLAYGROUND_START_S = 60.0
_screenshots_dir: Path | None = None  # pytest's, set once per session by _screenshots_tmp


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/browser is `slow`, and async ones run in the session's loop."""
    for item in items:
        if not _in_this_folder(item):
            continue
        item.add_marker(pytest.mark.slow)
        marker = item.get_closest_marker("asyncio")
        if marker is not None and marker.kwargs.get("loop_scope") != "session":
            raise pytest.UsageError(
                f"{item.nodeid}: browser tests share one browser, made in the session's "
                "event loop: start the module with pytestmark = "
                '[pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]'
            )


def _browser_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PIXELBOT_CHROMIUM)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -c constraints.txt -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of the Chromium to drive; skips (or fails, if it is required) without one."""
    problem = _browser_problem()
    if problem is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"PIXELBOT_REQUIRE_BROWSER=1, but {problem}")
        pytest.skip(f"{problem} (.ci/run installs it and sets PIXELBOT_REQUIRE_BROWSER=1)")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    """One headless Chromium for the session, through Playwright's async API.

    Playwright passes --no-sandbox itself (chromium_sandbox=False, its default, spelled out
    here): CI runs as root, where Chromium's sandbox refuses to start.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium, headless=True, chromium_sandbox=False
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh page in a context of its own (no cookies or storage shared), 1280x800."""
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture(scope="session", autouse=True)
def _screenshots_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    global _screenshots_dir
    _screenshots_dir = tmp_path_factory.mktemp("screenshots")


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save what `page` shows as `<name>.png`; the file's path.

    In docs/screenshots/ with PIXELBOT_SCREENSHOTS=1, else in pytest's temporary directory.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ValueError(f"a screenshot name is lowercase letters, digits, - and _: {name!r}")
    if SCREENSHOTS_TO_DOCS:
        folder = DOCS_SCREENSHOTS
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = _screenshots_dir or Path(tempfile.mkdtemp(prefix="screenshots-"))
    path = folder / f"{name}.png"
    await page.screenshot(path=path, full_page=full_page)
    return path


@pytest_asyncio.fixture(loop_scope="session")
async def playground(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """`pixelbot playground --reset` as a real process on loopback; its base URL.

    It runs in a directory of its own with nothing but PATH and HOME (that directory) in its
    environment, and gets SIGTERM at the end (SIGKILL after 15 s, and the test fails).
    """
    folder = tmp_path_factory.mktemp("playground")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder)}
    port = free_port()
    command = [sys.executable, "-m", "bot", "playground", "--port", str(port), "--reset"]
    # A file, not a pipe: a full pipe would stall the process.
    log = folder / "playground.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=folder,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = Running(proc, log)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            await wait_answering(f"{url}/", proc, seconds=PLAYGROUND_START_S)
        except AssertionError as failed:
            raise AssertionError(f"`pixelbot playground`: {failed}\n{log.read_text()}") from None
        yield url
    finally:
        await running.stop()
