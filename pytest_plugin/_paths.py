"""The lifecycle path explorer in a pytest run (docs/lifecycle-paths.md): the marker
`together_emulator_paths(...)` runs a test once per path, each run with a fresh emulator whose jobs
follow that path (the fixture `together_emulator_path` says which); a failed run says which path it
was, and the session ends with a table of the paths each test survived.

The path of a run travels on its call report as a user property, where the table finds it (in the
controlling process too, under pytest-xdist). Imports only pytest until the marker is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..engine._paths import LifecyclePath
    from ..faces._controller import EmulatorController

MARKER = "together_emulator_paths"
FIXTURE = "together_emulator_path"
PROPERTY = "together_emulator_path"  # the user property a run's call report carries its path's label in
POSITION = "together_emulator_path_position"  # ... and its place among the test's paths (the table's order)
DOCS = "docs/lifecycle-paths.md"
STALL_DEADLINE = 3600.0  # on a stall path, the test's own deadline on the emulator clock (marker: stall_deadline)
MARKER_LINE = (
    f"{MARKER}(*, terminal=[...], at=[...], max_preemptions=0, progression='durations', max_polls=1, type=None, "
    f"stall_deadline={STALL_DEADLINE:g}): run the test once per lifecycle path, its jobs following that path ({DOCS})."
)


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Run a test marked `together_emulator_paths` once per path the marker's filters list."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    if marker.args:
        pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments only, got {marker.args!r} ({DOCS}).", pytrace=False)
    if FIXTURE not in metafunc.fixturenames:
        pytest.fail(
            f"@pytest.mark.{MARKER} on {metafunc.definition.nodeid}: the test uses neither together_emulator nor "
            f"together_emulator_server, so no emulator would follow the paths ({DOCS}).",
            pytrace=False,
        )
    filters = {name: value for name, value in marker.kwargs.items() if name != "stall_deadline"}
    found = _paths(filters)
    metafunc.parametrize(FIXTURE, found, ids=[path.label for path in found], indirect=True)


def _paths(filters: Mapping[str, Any]) -> list[LifecyclePath]:
    from pydantic import ValidationError

    from ..engine._first_error import first_error
    from ..engine._paths import PathQuery, lifecycle_paths

    try:
        query = PathQuery.model_validate(filters)
    except ValidationError as exc:
        first = first_error(exc)
        problem = f"invalid {first.field.split('.')[0]}={first.value!r}: {first.message}"
    else:
        problem = ""
    if problem:
        options = ", ".join([*PathQuery.model_fields, "stall_deadline"])
        pytest.fail(f"@pytest.mark.{MARKER}: {problem}. Options: {options} ({DOCS}).", pytrace=False)
    found = lifecycle_paths(query)
    if not found:
        pytest.fail(f"@pytest.mark.{MARKER}({filters}) lists no path ({DOCS}).", pytrace=False)
    return found


def follow(controller: EmulatorController, path: LifecyclePath | None) -> None:
    """Make the jobs of a fresh emulator follow `path` (nothing for a test without one)."""
    if path is not None:
        controller.attach_path(path, type=path.entry.match.type)


def stall_deadline(
    request: pytest.FixtureRequest, controller: EmulatorController, path: LifecyclePath | None
) -> Callable[[], None] | None:
    """On a stall path, what fails the run once the client's sleeps carried the emulator clock past
    the test's deadline (the marker's `stall_deadline`, in seconds from the test's start): a client
    with no deadline of its own would wait forever."""
    if path is None or path.end != "stall":
        return None
    marker = request.node.get_closest_marker(MARKER)
    seconds = float(marker.kwargs.get("stall_deadline", STALL_DEADLINE)) if marker is not None else STALL_DEADLINE
    clock = controller.emulator.clock
    deadline_ns = clock.now_ns() + round(seconds * 1_000_000_000)

    def check() -> None:
        if clock.now_ns() > deadline_ns:
            pytest.fail(
                f"The job stalled ({path.label}) and the client was still waiting {seconds:g} s of emulator "
                f"time after the test began (stall_deadline): give it a deadline of its own and handle it "
                f"({DOCS}).",
                pytrace=False,
            )

    return check


def record(item: pytest.Item, report: pytest.TestReport) -> None:
    """After a run of a path: carry the path on its report, and say which it was when it failed."""
    callspec = getattr(item, "callspec", None)
    path: LifecyclePath | None = callspec.params.get(FIXTURE) if callspec is not None else None
    if callspec is None or path is None:
        return
    report.user_properties.append((PROPERTY, path.label))
    report.user_properties.append((POSITION, callspec.indices[FIXTURE]))
    if report.failed:
        report.sections.append(("together emulator path", f"This run's jobs followed {path.label}: {path.describe()}."))


def summarize(terminal: pytest.TerminalReporter) -> None:
    """The table of the paths each test survived, when any test ran over paths."""
    runs: dict[str, list[tuple[int, str, str]]] = {}
    for reports in terminal.stats.values():
        for report in reports:
            if not isinstance(report, pytest.TestReport) or report.when != "call":
                continue
            found: dict[str, Any] = dict(report.user_properties)
            if PROPERTY in found:
                run = (int(found.get(POSITION, 0)), str(found[PROPERTY]), report.outcome)
                runs.setdefault(report.nodeid.split("[", 1)[0], []).append(run)
    if not runs:
        return
    terminal.write_sep("=", "together emulator: lifecycle paths")
    for test in sorted(runs):
        survived = sum(1 for _, _, outcome in runs[test] if outcome == "passed")
        terminal.write_line(f"{test}: survived {survived} of {len(runs[test])} paths")
        for _, label, outcome in sorted(runs[test]):
            terminal.write_line(f"  {outcome:<7} {label}")
