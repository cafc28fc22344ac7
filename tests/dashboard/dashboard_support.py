"""The dashboard tests' browser and server: a real headless Chromium, and a live emulator holding a
job in every status.

`browser` is one Chromium for the whole dashboard suite (a package-scoped fixture), launched by
Playwright for Python from the system's `chromium` (Debian's package): `playwright install`, which
downloads a browser build of its own, is never needed. A machine without Playwright or without
Chromium skips these tests with how to install them, except in CI (CI=true), where they fail.

`start_world()` serves a fresh emulator (manual clock) on a free port with uvicorn, the server of
`together-eval-emulator serve`, and fills it: one job per status, made deterministic with scenarios
and the control plane, plus a job on the default durations that the clock moves. Screenshots go to
`DASHBOARD_SCREENSHOTS` (an environment variable naming a folder) or to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces._server import EmulatorServer

from tests.support import Api, CoreFace, classify_params, jsonl, qa_rows, unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SUITE = "dashboard browser tests"
INSTALL_PLAYWRIGHT = (
    "the dashboard browser tests need Playwright for Python: pip install -e '.[test]' (or pip install playwright); "
    "they drive the system's chromium, so `playwright install` is not needed"
)
INSTALL_CHROMIUM = (
    "the dashboard browser tests need Chromium: apt-get install chromium (Debian/Ubuntu, as root); "
    "elsewhere put a `chromium` on PATH"
)
SCREENSHOTS = "DASHBOARD_SCREENSHOTS"  # environment variable: a folder for the pages' screenshots
VIEWPORT = {"width": 1366, "height": 860}  # a laptop screen
UI = "/_emulator/ui"
KEYS = ("key-alpha", "key-beta")


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """A headless Chromium for the dashboard suite, closed once its last test ran (so no event loop
    of Playwright's outlives the suite)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable(SUITE, INSTALL_PLAYWRIGHT)
    executable = chromium_path()
    if executable is None:
        unavailable(SUITE, INSTALL_CHROMIUM)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            launched.close()


def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: `$DASHBOARD_SCREENSHOTS`, else a temporary folder of the test run."""
    given = os.environ.get(SCREENSHOTS)
    folder = Path(given) if given else tmp_path_factory.getbasetemp() / "dashboard-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class World:
    """A live emulator with a job in every status."""

    emulator: Emulator
    server: EmulatorServer
    api: Api  # the same emulator, in process: quick set-up
    jobs: dict[str, str]  # status (or "moving") -> workflow id
    file_id: str
    created_at: str  # when every job of the set-up was created, on the emulator clock
    errors: list[str] = field(default_factory=list)  # the pages' console errors

    @property
    def url(self) -> str:
        return self.server.url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """The control plane over HTTP, as a test script would call it."""
        reply = httpx.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=10)
        assert reply.status_code in (200, 201), reply.text
        return reply.json()

    def set_clock(self, seconds_after_setup: float) -> None:
        """The clock at the set-up's instant plus `seconds_after_setup` (every test sets the clock it needs)."""
        self.control("POST", "clock/set", {"now": self.created_at})
        if seconds_after_setup:
            self.control("POST", "clock/advance", {"seconds": seconds_after_setup})

    def page(self, browser: Browser, path: str = "") -> Page:
        """A new page (own context: no cookie shared) at a dashboard path, console errors recorded."""
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        page = context.new_page()
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.goto(self.url + UI + path)
        return page


def _scenario(api: Api, scenario: dict[str, Any]) -> None:
    api.control("POST", "scenarios", {**scenario, "times": 1})


def start_world(**config: Any) -> World:
    """A live server over a new emulator holding one job per status, all created at one instant."""
    emulator = Emulator(clock="manual", **config)
    api = Api(CoreFace(emulator), key=KEYS[0])
    other = Api(CoreFace(emulator), key=KEYS[1])
    file_id = api.upload(jsonl(qa_rows(4)), filename="qa-<b>rows</b>.jsonl")
    other_file = other.upload(jsonl(qa_rows(2)), filename="other.jsonl")
    jobs: dict[str, str] = {}
    manual = {"progression": {"mode": "manual"}}
    immediate = {"mode": "immediate"}
    for status, steps in (("pending", 0), ("queued", 1), ("running", 2)):
        _scenario(api, manual)
        jobs[status] = api.create_id("classify", classify_params(file_id))
        if steps:
            api.control("POST", f"jobs/{jobs[status]}/advance", {"steps": steps})
    _scenario(api, {"progression": immediate})
    jobs["completed"] = api.create_id("classify", classify_params(file_id))
    _scenario(api, {"progression": immediate, "outcome": {"kind": "error", "at": "running"}})
    jobs["error"] = other.create_id("classify", classify_params(other_file))
    _scenario(api, {"progression": immediate, "outcome": {"kind": "user_error", "at": "queued", "message": "bad rows"}})
    jobs["user_error"] = api.create_id("classify", classify_params(file_id))
    jobs["moving"] = api.create_id("classify", classify_params(file_id))  # the default durations: ~6 s to complete
    _scenario(api, {"progression": {"mode": "after_polls", "polls": 2}})
    jobs["polled"] = api.create_id("classify", classify_params(file_id))
    api.status(jobs["polled"])
    api.status(jobs["completed"])
    # Rules that stay in the books (for the pages to show) and touch no request the tests make.
    api.control(
        "POST", "scenarios", {"name": "slow scoring", "match": {"type": "score"}, "progression": {"running": 600}}
    )
    api.control("PUT", "scenarios/types/compare", {"outcome": {"compare_weights": {"A": 2, "B": 1, "Tie": 1}}})
    api.control(
        "POST",
        "faults",
        {
            "name": "flaky model list",
            "match": {"route": "evaluation.model_list"},
            "action": {"kind": "error", "status": 503},
        },
    )
    created_at = api.control("GET", "clock")["now"]
    return World(emulator, EmulatorServer(emulator).start(), api, jobs, file_id, created_at)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One live server per test module."""
    made = start_world()
    try:
        yield made
    finally:
        made.server.stop()
