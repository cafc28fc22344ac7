"""The real SDKs meet each fault: retries as documented, their own exceptions
(docs/reference/sdks.md#errors-and-retries).

together 3.1.1 runs in this interpreter against a live server; together 1.5.35 runs in its own
interpreter (one subprocess for all its cases). Retry-After values are tiny so nothing waits long.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces._server import EmulatorServer

from tests.support import running

together = pytest.importorskip("together")

MATCH = {"route": "evaluation.list"}  # 3.1.1 lists with GET /v1/evaluation
MATCH15 = {"route": "evaluations.list"}  # 1.5.35 lists with GET /v1/evaluations
FAST = 0.05  # seconds of Retry-After: honoured retries are quick


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with running(Emulator(clock="real")) as live:
        yield live


def set_fault(server: EmulatorServer, rule: dict[str, Any]) -> str:
    with httpx.Client(base_url=server.url) as client:
        client.delete("/_emulator/faults")
        response = client.post("/_emulator/faults", json=rule)
        assert response.status_code == 201, response.text
        return response.json()["id"]


def attempts(server: EmulatorServer) -> tuple[int, int]:
    """(matching requests, fired faults) of the one rule in force."""
    with httpx.Client(base_url=server.url) as client:
        rule = client.get("/_emulator/faults").json()["rules"][0]
    return rule["seen"], rule["fired"]


def error(status: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "error", "status": status, **extra}


# (case, action, client options, exception class name, attempts) — docs/reference/sdks.md#errors-and-retries for 3.1.1
CASES_3 = [
    ("429", error(429, retry_after=FAST), {}, "RateLimitError", 3),
    ("500", error(500, retry_after=FAST), {}, "InternalServerError", 3),
    ("502", error(502, retry_after=FAST), {}, "InternalServerError", 3),
    ("503", error(503, retry_after=FAST), {}, "InternalServerError", 3),
    ("408", error(408, retry_after=FAST), {}, "APIStatusError", 3),
    ("409", error(409, retry_after=FAST), {}, "ConflictError", 3),
    ("400", error(400), {}, "BadRequestError", 1),
    ("401", error(401), {}, "AuthenticationError", 1),
    ("403", error(403), {}, "PermissionDeniedError", 1),
    ("404", error(404), {}, "NotFoundError", 1),
    ("422", error(422), {}, "UnprocessableEntityError", 1),
    ("500 x-should-retry false", error(500, should_retry=False), {}, "InternalServerError", 1),
    ("400 x-should-retry true", error(400, retry_after=FAST, should_retry=True), {}, "BadRequestError", 3),
    ("drop", {"kind": "drop"}, {}, "APIConnectionError", 3),
    ("truncate", {"kind": "truncate"}, {"max_retries": 1}, "APIConnectionError", 2),
    ("hang", {"kind": "hang"}, {"max_retries": 1, "timeout": 0.25}, "APITimeoutError", 2),
    ("malformed", {"kind": "malformed"}, {}, "JSONDecodeError", 1),
]


@pytest.mark.parametrize("case, action, options, exception, tries", CASES_3, ids=[c[0] for c in CASES_3])
def test_together_3(
    server: EmulatorServer, case: str, action: dict[str, Any], options: dict[str, Any], exception: str, tries: int
) -> None:
    set_fault(server, {"match": MATCH, "action": action})
    client = together.Together(api_key="sdk3-key", base_url=server.url, **options)
    with pytest.raises(Exception) as info:
        client.evals.list()
    assert type(info.value).__name__ == exception
    if exception != "JSONDecodeError":  # 3.1.1 lets a broken JSON body through as json's own error
        assert type(info.value).__module__.startswith("together")
    assert attempts(server) == (tries, tries)


def test_together_3_status_error_classes(server: EmulatorServer) -> None:
    rule_id = set_fault(server, {"match": MATCH, "action": error(408)})
    client = together.Together(api_key="sdk3-key", base_url=server.url, max_retries=0)
    with pytest.raises(together.APIStatusError) as info:
        client.evals.list()
    assert info.value.status_code == 408
    assert info.value.body == {
        "error": {
            "message": f"The request timed out. (emulated fault '{rule_id}')",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


@pytest.fixture
def sdk_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the SDK asks for between retries, recorded (and still slept, so real-clock quotas
    see them): what the SDK decided is asserted, not how long the machine took."""
    real_sleep, main = time.sleep, threading.current_thread()
    sleeps: list[float] = []

    def recording_sleep(seconds: float) -> None:
        if threading.current_thread() is main:
            sleeps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    return sleeps


@pytest.mark.parametrize(
    "headers, options, expected",
    [
        ({"retry-after-ms": "300"}, {}, [0.3, 0.3]),  # two honoured waits of 0.3 s
        ({"retry-after": "0.3"}, {}, [0.3, 0.3]),
        ({"retry-after": "0"}, {"max_retries": 1}, None),  # <= 0 is ignored: the SDK's own backoff instead
    ],
)
def test_together_3_honours_retry_after(
    server: EmulatorServer,
    sdk_sleeps: list[float],
    headers: dict[str, str],
    options: dict[str, Any],
    expected: list[float] | None,
) -> None:
    set_fault(server, {"match": MATCH, "action": error(429, headers=headers)})
    client = together.Together(api_key="sdk3-key", base_url=server.url, **options)
    with pytest.raises(together.RateLimitError):
        client.evals.list()
    if expected is not None:
        assert sdk_sleeps == pytest.approx(expected)
    else:
        from together._constants import INITIAL_RETRY_DELAY

        assert len(sdk_sleeps) == 1 and 0.75 * INITIAL_RETRY_DELAY <= sdk_sleeps[0] <= INITIAL_RETRY_DELAY


def test_together_3_quota_waits_the_honest_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a manual clock, the SDK's retry wait moves the emulator's clock instead of the wall clock:
    the quota's window and the wait the SDK chose are exact, whatever the machine's load."""
    live = EmulatorServer(Emulator(clock="manual")).start()
    try:
        main, sleeps = threading.current_thread(), []

        def clock_sleep(seconds: float) -> None:  # the SDK's retry wait, on the emulator clock
            if threading.current_thread() is main:
                sleeps.append(seconds)
                live.emulator.advance(seconds)

        monkeypatch.setattr(time, "sleep", clock_sleep)
        set_fault(live, {"match": MATCH, "quota": {"limit": 1, "window_seconds": 0.3}})
        client = together.Together(api_key="sdk3-quota", base_url=live.url)
        client.evals.list()
        client.evals.list()  # 429, then the SDK waits retry-after-ms (all of the 0.3 s window) and succeeds
        assert sleeps == [0.3]
        assert attempts(live) == (3, 1)
    finally:
        live.stop()


# ---------------------------------------------------------------- together 1.5.35 (subprocess)

CASES_15: list[tuple[str, dict[str, Any], dict[str, Any], str, int]] = [
    ("429", error(429, retry_after=FAST), {}, "together.error.RateLimitError", 6),
    ("500", error(500, retry_after=FAST), {}, "together.error.APIError", 6),
    ("500 x-should-retry false", error(500, retry_after=FAST, should_retry=False), {}, "together.error.APIError", 6),
    ("502", error(502, retry_after=FAST), {}, "together.error.APIError", 6),
    ("503", error(503, retry_after=FAST), {}, "together.error.ServiceUnavailableError", 6),
    ("408", error(408, retry_after=FAST), {}, "together.error.APIError", 1),
    ("409", error(409, retry_after=FAST), {}, "together.error.APIError", 1),
    ("400 x-should-retry true", error(400, should_retry=True), {}, "together.error.InvalidRequestError", 1),
    ("401", error(401), {}, "together.error.AuthenticationError", 1),
    ("403", error(403), {}, "together.error.InvalidRequestError", 1),
    ("404", error(404), {}, "together.error.InvalidRequestError", 1),
    ("422", error(422), {}, "together.error.InvalidRequestError", 1),
    ("retry-after seconds", error(429, headers={"retry-after": "0.05"}), {}, "together.error.RateLimitError", 6),
    ("drop", {"kind": "drop"}, {"max_retries": 1}, "together.error.APIConnectionError", 2),
    ("truncate", {"kind": "truncate"}, {"max_retries": 1}, "together.error.APIConnectionError", 2),
    ("hang", {"kind": "hang"}, {"max_retries": 1, "timeout": 0.25}, "together.error.Timeout", 2),
    ("malformed", {"kind": "malformed"}, {}, "together.error.APIError", 1),
]


@pytest.fixture(scope="module")
def results15(server: EmulatorServer, python15: Path) -> dict[str, Any]:
    cases = [
        {"name": name, "fault": {"match": MATCH15, "action": action}, "client": options, "call": "list"}
        for name, action, options, _, _ in CASES_15
    ]
    cases.append(
        {
            "name": "quota",
            "fault": {"match": MATCH15, "quota": {"limit": 1, "window_seconds": 0.3}},
            "call": "list_twice",
        }
    )
    script = Path(__file__).parent / "sdk15" / "fault_cases.py"
    done = subprocess.run(
        [str(python15), str(script), json.dumps({"url": server.url, "cases": cases})],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "@@RESULT@@" in done.stdout, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return json.loads(done.stdout.split("@@RESULT@@", 1)[1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("case, action, options, exception, tries", CASES_15, ids=[c[0] for c in CASES_15])
def test_together_15(
    results15: dict[str, Any], case: str, action: dict[str, Any], options: dict[str, Any], exception: str, tries: int
) -> None:
    result = results15[case]
    assert result["exception"] == exception, result
    assert (result["attempts"], result["fired"]) == (tries, tries)
    if tries == 6:  # five honoured waits of 0.05 s; backoff alone would take > 8 s
        assert result["seconds"] < 3


def test_together_15_quota_waits_the_honest_retry_after(results15: dict[str, Any]) -> None:
    result = results15["quota"]
    assert result["exception"] is None and (result["attempts"], result["fired"]) == (3, 1)
    assert 0.2 <= result["seconds"] < 2
