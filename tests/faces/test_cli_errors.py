"""`serve`'s mistakes: every bad option, variable or config value is one line on stderr and exit
status 2, never a traceback; `--help` shows the choices of every option that has some."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from together_eval_emulator.engine._config import env_var
from together_eval_emulator.faces._cli import main
from together_eval_emulator.faces._settings import ServerSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ServerSettings.model_fields:
        monkeypatch.delenv(env_var(name), raising=False)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`main(argv)`'s exit status (argparse's own exits included) and its stderr."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["--port", "-1"], "--port"),
        (["--port", "70000"], "--port"),
        (["--port", "eighty"], "--port"),
        (["--start-time", "yesterday"], "--start-time"),
        (["--start-time", "1e20"], "--start-time"),
        (["--start-time", "inf"], "--start-time"),
        (["--log-level", "chatty"], "--log-level"),
        (["--clock", "sundial"], "--clock"),
        (["--auth", "maybe"], "--auth"),
        (["--progression", "sometimes"], "--progression"),
        (["--time-scale", "1e308"], "--time-scale"),
        (["--time-scale", "nan"], "--time-scale"),
        (["--running-seconds", "inf"], "--running-seconds"),
        (["--max-body-bytes", "0"], "--max-body-bytes"),
        (["--max-json-depth", "100000"], "--max-json-depth"),
        (["--port"], "--port"),
        (["--no-such-option"], "--no-such-option"),
        (["--config", "/nonexistent/emulator.toml"], "/nonexistent/emulator.toml"),
        (["--host", "0.0.0.0"], "--admin-token"),
        (["--host", "0.0.0.0", "--admin-token", " "], "--admin-token"),  # a header can never carry it
        (["--host", "0.0.0.0", "--admin-token", "ключ"], "--admin-token"),
        (["--journal-byte-limit", "100000000000000000000"], "--journal-byte-limit"),
        (["--store", "sqlite::memory:"], "sqlite:"),  # one database per process, kept by none
        (["--store", "redis://127.0.0.1:99999/0"], "Port out of range"),
        (["--store", "redis://127.0.0.1:6379/0?socket_timeout=abc"], "redis://127.0.0.1:6379/0"),
        (["--store", "sqlite:/dev/null"], "sqlite:/dev/null"),
    ],
)
def test_a_bad_option_is_one_line_and_status_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(["serve", *argv], capsys)
    assert status == 2
    assert err.count("\n") == 1 and fragment in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "name,value",
    [
        ("port", "-1"),
        ("port", "99999"),
        ("start_time", "yesterday"),
        ("log_level", "chatty"),
        ("time_scale", "true"),
        ("seed", "x"),
        ("column_use_rule", "maybe"),
        ("max_list_items", "-5"),
    ],
)
def test_a_bad_variable_is_one_line_and_status_2(
    name: str, value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env_var(name), value)
    status, err = run(["serve"], capsys)
    assert status == 2
    assert err.count("\n") == 1 and env_var(name) in err, err


def test_a_boolean_in_the_config_file_is_not_a_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "emulator.json"
    config.write_text('{"time_scale": true}')
    status, err = run(["serve", "--config", str(config)], capsys)
    assert status == 2 and "time_scale" in err and err.count("\n") == 1, err


def test_help_shows_every_choice() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    text = " ".join(done.stdout.split())  # argparse wraps lines
    for option, choices in [
        ("--clock", "real|manual"),
        ("--auth", "any|known"),
        ("--progression", "immediate|after_polls|durations|manual"),
        ("--log-level", "critical|error|warning|info|debug|trace"),
    ]:
        assert f"{option} {choices}" in text, option
    for option in ("--max-body-bytes", "--max-upload-bytes", "--max-json-depth", "--max-list-items"):
        assert option in text


def test_the_package_run_under_its_folder_name_refuses_with_the_right_command() -> None:
    """`python -m emulator` in a checkout would load the package as `emulator`: records it stored would
    name modules no other server reads. It refuses in one line, naming the command to use."""
    ran = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        "Run the emulator as `python -m together_eval_emulator` (or `together-eval-emulator`), not emulator."
    ]
    assert ran.stdout == ""


def test_a_config_file_nested_past_what_a_parser_reads_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "emulator.json"
    deep.write_text('{"scenarios": ' + "[" * 100_000 + "]" * 100_000 + "}")
    deep_toml = tmp_path / "emulator.toml"
    deep_toml.write_text("x = " + "[" * 5_000 + "]" * 5_000 + "\n")
    for config in (deep, deep_toml):
        status, err = run(["serve", "--config", str(config)], capsys)
        assert status == 2 and err.count("\n") == 1 and "nests" in err, err


def test_a_read_only_store_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store file this process cannot write (root writes any, so its permission is simulated)."""
    store = tmp_path / "emulator.db"
    store.touch()
    monkeypatch.setattr("together_eval_emulator.stores._sqlite.os.access", lambda path, mode: False)
    status, err = run(["serve", "--store", f"sqlite:{store}"], capsys)
    assert status == 2 and err.count("\n") == 1 and "read-only" in err, err


def test_a_signal_while_the_program_starts_stops_it_with_status_0(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM raises KeyboardInterrupt from the program's first line, as Ctrl-C does, and either,
    before the server runs (while it serves, uvicorn handles them), ends the program with status 0."""
    import signal

    from together_eval_emulator.faces import _cli, _program

    def interrupted() -> int:
        assert signal.getsignal(signal.SIGTERM) is signal.default_int_handler
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(_cli, "main", interrupted)
    try:
        assert _program.main() == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
