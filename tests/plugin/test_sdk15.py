"""together==1.5.35 (requests-based, not interceptable by respx) through the live-server fixture:
upload -> create -> complete -> results -> result file for every evaluation type."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plugin_support import EVAL_CASES
from together_eval_emulator.faces._controller import EmulatorController

SCRIPT = Path(__file__).parent / "scripts" / "sdk15_flow.py"


def test_sdk15_flow_through_live_server(
    together_emulator_server: EmulatorController, python15: str, write_dataset: Callable[[str], Any]
) -> None:
    emu = together_emulator_server
    cases = {t: {"path": str(write_dataset(t)), "params": params} for t, (_, params) in EVAL_CASES.items()}
    env = {**os.environ, "TOGETHER_BASE_URL": emu.base_url_for("1.5.35")}
    assert env["TOGETHER_BASE_URL"] == emu.v1_url
    with subprocess.Popen(
        [python15, str(SCRIPT), json.dumps(cases)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "no output"
        created = json.loads(line)
        assert created["first_status"] == "pending"

        statuses = emu.complete_all()  # one clock jump; nothing sleeps
        assert set(statuses) == set(created["jobs"].values())

        out, err = proc.communicate("go\n", timeout=120)
    assert proc.returncode == 0, err
    report = json.loads(out)
    for eval_type, (rows, _) in EVAL_CASES.items():
        got = report[eval_type]
        assert got["status"] == "completed"
        assert got["retrieved_status"] == "completed"
        assert [row["prompt"] for row in got["rows"]] == [row["prompt"] for row in rows]
    assert sum(report["classify"]["results"]["label_counts"].values()) == len(EVAL_CASES["classify"][0])
    compare = report["compare"]["results"]
    assert compare["A_wins"] + compare["B_wins"] + compare["Ties"] == len(EVAL_CASES["compare"][0])
    emu.assert_called("POST /v1/evaluation", times=3)
    emu.assert_called("files.upload", times=3)
    for workflow_id in created["jobs"].values():
        emu.assert_polled(workflow_id, min=2)
