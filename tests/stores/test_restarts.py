"""State that survives restarts: an emulator on a SQLite store answers every request exactly as one
that never restarted, whatever it held when it stopped (jobs of every kind, files, an upload in
flight, scenarios and fault rules part used, counters, quota windows, the clock, the journal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from together_eval_emulator import Emulator
from together_eval_emulator.engine._builtin_datasets import names as builtin_datasets
from together_eval_emulator.engine._config import EmulatorConfig
from together_eval_emulator.stores._sqlite import SQLiteStore

from tests.stores.store_support import RestartingFace
from tests.support import BASE, Api, CoreFace, Reply, classify_params, jsonl, qa_rows, without_tokens

SETTINGS = {"seed": 3, "clock": "manual"}


def session(api: Api) -> list[Reply]:
    """A session that leaves a bit of every kind of state behind at each step; every answer."""
    replies: list[Reply] = []

    def send(method: str, path: str, key: str | None = "default", **kwargs: Any) -> Reply:
        reply = api.request(method, path, key=key, **kwargs)
        replies.append(reply)
        return reply

    def control(method: str, path: str, body: Any = None) -> Reply:
        return send(method, "/_emulator/" + path, key=None, json_body=body)

    control("POST", "scenarios", {"times": 2, "outcome": {"kind": "error"}})
    control(
        "POST",
        "faults",
        {"match": {"route": "files.list"}, "after": 1, "times": 1, "action": {"kind": "error", "status": 503}},
    )
    control("POST", "faults", {"match": {"route": "evaluation.status", "tenant": "key-b"}, "quota": {"limit": 2}})
    file_id = api.upload(jsonl(qa_rows(6)))  # the three-step upload (its replies are not kept: same ids below)
    replies.append(send("GET", f"/v1/files/{file_id}"))
    init = send(
        "POST",
        "/v1/files/multipart/initiate",
        json_body={"file_name": "big.jsonl", "file_size": 40, "num_parts": 2, "purpose": "eval"},
    ).json()
    content = jsonl(qa_rows(1)).encode()
    parts = [part["URL"].removeprefix(BASE) for part in init["parts"]]
    send("PUT", parts[0], key=None, body=content[:10])  # an upload in flight
    created = [
        send("POST", "/v1/evaluation", json_body={"type": "classify", "parameters": classify_params(file_id)})
        for _ in range(3)  # two use up the "next 2" scenario (error), the third is ordinary
    ]
    control("PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}})
    polled = send("POST", "/v1/evaluation", json_body={"type": "classify", "parameters": classify_params(file_id)})
    documented = send(
        "POST",
        "/v1/evaluation",
        json_body={"model": "openai/gpt-oss-20b", "evaluation_type": "classify", "dataset": builtin_datasets()[0]},
    )
    ids = [reply.json()["workflow_id"] for reply in [*created, polled, documented]]
    control("POST", "clock/advance", {"seconds": 30})
    for workflow_id in ids:
        send("GET", f"/v1/evaluation/{workflow_id}/status")
    send("GET", "/v1/evaluation")
    for _ in range(3):
        send("GET", "/v1/files")  # the second is faulted, once
    for _ in range(3):
        send("GET", f"/v1/evaluation/{ids[0]}/status", key="key-b")  # another tenant: 404s, quota-counted
    send("PUT", parts[1], key=None, body=content[10:])
    etags = [{"part_number": n, "etag": "x"} for n in (1, 2)]
    send(
        "POST",
        "/v1/files/multipart/complete",
        json_body={"upload_id": init["upload_id"], "file_id": init["file_id"], "parts": etags},
    )
    send("GET", f"/v1/files/{init['file_id']}/content")
    control("POST", "clock/advance", {"seconds": 86_400})
    for workflow_id in ids:
        send("GET", f"/v1/evaluation/{workflow_id}")
    result_file = api.request("GET", f"/v1/evaluation/{ids[2]}").json()["results"]["result_file_id"]
    send("GET", f"/v1/files/{result_file}/content")
    send("DELETE", f"/v1/files/{result_file}")
    send("GET", "/v1/files")
    for path in ("state", "requests", "faults", "scenarios", "clock", "seed"):
        control("GET", path)
    control("POST", "seed", {"seed": 11})  # a reseed: starts over from another seed
    send("POST", "/v1/evaluation", json_body={"type": "classify", "parameters": classify_params(file_id)})
    control("GET", "seed")
    control("GET", "state")
    return replies


def differences(expected: list[Reply], found: list[Reply]) -> list[str]:
    problems = [f"{len(found)} replies, expected {len(expected)}"] if len(found) != len(expected) else []
    for index, (want, got) in enumerate(zip(expected, found, strict=False)):
        # Upload tokens are random by design: compared as placeholders.
        if (want.status, want.headers, without_tokens(want.body.decode("utf-8", "surrogateescape"))) != (
            got.status,
            got.headers,
            without_tokens(got.body.decode("utf-8", "surrogateescape")),
        ):
            problems.append(
                f"reply {index}: {got.status} {got.body[:300]!r}\n  expected {want.status} {want.body[:300]!r}"
            )
    return problems


def test_a_restart_before_every_request_changes_no_answer(tmp_path: Path) -> None:
    expected = session(Api(CoreFace(Emulator(**SETTINGS))))
    restarting = RestartingFace(f"sqlite:{tmp_path / 'e.db'}", EmulatorConfig(**SETTINGS))
    found = session(Api(restarting))  # type: ignore[arg-type]
    restarting.emulator.store.close()
    assert not differences(expected, found), "\n".join(differences(expected, found))
    statuses = [reply.status for reply in expected]
    assert statuses.count(503) == 1 and statuses.count(429) == 1 and set(statuses) == {200, 201, 404, 429, 503}


def test_an_emulator_reopened_takes_up_the_state_not_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    first = Api(CoreFace(Emulator(seed=5, clock="manual", store=SQLiteStore(path))))
    file_id = first.upload(jsonl(qa_rows(2)))
    first.advance(100)
    state = first.control("GET", "state")
    first.emulator.store.close()
    # Other settings at the restart: the seed and the clock are the store's; nothing is reset.
    second = Api(CoreFace(Emulator(seed=9, clock="real", store=SQLiteStore(path))))
    assert second.control("GET", "seed") == {"seed": 5}
    assert second.control("GET", "state") == state
    assert [f["id"] for f in second.own_files()] == [file_id]
    second.control("POST", "reset")  # the clock starts over from the settings; the seed in force stays
    assert second.control("GET", "seed") == {"seed": 5} and second.control("GET", "clock")["mode"] == "real"
    second.emulator.store.close()


def test_a_real_clock_keeps_running_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    first = Api(CoreFace(Emulator(clock="real", time_scale=1000, store=SQLiteStore(path))))
    before = first.control("GET", "clock")
    first.emulator.store.close()
    second = Api(CoreFace(Emulator(clock="manual", store=SQLiteStore(path))))
    after = second.control("GET", "clock")
    assert after["mode"] == "real" and after["time_scale"] == 1000
    assert after["epoch"] > before["epoch"]  # at 1000x, even the reopening moves it on
    second.emulator.store.close()


def test_the_journal_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    first = Api(CoreFace(Emulator(clock="manual", store=SQLiteStore(path))))
    first.request("GET", "/v1/files")
    first.request("POST", "/v1/evaluation", json_body={"type": "classify"})
    entries = json.loads(json.dumps(first.control("GET", "requests")))
    first.emulator.store.close()
    second = Emulator(clock="manual", store=SQLiteStore(path))
    assert Api(CoreFace(second)).control("GET", "requests") == entries
    assert [entry.describe() for entry in second.journal] == [
        "#1 GET /v1/files -> 200 [files.list]",
        '#2 POST /v1/evaluation -> 400 [evaluation.create] body={"type": "classify"}',
    ]
    second.store.close()


def test_the_polling_report_is_the_same_after_a_restart_before_every_request(tmp_path: Path) -> None:
    def graded(api: Api) -> Any:
        job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
        for _ in range(3):
            api.status(job_id)
        api.advance(10)
        api.request("GET", "/v1/evaluation")
        api.status(job_id)
        api.status(job_id)
        return api.control("GET", f"jobs/{job_id}/polling")

    expected = graded(Api(CoreFace(Emulator(clock="manual"))))
    restarting = RestartingFace(f"sqlite:{tmp_path / 'e.db'}", EmulatorConfig(clock="manual"))
    found = graded(Api(restarting))  # type: ignore[arg-type]
    restarting.emulator.store.close()
    assert found == expected and expected["verdict"] == "bad"
