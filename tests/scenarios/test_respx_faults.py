"""Faults through respx (no socket): they surface as the httpx exceptions a network would raise,
and the real together 3.1.1 client turns them into its own exceptions after its retries.

`local_router` is the emulator's own respx router (`emulator.mock.respx_router`); the tests at the
end run the same checks through `EmulatorMock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from together_eval_emulator import Emulator
from together_eval_emulator.engine._faults import FaultRule
from together_eval_emulator.faces._mock import respx_router

together = pytest.importorskip("together")
BASE = "http://respx-emulator.test"


def local_router(emulator: Emulator) -> respx.MockRouter:
    return respx_router(emulator, base_url=BASE)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emulator = Emulator(clock="manual")
    with local_router(emulator):
        yield emulator


def fault(emulator: Emulator, rule: dict[str, Any]) -> FaultRule:
    return emulator.engine.faults.add(FaultRule.model_validate(rule))


@pytest.mark.parametrize(
    "action, error",
    [
        ({"kind": "hang"}, httpx.ReadTimeout),
        ({"kind": "latency", "seconds": 5}, httpx.ReadTimeout),
        ({"kind": "drop"}, httpx.RemoteProtocolError),
        ({"kind": "drop", "stage": "connect"}, httpx.ConnectError),
        ({"kind": "truncate"}, httpx.RemoteProtocolError),
    ],
)
def test_httpx_exceptions(emulator: Emulator, action: dict[str, Any], error: type[Exception]) -> None:
    fault(emulator, {"action": action})
    with httpx.Client(base_url=BASE, timeout=0.05) as client, pytest.raises(error):
        client.get("/v1/files", headers={"authorization": "Bearer k"})


@pytest.mark.anyio
async def test_async_client(emulator: Emulator) -> None:
    fault(emulator, {"times": 1, "action": {"kind": "hang"}})
    async with httpx.AsyncClient(base_url=BASE, timeout=1) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v1/files", headers={"authorization": "Bearer k"})
        assert (await client.get("/v1/files", headers={"authorization": "Bearer k"})).status_code == 200


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    "action, options, exception, tries",
    [
        ({"kind": "hang"}, {"max_retries": 1}, "APITimeoutError", 2),
        ({"kind": "drop"}, {"max_retries": 1}, "APIConnectionError", 2),
        ({"kind": "error", "status": 429, "retry_after": 0.01}, {}, "RateLimitError", 3),
        ({"kind": "error", "status": 500, "should_retry": False}, {}, "InternalServerError", 1),
    ],
)
def test_together_3_through_respx(
    emulator: Emulator, action: dict[str, Any], options: dict[str, Any], exception: str, tries: int
) -> None:
    rule = fault(emulator, {"match": {"route": "evaluation.list"}, "action": action})
    client = together.Together(api_key="k", base_url=BASE, **options)
    with pytest.raises(Exception) as info:
        client.evals.list()
    assert type(info.value).__name__ == exception
    (listed,) = [r for r in emulator.engine.faults.rules() if r.id == rule.id]
    assert (listed.seen, listed.fired) == (tries, tries)


# ---------------------------------------------------------------- EmulatorMock


@pytest.mark.parametrize(
    "action, exception",
    [
        ({"kind": "hang"}, "APITimeoutError"),
        ({"kind": "drop"}, "APIConnectionError"),
        ({"kind": "truncate"}, "APIConnectionError"),
        ({"kind": "error", "status": 503, "retry_after": 0.01}, "InternalServerError"),
    ],
)
def test_emulator_mock_faults(action: dict[str, Any], exception: str) -> None:
    from together_eval_emulator.faces._mock import EmulatorMock

    mock = EmulatorMock()
    rule = mock.emulator.engine.faults.add(
        FaultRule.model_validate({"match": {"route": "evaluation.list"}, "action": action})
    )
    with mock as control:
        client = together.Together(api_key=control.api_key, base_url=control.base_url, max_retries=1)
        with pytest.raises(Exception) as info:
            client.evals.list()
    assert type(info.value).__name__ == exception
    assert [r.fired for r in mock.emulator.engine.faults.rules() if r.id == rule.id] == [2]
