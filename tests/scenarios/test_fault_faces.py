"""Fault rules through the in-process core, the Starlette app (TestClient) and a live server."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from scenario_support import Api, classify_params, jsonl, qa_rows
from together_eval_emulator.faces._server import EmulatorServer


def add_fault(api: Api, rule: dict[str, Any]) -> dict[str, Any]:
    return api.control("POST", "faults", rule, expect=201)


def rules(api: Api) -> list[dict[str, Any]]:
    return api.control("GET", "faults")["rules"]


def test_error_status_with_the_real_body_and_retry_headers(api: Api) -> None:
    add_fault(
        api,
        {
            "match": {"route": "evaluation.list"},
            "action": {"kind": "error", "status": 503, "retry_after": 0.25, "should_retry": False},
        },
    )
    reply = api.request("GET", "/v1/evaluation")
    assert reply.status == 503
    assert reply.headers["retry-after"] == "1" and reply.headers["retry-after-ms"] == "250"
    assert reply.headers["x-should-retry"] == "false"
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "server_error"
    assert "emulated fault 'fault-1'" in error["message"]


def test_custom_error_fields_and_headers(api: Api) -> None:
    add_fault(
        api,
        {
            "action": {
                "kind": "error",
                "status": 418,
                "message": "teapot",
                "type": "t",
                "code": "c",
                "param": "p",
                "headers": {"X-Extra": "1"},
            }
        },
    )
    reply = api.request("GET", "/v1/files")
    assert reply.status == 418 and reply.headers["x-extra"] == "1"
    assert reply.json() == {
        "error": {"message": "teapot (emulated fault 'fault-1')", "type": "t", "param": "p", "code": "c"}
    }


def test_429_on_the_third_poll_then_pass(api: Api) -> None:
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    add_fault(
        api,
        {
            "match": {"route": "evaluation.status", "job_id": workflow_id},
            "after": 2,
            "times": 1,
            "action": {"kind": "error", "status": 429, "retry_after": 1},
        },
    )
    codes = [api.request("GET", f"/v1/evaluation/{workflow_id}/status").status for _ in range(5)]
    assert codes == [200, 200, 429, 200, 200]
    assert (rules(api)[0]["seen"], rules(api)[0]["fired"]) == (5, 1)


def test_match_on_tenant_and_request_field(api: Api) -> None:
    file_id = api.upload(jsonl(qa_rows(2)))
    other_file = api.upload(jsonl(qa_rows(2)), key="key-b")
    add_fault(
        api, {"match": {"tenant": "key-b", "fields": {"type": "classify"}}, "action": {"kind": "error", "status": 500}}
    )
    assert api.create("classify", classify_params(file_id)).status == 200
    assert api.create("classify", classify_params(other_file), key="key-b").status == 500
    assert api.request("GET", "/v1/files", key="key-b").status == 200  # no body field to match


def test_process_lets_the_request_take_effect(api: Api) -> None:
    file_id = api.upload(jsonl(qa_rows(2)))
    add_fault(
        api,
        {
            "match": {"route": "evaluation.create"},
            "times": 1,
            "process": True,
            "action": {"kind": "error", "status": 500},
        },
    )
    assert api.create("classify", classify_params(file_id)).status == 500
    assert len(api.request("GET", "/v1/evaluation").json()) == 1  # the job exists: a retry would duplicate it


def test_malformed_body(api: Api) -> None:
    add_fault(api, {"match": {"route": "files.list"}, "action": {"kind": "malformed"}})
    reply = api.request("GET", "/v1/files")
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_probability_is_reproducible(api: Api) -> None:
    add_fault(api, {"probability": 0.5, "action": {"kind": "error", "status": 500}})
    first = [api.request("GET", "/v1/files").status for _ in range(30)]
    api.control("POST", "reset")
    add_fault(api, {"probability": 0.5, "action": {"kind": "error", "status": 500}})
    assert [api.request("GET", "/v1/files").status for _ in range(30)] == first
    assert 5 < first.count(500) < 25


def test_quota_on_the_emulator_clock(api: Api) -> None:
    add_fault(api, {"match": {"route": "files.*"}, "quota": {"limit": 2, "window_seconds": 60}})
    assert [api.request("GET", "/v1/files").status for _ in range(2)] == [200, 200]
    api.advance(20)
    reply = api.request("GET", "/v1/files")
    assert reply.status == 429
    assert reply.headers["retry-after"] == "40" and reply.headers["retry-after-ms"] == "40000"
    assert "at most 2 requests per 60 s" in reply.json()["error"]["message"]
    assert api.request("GET", "/v1/files", key="key-b").status == 200  # per tenant
    api.advance(40)
    assert api.request("GET", "/v1/files").status == 200


def test_control_plane_is_never_faulted(api: Api) -> None:
    add_fault(api, {"action": {"kind": "error", "status": 500}})
    add_fault(api, {"action": {"kind": "drop"}})
    assert len(rules(api)) == 2
    assert api.control("DELETE", "faults/fault-2")["id"] == "fault-2"
    assert api.control("DELETE", "faults")["removed"] == ["fault-1"]
    assert api.request("GET", "/v1/files").status == 200


def test_replace_all_rules(api: Api) -> None:
    add_fault(api, {"action": {"kind": "error", "status": 500}})
    replaced = api.control(
        "PUT",
        "faults",
        [{"action": {"kind": "error", "status": 502}}, {"action": {"kind": "latency", "seconds": 0.01}}],
    )
    assert [(r["id"], r["action"]["kind"]) for r in replaced["rules"]] == [("fault-2", "error"), ("fault-3", "latency")]
    assert api.control("PUT", "faults", [])["rules"] == []


def test_core_carries_transport_faults_on_the_response(core_api: Api) -> None:
    from together_eval_emulator.http._transport import ApiRequest

    add_fault(core_api, {"match": {"route": "files.list"}, "action": {"kind": "hang", "seconds": 2}})
    response = core_api.emulator.handle(
        ApiRequest("GET", "/v1/files", "http://e", headers={"authorization": "Bearer k"})
    )
    assert response.fault is not None and response.fault.hang_seconds == 2 and response.fault.rule_id == "fault-1"


# ---------------------------------------------------------------- Starlette TestClient (in-process)


@pytest.mark.parametrize(
    "action, error",
    [
        ({"kind": "hang"}, httpx.ReadTimeout),
        ({"kind": "drop"}, httpx.RemoteProtocolError),
        ({"kind": "drop", "stage": "connect"}, httpx.ConnectError),
        ({"kind": "truncate"}, httpx.RemoteProtocolError),
    ],
)
def test_testclient_raises_the_httpx_exception(server_api: Api, action: dict[str, Any], error: type[Exception]) -> None:
    add_fault(server_api, {"match": {"route": "files.list"}, "action": action})
    with pytest.raises(error):
        server_api.request("GET", "/v1/files")


def test_testclient_latency(server_api: Api) -> None:
    add_fault(server_api, {"match": {"route": "files.list"}, "action": {"kind": "latency", "seconds": 0.05}})
    started = time.monotonic()
    assert server_api.request("GET", "/v1/files").status == 200
    assert time.monotonic() - started >= 0.05


# ---------------------------------------------------------------- live server (real sockets)


def live_fault(client: httpx.Client, rule: dict[str, Any]) -> None:
    client.delete("/_emulator/faults")
    assert client.post("/_emulator/faults", json=rule).status_code == 201


@pytest.mark.parametrize(
    "action, error",
    [
        ({"kind": "drop"}, httpx.RemoteProtocolError),
        ({"kind": "drop", "stage": "connect"}, httpx.RemoteProtocolError),  # a real socket was already accepted
        ({"kind": "truncate"}, httpx.RemoteProtocolError),
        ({"kind": "hang"}, httpx.ReadTimeout),
    ],
)
def test_live_connection_faults(live: EmulatorServer, action: dict[str, Any], error: type[Exception]) -> None:
    with httpx.Client(base_url=live.url, timeout=0.3, headers={"authorization": "Bearer k"}) as client:
        live_fault(client, {"match": {"route": "files.list"}, "action": action})
        with pytest.raises(error):
            client.get("/v1/files")
        assert client.get("/v1/evaluation").status_code == 200  # the server goes on serving


def test_live_hang_ends_when_the_cap_passes(live: EmulatorServer) -> None:
    with httpx.Client(base_url=live.url, timeout=5, headers={"authorization": "Bearer k"}) as client:
        live_fault(client, {"action": {"kind": "hang", "seconds": 0.1}})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1/files")


def test_live_latency_and_malformed(live: EmulatorServer) -> None:
    with httpx.Client(base_url=live.url, timeout=2, headers={"authorization": "Bearer k"}) as client:
        live_fault(client, {"action": {"kind": "latency", "seconds": 0.1}})
        started = time.monotonic()
        assert client.get("/v1/files").json()["data"]
        assert time.monotonic() - started >= 0.1
        whole = client.get("/v1/files").content
        live_fault(client, {"action": {"kind": "malformed"}})
        reply = client.get("/v1/files")
        assert reply.status_code == 200 and reply.content == whole[: len(whole) // 2]
        with pytest.raises(json.JSONDecodeError):
            reply.json()


def test_live_quota_with_a_real_clock(live: EmulatorServer) -> None:
    with httpx.Client(base_url=live.url, timeout=2, headers={"authorization": "Bearer k"}) as client:
        live_fault(client, {"quota": {"limit": 1, "window_seconds": 0.3}})
        assert client.get("/v1/files").status_code == 200
        reply = client.get("/v1/files")
        assert reply.status_code == 429
        wait_ms = int(reply.headers["retry-after-ms"])
        assert 0 < wait_ms <= 300
        time.sleep(wait_ms / 1000)  # the fault's own timing is under test
        assert client.get("/v1/files").status_code == 200


def test_the_journal_records_faulted_requests_with_their_route(core_api: Api) -> None:
    workflow_id = core_api.create_id("classify", classify_params(core_api.upload(jsonl(qa_rows(2)))))
    add_fault(
        core_api, {"match": {"route": "evaluation.status"}, "times": 2, "action": {"kind": "error", "status": 503}}
    )
    codes = [core_api.request("GET", f"/v1/evaluation/{workflow_id}/status").status for _ in range(3)]
    assert codes == [503, 503, 200]
    polls = core_api.emulator.journal.filter("evaluation.status", job_id=workflow_id)
    assert [entry.status_code for entry in polls] == [503, 503, 200]
