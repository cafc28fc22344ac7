"""The guides' examples run as written: docs/getting-started.md (together 3.x, and 1.5.x in its own
interpreter), docs/datasets.md, and the startup configuration and option table of docs/server.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
from docs_support import REPO, TOGETHER15, clean_env, run_script, runnable_blocks, section, served

from tests.together15 import together15_python

GETTING_STARTED = "docs/getting-started.md"


def blocks(page: str, directive: str | None = None) -> list[str]:
    return [block.source for block in runnable_blocks(page) if block.directive == directive]


def assert_first_run(printed: str) -> None:
    """What the complete first run prints: pending, then completed with a pass percentage, then a row."""
    lines = printed.splitlines()
    assert lines[0] == "pending", printed
    status, percentage = lines[1].split()
    assert status == "completed" and 0 <= float(percentage) <= 100
    assert "'evaluation_successful': True" in lines[2] and "'prompt': 'What is 0 + 0?'" in lines[2]


def test_the_getting_started_blocks_are_the_two_complete_runs() -> None:
    assert len(blocks(GETTING_STARTED)) == 1 and len(blocks(GETTING_STARTED, TOGETHER15)) == 1
    assert len(runnable_blocks(GETTING_STARTED)) == 2


def test_the_complete_first_run_with_together3(tmp_path: Path) -> None:
    (source,) = blocks(GETTING_STARTED)
    assert_first_run(run_script(source, tmp_path))


def test_the_complete_first_run_with_together15(tmp_path: Path) -> None:
    """In an environment with together==1.5.35 and what it installs, nothing else (no httpx)."""
    (source,) = blocks(GETTING_STARTED, TOGETHER15)
    assert "import httpx" not in source
    assert_first_run(run_script(source, tmp_path, python=str(together15_python())))
    assert (tmp_path / "results.jsonl").read_text().count("\n") == 20


def test_the_built_in_dataset_examples_run(tmp_path: Path) -> None:
    sources = blocks("docs/datasets.md")
    assert len(sources) == len(runnable_blocks("docs/datasets.md")) == 2
    assert run_script("\n".join(sources), tmp_path).splitlines() == [
        "completed 125",
        "user_error Unsupported dataset column(s): ['category']",
    ]


def test_the_dataset_table_agrees_with_the_catalog() -> None:
    catalog = json.loads((REPO / "fixtures" / "datasets" / "catalog.json").read_text())
    table = section((REPO / "docs" / "datasets.md").read_text(), "# Built-in datasets")
    rows = re.findall(r"^\| `([\w-]+)` \| (\d+) \| (yes|no) \| (.*?) \|", table, re.M)
    assert [name for name, *_ in rows] == list(catalog)
    for name, count, options, categories in rows:
        entry = catalog[name]
        assert int(count) == entry["rows"] and (options == "yes") == entry["has_options"], name
        assert categories == ", ".join(f"{c} ({n})" for c, n in entry["categories"].items()), name


def test_the_startup_configuration_example_starts_a_server(tmp_path: Path) -> None:
    (toml,) = re.findall(
        r"```toml\n(.*?)```", section((REPO / "docs" / "server.md").read_text(), "## Startup configuration"), re.S
    )
    (tmp_path / "emulator.toml").write_text(toml)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "qa.jsonl").write_text('{"prompt": "What is 2 + 2?", "response": "4"}\n')
    with served("--config", str(tmp_path / "emulator.toml")) as url, httpx.Client(base_url=url) as http:
        assert http.get("/_emulator/seed").json() == {"seed": 7}
        assert http.get("/_emulator/clock").json()["mode"] == "manual"
        scenarios = http.get("/_emulator/scenarios").json()
        assert scenarios["default"]["outcome"]["pass_percentage"] == 85
        assert scenarios["types"]["compare"]["progression"]["polls"] == 2
        assert [entry["match"]["judge_model"] for entry in scenarios["entries"]] == ["flaky/*"]
        assert [rule["quota"]["limit"] for rule in http.get("/_emulator/faults").json()["rules"]] == [60]
        files = http.get("/v1/files", headers={"Authorization": "Bearer team-a-key"}).json()["data"]
        assert "file-00000000-0000-4000-8000-000000000001" in [file["id"] for file in files]


def test_the_server_option_table_names_every_option() -> None:
    """Every option of `serve --help` is a row of the table, and no row is stale."""
    shown = subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    ).stdout
    options = set(re.findall(r"^  (--[a-z-]+)", shown, re.M)) - {"--help"}
    table = section((REPO / "docs" / "server.md").read_text(), "## Options")
    assert options and options == set(re.findall(r"^\| `(--[a-z-]+)`", table, re.M))
