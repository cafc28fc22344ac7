"""The server's stack: httptools and uvloop when they import, h11 and asyncio otherwise, and the
server answers the same on either."""

from __future__ import annotations

import asyncio
import importlib.util
import sys

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces._server import EmulatorServer, server_stack

from tests.support import JUDGE, jsonl, qa_rows

AUTH = {"Authorization": "Bearer key-a"}
INSTALLED = {module: importlib.util.find_spec(module) is not None for module in ("httptools", "uvloop")}
BOTH = all(INSTALLED.values())


def unimportable(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make `import module` fail as it does where the module is not installed."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def served_loop(server: EmulatorServer) -> str:
    """The class name of the event loop the server's thread runs."""
    found: list[str] = []

    async def look() -> None:
        found.append(type(asyncio.get_running_loop()).__module__)

    assert server.server.servers, "the server is not serving"
    loop = server.server.servers[0].get_loop()
    asyncio.run_coroutine_threadsafe(look(), loop).result(5)
    return found[0]


def exercise(server: EmulatorServer) -> None:
    """Upload, create, read and list over the socket."""
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        content = jsonl(qa_rows(3))
        file_id = http.post(
            "/v1/files/upload", data={"purpose": "eval", "file_name": "d.jsonl"}, files={"file": ("d.jsonl", content)}
        ).json()["id"]
        body = {
            "type": "classify",
            "parameters": {
                "input_data_file_path": file_id,
                "labels": ["good", "bad"],
                "pass_labels": ["good"],
                "model_to_evaluate": "response",
                "judge": JUDGE,
            },
        }
        created = http.post("/v1/evaluation", json=body)
        assert created.status_code == 200, created.text
        workflow_id = created.json()["workflow_id"]
        assert http.get(f"/v1/evaluation/{workflow_id}/status").json()["status"] == "pending"
        listed = http.get("/v1/evaluation", params={"status": "pending", "limit": 5}).json()
        assert [job["workflow_id"] for job in listed] == [workflow_id]
        assert http.get("/v1/nothing-here").status_code == 404


@pytest.mark.skipif(not BOTH, reason="httptools and uvloop are not installed here (uvicorn[standard])")
def test_the_fastest_stack_is_chosen_when_it_imports() -> None:
    assert server_stack() == ("httptools", "uvloop")
    server = EmulatorServer(Emulator(clock="manual")).start()
    try:
        assert (server.http, server.loop) == ("httptools", "uvloop")
        protocol = server.server.config.http  # uvicorn's httptools protocol, bounded (test_http_protocol.py)
        assert isinstance(protocol, type) and protocol.__mro__[1].__name__ == "HttpToolsProtocol"
        assert served_loop(server).startswith("uvloop")
        exercise(server)
    finally:
        server.stop()


def test_h11_and_asyncio_are_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    unimportable(monkeypatch, "httptools", "uvloop")
    assert server_stack() == ("h11", "asyncio")
    server = EmulatorServer(Emulator(clock="manual")).start()
    try:
        assert server.server.config.http == "h11"
        assert served_loop(server).startswith("asyncio")
        exercise(server)
    finally:
        server.stop()


@pytest.mark.parametrize("missing", ["httptools", "uvloop"])
def test_each_part_falls_back_on_its_own(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    unimportable(monkeypatch, missing)
    http, loop = server_stack()
    assert (http == "h11") == (missing == "httptools" or not INSTALLED["httptools"])
    assert (loop == "asyncio") == (missing == "uvloop" or not INSTALLED["uvloop"])
