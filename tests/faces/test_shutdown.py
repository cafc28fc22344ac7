"""Stopping `serve`: SIGTERM and SIGINT end it with status 0 within a few seconds, whatever faults
are still playing on open connections."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
from typing import Any

import httpx
import pytest

from tests.faces.serve_support import LiveServer, served
from tests.support import classify_params

AUTH = {"authorization": "Bearer k"}

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_stops_the_server_with_status_0(sig: int) -> None:
    with served() as server:
        assert server.request("GET", "/_emulator/health")[0] == 200
        assert server.stop(sig) == 0
        assert "Traceback" not in (server.process.stderr.read() if server.process.stderr else "")


def fired(server: LiveServer) -> int:
    return int(server.request("GET", "/_emulator/faults")[1]["rules"][0]["fired"])


def pending_request(server: LiveServer, outcome: dict[str, Any]) -> threading.Thread:
    """`GET /v3/whoami` from a thread, recording how it ended in `outcome`."""

    def run() -> None:
        connection = server.connection(timeout=60)
        try:
            connection.request("GET", "/v3/whoami", headers={"authorization": "Bearer key"})
            outcome["status"] = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            outcome["error"] = type(exc).__name__
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("sig", "action", "ends_with"),
    [
        # A hang lasts 300 s by default: its connection is closed without an answer.
        pytest.param(signal.SIGTERM, {"kind": "hang"}, "error", id="hang-SIGTERM"),
        pytest.param(signal.SIGINT, {"kind": "hang"}, "error", id="hang-SIGINT"),
        # A latency is cut short and the answer sent.
        pytest.param(signal.SIGTERM, {"kind": "latency", "seconds": 300}, "status", id="latency-SIGTERM"),
    ],
)
def test_a_signal_cuts_pending_faults_short(sig: int, action: dict[str, Any], ends_with: str) -> None:
    with served() as server:
        status, _ = server.request("POST", "/_emulator/faults", {"match": {"route": "whoami"}, "action": action})
        assert status == 201
        outcome: dict[str, Any] = {}
        client = pending_request(server, outcome)
        server.wait_until(lambda: fired(server) == 1, "the fault has fired")
        assert server.stop(sig) == 0
        client.join(30)
        assert not client.is_alive()
        assert ends_with in outcome, outcome


def test_a_signal_cuts_short_a_result_file_its_client_does_not_read() -> None:
    """A client that asks for a large result file and reads none of it holds its send, which would
    hold the shutdown for its whole grace period and end in a cancelled task (a traceback): the
    connection is dropped at once instead."""
    with served("--clock", "manual") as server, httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as http:
        rows = "".join(
            json.dumps({"prompt": f"Question {i}?" * 4, "response": f"Answer {i}." * 4}) + "\n" for i in range(40_000)
        )
        file_id = http.post(
            "/v1/files/upload", data={"purpose": "eval", "file_name": "d.jsonl"}, files={"file": ("d.jsonl", rows)}
        ).json()["id"]
        job = http.post("/v1/evaluation", json={"type": "classify", "parameters": classify_params(file_id)}).json()
        http.post("/_emulator/clock/advance", json={"seconds": 86_400})
        result = http.get(f"/v1/evaluation/{job['workflow_id']}/status").json()["results"]["result_file_id"]
        with socket.create_connection((server.host, server.port)) as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.sendall(
                f"GET /v1/files/{result}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n".encode()
            )
            assert reader.recv(64).startswith(b"HTTP/1.1 200")  # the file is on its way, and no more is read
            assert server.stop(signal.SIGTERM) == 0
        errors = server.process.stderr.read() if server.process.stderr else ""
        assert "Traceback" not in errors and "ERROR" not in errors, errors
