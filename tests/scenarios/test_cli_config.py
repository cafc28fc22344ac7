"""`serve`: the admin token is required off loopback; a bad config file stops it with a clear
message naming the field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from together_eval_emulator.faces._cli import is_loopback, main

REPO_ROOT = Path(__file__).resolve().parents[2]


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_EMULATOR_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_refuses_a_public_bind_without_a_token() -> None:
    done = serve("--host", "0.0.0.0")
    assert done.returncode == 2
    assert "refusing to bind 0.0.0.0" in done.stderr and "--admin-token" in done.stderr


def test_refuses_a_public_bind_without_a_token_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOGETHER_EMULATOR_ADMIN_TOKEN", raising=False)
    assert main(["serve", "--host", "::", "--port", "0"]) == 2
    assert "not a loopback address" in capsys.readouterr().err


def test_bad_config_file_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text('[[faults]]\naction = { kind = "latency" }\n')
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "faults.0.action.seconds" in err and str(config) in err


def test_unreadable_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "missing.json")]) == 2
    assert "cannot read config file" in capsys.readouterr().err
