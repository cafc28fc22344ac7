"""A live `together-eval-emulator serve` process for tests that need the real server: signals,
sockets, fuzzing over HTTP."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10  # a stop that takes longer than this fails the test


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One request on a new connection: the status and the JSON body (None when not JSON)."""
        connection = self.connection()
        try:
            data = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=data, headers={"content-type": "application/json", **(headers or {})})
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None

    def wait_until(self, condition: Any, what: str, seconds: float = 10) -> None:
        """Poll `condition()` until it is true; fail after `seconds`."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting until {what}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Send `sig` and wait for the exit; its status."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_SECONDS)


@contextmanager
def served(*args: str) -> Iterator[LiveServer]:
    """A server on a free port with `args` as options; killed afterwards if still running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise AssertionError(
                f"the server did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
            )
        yield LiveServer(process, line.removeprefix("listening on "))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
