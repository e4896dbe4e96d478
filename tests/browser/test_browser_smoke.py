"""The browser stack alone, without pixelbot: Chromium loads a page from a loopback server,
a click runs its script, the script calls the server back, and the page shows the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Page, expect

from tests.browser import conftest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

HTML = """<!doctype html>
<title>smoke</title>
<button id="go">Ask the server</button>
<p id="answer">not yet</p>
<script>
  document.getElementById("go").addEventListener("click", async () => {
    const response = await fetch("/click", {method: "POST"});
    document.getElementById("answer").textContent = await response.text();
  });
</script>
"""


@pytest_asyncio.fixture(loop_scope="session")
async def site() -> AsyncIterator[tuple[str, list[str]]]:
    """A page with a button on 127.0.0.1; its URL and the clicks the server received."""
    clicks: list[str] = []

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=HTML, content_type="text/html")

    async def click(request: web.Request) -> web.Response:
        clicks.append(request.method)
        return web.Response(text=f"clicked {len(clicks)}")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_post("/click", click)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/", clicks
    finally:
        await runner.cleanup()


async def test_a_click_reaches_the_server_and_the_page_shows_its_answer(
    page: Page, site: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, clicks = site
    await page.goto(url)
    await expect(page.locator("#answer")).to_have_text("not yet")

    await page.get_by_role("button", name="Ask the server").click()

    await expect(page.locator("#answer")).to_have_text("clicked 1")
    assert clicks == ["POST"]
    # The helper, kept out of docs/ even under PIXELBOT_SCREENSHOTS=1: a PNG of the viewport.
    monkeypatch.setattr(conftest, "SCREENSHOTS_TO_DOCS", False)
    shot = await conftest.screenshot(page, "browser-smoke")
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    size = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert size == (1280, 800)
    assert conftest.DOCS_SCREENSHOTS not in shot.parents
