"""The respx face: EmulatorMock and respx_router serve sync and async httpx clients with no socket."""

from __future__ import annotations

import asyncio
import inspect
import os

import httpx
import pytest
import respx
from respx.models import AllMockedAssertionError
from together_eval_emulator import key_fingerprint
from together_eval_emulator.faces._controller import EmulatorController
from together_eval_emulator.faces._mock import DEFAULT_BASE_URL, EmulatorMock, respx_router
from together_eval_emulator.faces._server import EmulatorServer
from together_eval_emulator.http._core import Emulator

AUTH = {"authorization": "Bearer k"}


def test_sync_and_async_clients_are_served_by_the_core() -> None:
    with EmulatorMock() as emu:
        with httpx.Client(base_url=emu.url, headers=AUTH) as client:
            assert client.get("/v1/evaluation").json() == []

        async def read() -> int:
            async with httpx.AsyncClient(base_url=emu.url, headers=AUTH) as client:
                return (await client.get("/v1/evaluation/model-list")).status_code

        assert asyncio.run(read()) == 200
    assert [e.route for e in emu.journal] == ["evaluation.list", "evaluation.model_list"]


def test_a_latency_fault_lets_the_event_loop_run_the_other_tasks_meanwhile() -> None:
    """An async client's scripted latency is awaited: while one request waits, another task runs and
    can cancel it. (Were the wait a blocking `time.sleep`, no other task could run during the five
    seconds, and the request would finish before the cancel.)"""
    with EmulatorMock() as emu:
        emu.add_fault({"match": {"route": "files.list"}, "action": {"kind": "latency", "seconds": 5}})

        async def waiting_request_is_cancelled() -> bool:
            async with httpx.AsyncClient(base_url=emu.url, headers=AUTH) as client:
                request = asyncio.create_task(client.get("/v1/files"))
                while not emu.journal:  # the emulator answered: the request now waits out its latency
                    await asyncio.sleep(0)
                request.cancel()
                try:
                    await request
                except asyncio.CancelledError:
                    return True
                return False

        assert asyncio.run(waiting_request_is_cancelled())
        with httpx.Client(base_url=emu.url, headers=AUTH) as client:  # a sync client waits, as before
            emu.add_fault({"match": {"route": "evaluation.list"}, "action": {"kind": "latency", "seconds": 0.01}})
            assert client.get("/v1/evaluation").json() == []


def test_upload_location_is_served_by_the_same_router() -> None:
    with EmulatorMock(base_url="https://evals.example.test:8443") as emu, httpx.Client(headers=AUTH) as client:
        step1 = client.post(emu.url + "/v1/files", data={"purpose": "eval", "file_name": "d.jsonl"})
        assert step1.status_code == 302
        assert step1.headers["location"].startswith("https://evals.example.test:8443/_emulator/uploads/")
        assert client.put(step1.headers["location"], content=b'{"a": 1}\n').status_code == 200
    emu.assert_called("upload.put", times=1)


def test_unknown_paths_get_the_emulator_404_not_a_connection_error() -> None:
    with EmulatorMock() as emu, httpx.Client(base_url=emu.url, headers=AUTH) as client:
        response = client.get("/v1/batches")
        assert response.status_code == 404
        assert "not emulated" in response.json()["error"]["message"]
        hint = client.get("/v1/v1/evaluation").json()["error"]["message"]
        assert f"together 3.x: use base_url='{DEFAULT_BASE_URL}'" in hint
        openapi = client.get("/openapi.json")
        assert openapi.json()["info"]["title"] == "together-eval-emulator"


def test_other_hosts_fail_by_default_and_can_pass_through() -> None:
    with EmulatorMock():
        with pytest.raises(AllMockedAssertionError, match="serves only http://together-emulator.test"):
            httpx.get("http://elsewhere.test/")
    server = EmulatorServer(Emulator(clock="manual")).start()
    try:
        with EmulatorMock(other_hosts="pass_through") as emu:
            assert httpx.get(server.url + "/_emulator/health").json()["status"] == "ok"
        assert len(emu.journal) == 0
    finally:
        server.stop()


def test_other_routers_get_their_turn() -> None:
    with EmulatorMock() as emu, respx.mock(assert_all_called=False) as other:
        other.get("http://elsewhere.test/").respond(204)
        assert httpx.get("http://elsewhere.test/").status_code == 204
        assert httpx.get(emu.url + "/_emulator/health").status_code == 200


def test_router_arguments_are_checked() -> None:
    emulator = Emulator()
    with pytest.raises(ValueError, match="other_hosts must be 'fail' or 'pass_through'"):
        respx_router(emulator, other_hosts="allow")  # type: ignore[arg-type]
    for wrong in ("emulator.test", "http://emulator.test/prefix", "http://emulator.test/?q=1"):
        with pytest.raises(ValueError, match="base_url must look like"):
            respx_router(emulator, base_url=wrong)
    assert respx_router(emulator, base_url="http://emulator.test/").served_url == "http://emulator.test"
    with pytest.raises(TypeError, match="not both"):
        EmulatorMock(emulator, seed=3)


def test_decorator_gives_each_call_a_fresh_emulator() -> None:
    seen: list[tuple[int, int]] = []

    @EmulatorMock(seed=4)
    def sync_test(number: int, together_emulator: EmulatorController) -> None:
        httpx.get(together_emulator.url + "/v1/files", headers=AUTH)
        seen.append((number, len(together_emulator.journal)))
        assert together_emulator.emulator.config.seed == 4

    @EmulatorMock()
    async def async_test(together_emulator: EmulatorController) -> int:
        async with httpx.AsyncClient() as client:
            await client.get(together_emulator.url + "/v1/files", headers=AUTH)
        return len(together_emulator.journal)

    sync_test(1)
    sync_test(2)
    assert seen == [(1, 1), (2, 1)]
    assert "together_emulator" not in inspect.signature(sync_test).parameters  # pytest sees no fixture
    assert asyncio.run(async_test()) == 1
    with pytest.raises(httpx.ConnectError):
        httpx.get(DEFAULT_BASE_URL + "/v1/files")  # inactive outside the call: the request really goes out


def test_shared_emulator_and_patched_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", "https://api.together.ai")
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    emulator = Emulator(clock="manual")
    with EmulatorMock(emulator, patch_env=True, api_key="env-key") as emu:
        assert os.environ["TOGETHER_API_KEY"] == "env-key"
        assert os.environ["TOGETHER_BASE_URL"] == emu.base_url
        httpx.get(
            os.environ["TOGETHER_BASE_URL"] + "/v1/files",
            headers={"authorization": f"Bearer {os.environ['TOGETHER_API_KEY']}"},
        )
    assert os.environ["TOGETHER_BASE_URL"] == "https://api.together.ai"
    assert "TOGETHER_API_KEY" not in os.environ
    assert emulator.journal.entries[0].tenant == key_fingerprint("env-key")
    assert emulator.journal.filter(tenant="env-key") == emulator.journal.entries
