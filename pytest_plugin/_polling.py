"""The polling verdict in a pytest run (docs/polling.md): after each test that used an emulator
fixture, the reports of its jobs when the session asked for them (`--together-emulator-polling-report`)
or the test is strict (`polling="strict"`); a strict test whose client polled badly fails, and the
session report lists every such test at the end.

What went wrong travels on the test's call report as a user property, where the session report
finds it (in the controlling process too, when pytest-xdist splits the session over workers).
Imports only pytest: the fixtures load the emulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ._options import POLLING_REPORT

if TYPE_CHECKING:
    from ..faces._controller import EmulatorController

WATCHED = pytest.StashKey[list[tuple["EmulatorController", str]]]()  # on a test: its emulators, their mode
PROPERTY = "together_emulator_polling"  # the user property a test's call report carries them in
DOCS = "docs/polling.md"


def watch(request: pytest.FixtureRequest, controller: EmulatorController, mode: str) -> None:
    """Grade the jobs of `controller` after the requesting test (unless its mode is 'off')."""
    if mode != "off":
        request.node.stash.setdefault(WATCHED, []).append((controller, mode))


def grade(item: pytest.Item, report: pytest.TestReport) -> None:
    """After a test's call: grade its emulators' jobs when asked; fail a strict test whose client
    polled badly, and carry what went wrong on its report for the session report."""
    watched = item.stash.get(WATCHED, [])
    reporting = bool(item.config.getoption(POLLING_REPORT))
    strict = any(mode == "strict" for _, mode in watched)
    if not watched or not (reporting or strict):
        return
    bad = [found for controller, _ in watched for found in controller.polling_reports() if found.verdict != "ok"]
    if not bad:
        return
    if reporting:
        report.user_properties.append((PROPERTY, "\n".join(found.summary() for found in bad)))
    if strict and report.passed:
        report.outcome = "failed"
        report.longrepr = "together emulator: the test's client polled badly (polling='strict'):\n" + "\n".join(
            found.explain() for found in bad
        )


def summarize(terminal: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The session report: every test whose client polled badly, and why."""
    if not config.getoption(POLLING_REPORT):
        return
    bad = sorted(
        (report.nodeid, str(value))
        for reports in terminal.stats.values()
        for report in reports
        if isinstance(report, pytest.TestReport) and report.when == "call"
        for name, value in report.user_properties
        if name == PROPERTY
    )
    terminal.write_sep("=", "together emulator: polling")
    if not bad:
        terminal.write_line("No test's client polled a job badly.")
        return
    for nodeid, why in bad:
        terminal.write_line(nodeid)
        for line in why.splitlines():
            terminal.write_line("  " + line)
    terminal.write_line(
        f"{len(bad)} test{'s' if len(bad) != 1 else ''} polled badly "
        f"(assert_polling shows the requests; polling='strict' fails such a test; {DOCS})."
    )
