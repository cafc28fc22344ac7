"""The dashboard in a real headless Chromium, against a live server holding a job in every status:
each page loads, timelines show the right phases and now, the pages follow the emulator by
themselves, forms steer it, and none of it counts as a client's read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.dashboard.dashboard_support import UI, World, screenshot_folder

if TYPE_CHECKING:  # imported when a test runs: without Playwright the `browser` fixture skips, or fails in CI
    from playwright.sync_api import Browser, Locator, Page

STATUSES = ("pending", "queued", "running", "completed", "error", "user_error")
PAGES = {"jobs": ("", "Jobs"), "journal": ("/journal", "Journal"), "clock": ("/clock", "Clock")}
PAGES |= {"rules": ("/rules", "Scenarios and faults"), "files": ("/files", "Files")}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_folder(tmp_path_factory)


def expect(target: Any) -> Any:
    """Playwright's assertions, which wait (up to 5 s) for the page to get there."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def job(page: Page, workflow_id: str) -> Locator:
    return page.locator(f'[data-job="{workflow_id}"]')


def refreshed(page: Page, times: int = 1) -> None:
    """Wait until the page's script has refreshed its live part `times` more times. (Waited for on
    an attribute: the page's content security policy forbids the string evaluation `wait_for_function`
    would need.)"""
    done = int(page.get_attribute("body", "data-refreshes") or "0")
    fewer = "|".join(str(count) for count in range(done + times))
    expect(page.locator("body")).to_have_attribute("data-refreshes", re.compile(rf"^(?!(?:{fewer})$)\d+$"))


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_loads(browser: Browser, world: World, shots: Path, name: str) -> None:
    world.set_clock(2)
    path, title = PAGES[name]
    page = world.page(browser, path)
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator('nav a[aria-current="page"]')).to_have_text(title)
    page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)
    assert world.errors == []
    page.context.close()


def test_the_jobs_page_shows_every_status_as_text_newest_first(browser: Browser, world: World) -> None:
    world.set_clock(2)
    page = world.page(browser)
    for status in STATUSES:
        expect(job(page, world.jobs[status]).locator("[data-job-status]")).to_have_text(f"Status: {status}")
    expect(page.locator("[data-job]")).to_have_count(len(world.jobs))
    created = page.locator("[data-job] [data-created]").all_inner_texts()
    assert created == sorted(created, reverse=True)  # newest first
    page.select_option("select[name=status]", "error")
    page.click("form.filters button")
    expect(page.locator("[data-job]")).to_have_count(1)
    expect(page.locator("[data-job]")).to_have_attribute("data-job", world.jobs["error"])
    page.context.close()


def test_a_timeline_shows_the_phases_reached_planned_and_now(browser: Browser, world: World) -> None:
    world.set_clock(2)  # the durations job: pending at +0, queued at +1 s, running at +3 s, completed later
    page = world.page(browser)
    moving = job(page, world.jobs["moving"])
    segments = moving.locator("svg [data-phase]")
    expect(segments).to_have_count(4)
    phases = segments.evaluate_all("gs => gs.map(g => [g.dataset.phase, g.dataset.state])")
    assert phases == [["pending", "reached"], ["queued", "reached"], ["running", "planned"], ["completed", "planned"]]
    now = float(moving.locator("[data-now]").get_attribute("data-now") or "nan")
    completed_at = float(
        moving.locator('li[data-phase="completed"]').inner_text().rpartition("+")[2].removesuffix(" s")
    )
    assert now == pytest.approx(100 * 2 / completed_at, abs=0.01)  # now is 2 s into a bar that ends at completed
    expect(moving.locator(".now text")).to_have_text("now")
    manual = job(page, world.jobs["queued"])
    expect(manual.locator('li[data-state="waiting"]')).to_have_text(
        ["running when the control plane moves it", "completed when the control plane moves it"]
    )
    page.context.close()


def test_advancing_the_clock_on_the_clock_page_moves_a_job_on_the_jobs_page(
    browser: Browser,
    world: World,
) -> None:
    world.set_clock(2)
    context = browser.new_context()
    jobs = context.new_page()
    jobs.goto(world.url + UI)
    status = job(jobs, world.jobs["moving"]).locator("[data-job-status]")
    expect(status).to_have_text("Status: queued")
    clock = context.new_page()
    clock.goto(world.url + UI + "/clock")
    clock.fill("#advance-seconds", "3600")
    clock.click("form[aria-label='Advance the clock'] button")
    expect(clock.locator(".notice")).to_have_text("The clock moved forward.")
    expect(status).to_have_text("Status: completed")  # the jobs page, not reloaded, refreshed itself
    expect(job(jobs, world.jobs["moving"]).locator("[data-result-link]")).to_be_visible()
    context.close()


def test_a_fault_added_on_the_rules_page_fails_the_next_api_call(browser: Browser, world: World) -> None:
    page = world.page(browser, "/rules")
    rule = '{"match": {"route": "whoami"}, "action": {"kind": "error", "status": 503, "message": "from the page"}}'
    page.fill("#fault-json", rule)
    page.click("form[aria-label='Add a fault rule'] button")
    expect(page.locator(".notice")).to_have_text(re.compile(r"^Added fault-\d+\.$"))
    added = page.locator(".notice").inner_text().removeprefix("Added ").removesuffix(".")
    counters = page.locator(f'[data-rule="{added}"] [data-counters]')
    expect(counters).to_contain_text("fired: 0")
    reply = httpx.get(world.url + "/v3/whoami", headers={"authorization": "Bearer key-alpha"})
    assert reply.status_code == 503 and reply.json()["error"]["message"].startswith("from the page")
    expect(counters).to_contain_text("fired: 1")  # the counter moves on the open page
    page.click(f"[data-rule='{added}'] button")
    expect(page.locator(".notice")).to_have_text(f"Removed {added}.")
    assert httpx.get(world.url + "/v3/whoami", headers={"authorization": "Bearer key-alpha"}).status_code == 200
    page.context.close()


def test_a_rule_the_model_refuses_shows_the_models_error(browser: Browser, world: World) -> None:
    rules = world.control("GET", "faults")["rules"]
    page = world.page(browser, "/rules")
    bad = '{"match": {"route": "whoami"}, "action": {"kind": "error", "status": 700}}'
    page.fill("#fault-json", bad)
    page.click("form[aria-label='Add a fault rule'] button")
    expected = httpx.post(world.url + "/_emulator/faults", content=bad).json()["error"]["message"]
    expect(page.locator("[data-error]")).to_have_text(f"Refused: {expected}")
    expect(page.locator("#fault-json")).to_have_value(bad)  # kept, to be fixed
    assert world.control("GET", "faults")["rules"] == rules
    page.context.close()


def test_the_journal_page_shows_a_requests_body(browser: Browser, world: World) -> None:
    page = world.page(browser, "/journal")
    page.select_option("select[name=route]", "evaluation.create")
    page.click("form.filters button")
    first = page.locator("tr[data-route='evaluation.create'] td:first-child a").last
    first.click()
    expect(page.locator("[data-request-body]")).to_contain_text('"type": "classify"')
    page.context.close()


def test_the_files_page_links_each_files_content(browser: Browser, world: World) -> None:
    page = world.page(browser, "/files")
    row = page.locator(f'[data-file="{world.file_id}"]')
    expect(row.locator("[data-filename]")).to_have_text("qa-<b>rows</b>.jsonl")  # a name, shown as text
    with page.expect_navigation():
        row.locator("a").click()
    assert page.locator("body").inner_text().startswith('{"prompt": "Question 0?"')
    page.context.close()


def test_refreshing_the_jobs_page_is_never_a_client_read(browser: Browser, world: World) -> None:
    polled = world.jobs["polled"]  # moves on client reads (after_polls), read once so far
    before = (world.control("GET", f"jobs/{polled}"), world.control("GET", f"jobs/{polled}/polling"))
    journal = world.control("GET", "requests")
    page = world.page(browser)
    details = page.locator(f"#details-{polled}")
    details.locator("summary").click()
    refreshed(page, 2)
    expect(details).to_have_attribute("open", "")  # kept open across refreshes
    expect(job(page, polled).locator("[data-reads]")).to_have_text("1")
    after = (world.control("GET", f"jobs/{polled}"), world.control("GET", f"jobs/{polled}/polling"))
    assert after == before and world.control("GET", "requests") == journal
    assert before[0]["reads"] == 1 and before[0]["status"] == "pending"
    page.context.close()
