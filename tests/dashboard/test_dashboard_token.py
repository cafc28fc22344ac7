"""The dashboard of `together-eval-emulator serve --admin-token`, in a real headless Chromium: the
token form first, a strict session cookie after it, and nothing without it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.dashboard.dashboard_support import UI, VIEWPORT, screenshot_folder
from tests.faces.serve_support import LiveServer, served

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TOKEN = "dashboard-s3cret"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """The CLI's server, the way a team runs a shared emulator."""
    with served("--admin-token", TOKEN, "--clock", "manual") as live:
        yield live


def test_the_token_is_required_and_opens_a_session(
    browser: Browser, server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    response = page.goto(server.url + UI + "/clock")
    assert response is not None and response.status == 401
    expect(page.locator("h1")).to_have_text("This emulator's dashboard needs its admin token")
    page.screenshot(path=str(screenshot_folder(tmp_path_factory) / "dashboard-token.png"))
    page.fill("#token", "not-the-token")
    page.click("form.token-form button")
    expect(page.locator("[data-error]")).to_have_text("That is not this emulator's admin token.")
    assert context.cookies() == []
    page.fill("#token", TOKEN)
    page.click("form.token-form button")
    expect(page.locator("h1")).to_have_text("Clock")  # back to the page asked for
    [cookie] = context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == UI
    assert TOKEN not in cookie["value"]
    page.fill("#advance-seconds", "30")
    page.click("form[aria-label='Advance the clock'] button")
    expect(page.locator(".notice")).to_have_text("The clock moved forward.")
    page.click("form.sign-out button")
    expect(page.locator("h1")).to_have_text("This emulator's dashboard needs its admin token")
    assert context.cookies() == []
    context.close()


def test_without_the_token_nothing_is_shown_or_changed(server: LiveServer) -> None:
    for path in ("", "/journal", "/clock", "/rules", "/files", "/files/qa-benchmark-v1/content"):
        reply = httpx.get(server.url + UI + path)
        assert reply.status_code == 401 and "admin token" in reply.text, path
    before = httpx.get(server.url + "/_emulator/clock", headers={"x-emulator-token": TOKEN}).json()
    form = {"action": "advance", "seconds": "60", "csrf": "open"}
    assert httpx.post(server.url + UI + "/clock", data=form).status_code == 401
    assert httpx.get(server.url + "/_emulator/clock", headers={"x-emulator-token": TOKEN}).json() == before
    assert httpx.get(server.url + UI, headers={"x-emulator-token": TOKEN}).status_code == 200
