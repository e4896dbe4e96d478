"""The README's walkthrough, in a real browser against `pixelbot playground` (a real
process): every flow as a person does it, by typing and clicking on the page.

Each test has a playground of its own (the sandbox's Meta remembers: an agency that
accepted one request from an owner takes its later shares at once). Screenshots of the
main steps go to docs/screenshots/ when PIXELBOT_SCREENSHOTS=1 (see conftest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.browser.conftest import screenshot

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

ADA, NOOR, SAM = "U0PLAYACME", "U0PLAYNOVA", "U0PLAYGUES"
TEAM, NOVA_APPROVALS = "C0PLAYACME", "C0PLAYNOVA"
WEBSITE, CHECKOUT, OUTLET = "300400500600701", "300400500600702", "300400500600703"
BRIGHT, NOVA = "100200300400502", "100200300400503"
WAIT_MS = 30_000  # a loaded CI machine; nothing here waits on a clock


@pytest.fixture(autouse=True)
def _patient() -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=WAIT_MS)


async def _as(page: Page, user: str, channel: str) -> None:
    await page.select_option("[data-testid=user-switcher]", user)
    await page.click(f"nav [data-channel={channel}]")


async def _command(page: Page, text: str) -> None:
    await page.fill("[data-testid=composer]", text)
    await page.press("[data-testid=composer]", "Enter")


def _messages(page: Page) -> Locator:
    return page.locator("#messages [data-testid=message]")


def _card(page: Page, pixel_name: str) -> Locator:
    return _messages(page).filter(has_text="Pixel sharing request").filter(has_text=pixel_name)


async def _open(page: Page, playground: str) -> None:
    await page.goto(playground + "/")
    await page.wait_for_selector("[data-testid=user-switcher] option", state="attached")


async def test_owner_shares_the_agency_approves_and_the_owner_hears(
    playground: str, page: Page
) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await expect(page.get_by_test_id("playground-notice")).to_contain_text("nothing here")
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel share {CHECKOUT} {NOVA} ANALYZE")
    reply = _messages(page).filter(has_text="Only visible to you").last
    await expect(reply).to_contain_text("#nova-approvals")
    await screenshot(page, "1-owner-shares")

    await _as(page, NOOR, NOVA_APPROVALS)
    card = _card(page, "Checkout")
    await expect(card).to_contain_text("Requested by")
    await expect(card).to_contain_text("@Ada Okafor")  # a mention shown as the person's name
    await screenshot(page, "2-request-in-the-agency-channel")
    await card.get_by_role("button", name="Approve").click()
    confirm = page.get_by_test_id("confirm")
    await expect(confirm).to_contain_text("Approve this request?")
    await screenshot(page, "3-approve-confirm")
    await page.get_by_test_id("confirm-yes").click()
    await expect(card).to_contain_text("Approved by")
    await expect(card).to_contain_text("@Noor Haddad")
    await expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    await expect(card.locator(".thread")).to_contain_text("Approved")  # the thread reply
    await screenshot(page, "4-approved")

    await _as(page, ADA, "D" + ADA[1:])
    await expect(_messages(page).last).to_contain_text("Approved by")
    await screenshot(page, "5-owner-told-by-dm")


async def test_an_agency_admin_declines_with_a_reason_typed_in_the_modal(
    playground: str, page: Page
) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel share {OUTLET} {NOVA} ANALYZE")
    await _as(page, NOOR, NOVA_APPROVALS)
    card = _card(page, "Outlet")
    await card.get_by_role("button", name="Decline").click()
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible()
    await modal.locator("textarea, input[type=text]").first.fill("Not this quarter")
    await screenshot(page, "6-decline-reason")
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_be_hidden()
    await expect(card).to_contain_text("Declined by")
    await expect(card).to_contain_text("Not this quarter")


async def test_the_share_form_shows_a_field_error_then_takes_a_good_submission(
    playground: str, page: Page
) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, "/pixel share")
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible()
    # The pixel menu is filled in by views.update once pixelbot has read Meta.
    pixel = modal.locator(".bk-input[data-block-id=pixel] select")
    await expect(pixel.locator("option", has_text="Website")).to_have_count(1)
    await pixel.select_option(WEBSITE)
    await modal.locator(".bk-input[data-block-id=agency] input").fill("12ab")
    await page.get_by_test_id("modal-submit").click()
    error = modal.locator(".bk-input[data-block-id=agency] .bk-error")
    await expect(error).to_be_visible()
    await screenshot(page, "7-share-form-field-error")
    await modal.locator(".bk-input[data-block-id=agency] input").fill(NOVA)
    await modal.locator(".bk-input[data-block-id=tasks] input[value=ANALYZE]").check()
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_be_hidden()
    await _as(page, NOOR, NOVA_APPROVALS)
    await expect(_card(page, "Website")).to_contain_text("ANALYZE")


async def test_unshare_asks_first_then_removes_the_access(playground: str, page: Page) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel unshare {WEBSITE} {BRIGHT}")
    asked = _messages(page).filter(has_text="Remove the access of").last
    await expect(asked).to_contain_text("Bright Agency")
    await screenshot(page, "8-unshare-asks")
    await asked.locator(".bk-button.bk-danger").click()
    if await page.get_by_test_id("confirm").is_visible():
        await page.get_by_test_id("confirm-yes").click()
    await expect(_messages(page).last).to_contain_text("has no access to it at Meta now")


async def test_linking_three_ad_accounts_shows_progress_and_a_summary(
    playground: str, page: Page
) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel share {CHECKOUT} {BRIGHT} ANALYZE ADVERTISE")  # a partner
    await expect(_messages(page).last).to_contain_text("now shared with")
    accounts = "500600700800911 500600700800912 500600700800902"
    await _command(page, f"/pixel link {CHECKOUT} {BRIGHT} {accounts}")
    summary = _messages(page).filter(has_text="Linked").last
    await expect(summary).to_contain_text("3")
    await screenshot(page, "9-link-summary")


async def test_a_decision_made_in_meta_reaches_the_card_after_a_reconcile(
    playground: str, page: Page
) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel share {OUTLET} {NOVA} ANALYZE")
    await _as(page, NOOR, NOVA_APPROVALS)
    await page.get_by_test_id("meta-toggle").click()
    panel = page.get_by_test_id("meta-panel")
    request = (
        panel.get_by_test_id("meta-request").filter(has_text=OUTLET).filter(has_text="PENDING")
    )
    await request.get_by_test_id("meta-decide-approve").click()
    await expect(panel.get_by_test_id("meta-request").filter(has_text="APPROVE")).to_have_count(1)
    await page.get_by_test_id("meta-reconcile").click()
    await expect(page.get_by_test_id("meta-reconcile-result")).to_contain_text("checked")
    card = _card(page, "Outlet")
    await expect(card).to_contain_text("Meta Business Settings")
    await expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    await expect(panel.get_by_test_id("meta-calls")).to_contain_text("/agencies")
    await screenshot(page, "10-meta-panel")


async def test_someone_with_no_role_is_refused(playground: str, page: Page) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, SAM, TEAM)
    await _command(page, f"/pixel share {WEBSITE} {NOVA} ANALYZE")
    refused = _messages(page).filter(has_text="Only visible to you").last
    await expect(refused).to_contain_text("admin")


async def test_the_page_never_shows_a_token(playground: str) -> None:
    async with httpx.AsyncClient() as http:
        calls = (await http.get(f"{playground}/graph/_sandbox/calls")).text
        state = (await http.get(f"{playground}/play/state", params={"user": ADA})).text
    for text in (calls, state):
        assert "EAASandbox" not in text and "xoxb-" not in text and "access_token" not in text


async def test_app_home_shows_what_waits_for_the_agency_admin(playground: str, page: Page) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel share {CHECKOUT} {NOVA} ANALYZE")
    await expect(_messages(page).filter(has_text="Meta opened request")).to_have_count(1)
    await page.select_option("[data-testid=user-switcher]", NOOR)
    await page.get_by_test_id("app-home").click()
    home = page.get_by_test_id("home")
    await expect(home).to_contain_text("Waiting for your decision")
    await expect(home).to_contain_text("Checkout")
    await screenshot(page, "11-app-home")


async def test_a_cancelled_decline_changes_nothing(playground: str, page: Page) -> None:
    from playwright.async_api import expect

    await _open(page, playground)
    await _as(page, ADA, TEAM)
    await _command(page, f"/pixel share {OUTLET} {NOVA} ANALYZE")
    await _as(page, NOOR, NOVA_APPROVALS)
    card = _card(page, "Outlet")
    await card.get_by_role("button", name="Decline").click()
    await expect(page.get_by_test_id("modal")).to_contain_text("Decline request")
    await page.get_by_test_id("modal-cancel").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    await expect(card.get_by_role("button", name="Approve")).to_have_count(1)
    await expect(card).not_to_contain_text("Declined")
