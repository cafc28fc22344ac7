"""The emulator server under test: start it as a subprocess and talk to its control plane."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

LISTENING_RE = re.compile(r"^listening on (http://\S+?)/?$")
STARTUP_TIMEOUT_S = 20.0


class LiveEmulator:
    """A running emulator server and its control plane."""

    def __init__(self, url: str, proc: subprocess.Popen[str], log_path: Path) -> None:
        self.url = url  # base URL for together 3.x (no /v1)
        self.v1_url = url + "/v1"  # base URL for together 1.x
        self.proc = proc
        self.log_path = log_path
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no server log>"
        return "\n".join(lines[-n:])

    def _control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        resp = self.http.request(method, path, **kwargs)
        assert resp.status_code == 200, (
            f"control plane {method} {path} -> {resp.status_code}: {resp.text}\n"
            f"--- server log tail ---\n{self.log_tail()}"
        )
        return resp

    def reset(self) -> None:
        self._control("POST", "/_emulator/reset")

    def advance(self, seconds: float) -> Any:
        return self._control("POST", "/_emulator/clock/advance", json={"seconds": seconds}).json()

    def clock(self) -> Any:
        return self._control("GET", "/_emulator/clock").json()

    def health(self) -> httpx.Response:
        return self.http.get("/_emulator/health")

    def api(self, method: str, path: str, key: str | None = "contract-key", **kwargs: Any) -> httpx.Response:
        """A raw API call (path includes /v1). ``key=None`` sends no Authorization header."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.http.request(method, path, headers=headers, **kwargs)


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    # The contract suite runs the emulator at its defaults, whatever the caller's shell says.
    for name in list(env):
        if name.startswith("TOGETHER_EMULATOR_"):
            del env[name]
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def start_emulator(log_path: Path, *extra_args: str) -> Iterator[LiveEmulator]:
    """Run ``python -m together_eval_emulator serve --port 0 --clock manual --seed 0 [extra_args]`` until exit."""
    log_file = open(log_path, "w")
    cmd = [
        sys.executable,
        "-m",
        "together_eval_emulator",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--clock",
        "manual",
        "--seed",
        "0",
        *extra_args,
    ]
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=_server_env(), stdout=subprocess.PIPE, stderr=log_file, text=True, bufsize=1
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keeps draining stdout so the server never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
            log_file.write("[stdout] " + line)
            log_file.flush()
        lines.put(None)

    threading.Thread(target=pump, name="emulator-stdout", daemon=True).start()

    url: str | None = None
    seen: list[str] = []
    start = time.monotonic()
    while url is None:
        remaining = STARTUP_TIMEOUT_S - (time.monotonic() - start)
        if remaining <= 0:
            break
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.rstrip("\n"))
        m = LISTENING_RE.match(line.strip())
        if m:
            url = m.group(1)
    if url is None:
        _stop(proc)
        log_file.close()
        pytest.fail(
            f"emulator did not print 'listening on http://…' within {STARTUP_TIMEOUT_S:.0f} s "
            f"(exit code {proc.poll()}).\ncommand: {' '.join(cmd)} (cwd {REPO_ROOT})\n"
            f"stdout: {seen!r}\n--- log ---\n{log_path.read_text(errors='replace')[-4000:]}",
            pytrace=False,
        )
    server = LiveEmulator(url, proc, log_path)
    try:
        yield server
    finally:
        server.http.close()
        _stop(proc)
        log_file.close()


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
