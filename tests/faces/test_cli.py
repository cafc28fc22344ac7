"""`together-eval-emulator serve`: one command, a `listening on` line, options and env variables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def serve(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), (line, process.stderr.read() if process.poll() else "")
    return process, line.removeprefix("listening on ")


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=10)


def test_serve_prints_the_real_port_and_stops_cleanly_on_ctrl_c() -> None:
    process, url = serve("--clock", "manual")
    try:
        assert url.rsplit(":", 1)[1] != "0"
        assert get(url + "/_emulator/health")["status"] == "ok"
        assert get(url + "/_emulator/clock") == {
            "now": "2026-01-01T00:00:00.000000Z",
            "epoch": 1767225600.0,
            "mode": "manual",
            "time_scale": 1.0,
        }
    finally:
        assert stop(process) == 0
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_options_also_read_environment_variables() -> None:
    env = {"TOGETHER_EMULATOR_CLOCK": "manual", "TOGETHER_EMULATOR_START_TIME": "2025-06-30T12:50:40Z"}
    process, url = serve(env=env)
    try:
        assert get(url + "/_emulator/clock")["now"] == "2025-06-30T12:50:40.000000Z"
    finally:
        stop(process)


def test_cli_options_win_over_environment_variables() -> None:
    process, url = serve(
        "--start-time", "1767225700", env={"TOGETHER_EMULATOR_CLOCK": "manual", "TOGETHER_EMULATOR_START_TIME": "1000"}
    )
    try:
        assert get(url + "/_emulator/clock")["epoch"] == 1767225700.0
    finally:
        stop(process)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--clock", "sundial"], "clock"),
        (["--time-scale", "0"], "time_scale"),
        (["--pending-seconds", "soon"], "pending_seconds"),
    ],
)
def test_invalid_settings_exit_2_naming_the_setting(args: list[str], fragment: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_console_script_help_lists_every_option() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    for option in (
        "--host",
        "--port",
        "--seed",
        "--clock",
        "--time-scale",
        "--start-time",
        "--pending-seconds",
        "--queued-seconds",
        "--running-seconds",
        "--running-seconds-per-row",
        "--column-use-rule",
    ):
        assert option in done.stdout
