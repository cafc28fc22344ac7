"""docs/documented-api.md: its usage examples run as written through the documented client, and
print what the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from together_eval_emulator.faces._controller import EmulatorController

PAGE = Path(__file__).resolve().parents[2] / "docs" / "documented-api.md"
EXAMPLES = ["Create an evaluation", "Monitor it until it finishes", "Compare several models", "Analyse the metrics"]


def example(title: str) -> str:
    """The first Python block under the `### <title>` heading."""
    text = PAGE.read_text()
    section = text[text.index(f"### {title}") :]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


def shown_output(source: str) -> list[str]:
    """The output the page shows: the comment lines that end the block."""
    lines = source.rstrip("\n").splitlines()
    shown: list[str] = []
    while lines and lines[-1].startswith("# "):
        shown.insert(0, lines.pop()[2:])
    return shown


@pytest.mark.parametrize(
    "title",
    [
        pytest.param(title, marks=pytest.mark.together_emulator(progression="immediate"))
        if title != "Monitor it until it finishes"
        else pytest.param(title, marks=pytest.mark.together_emulator(progression="after_polls", advance_on_sleep=True))
        for title in EXAMPLES
    ],
)
def test_each_usage_example_runs_and_prints_what_the_page_shows(
    together_emulator: EmulatorController, capsys: pytest.CaptureFixture[str], title: str
) -> None:
    source = example(title)
    assert "from together_eval_emulator.documented import Together" in source
    exec(compile(source, f"{PAGE.name}: {title}", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    shown = shown_output(source)
    if shown and shown[-1] == "...":
        shown.pop()
        printed = printed[: len(shown)]
    if title == "Monitor it until it finishes":  # the page shows no output for the loop
        assert printed[:4] == ["Status: pending", "Status: pending", "Status: running", "Status: completed"]
        assert printed[4].startswith("Score: ") and printed[5].startswith("Metrics: ")
    else:
        assert shown and printed == shown


def test_the_page_never_calls_the_client_a_together_sdk() -> None:
    text = PAGE.read_text()
    assert "no real SDK has" in text and "This client exists for the documented API only" in text
