"""Per-call time of `client.evals.status(id)` (together 3.x) through the emulator's respx router,
against the same SDK call answered by a bare respx route returning the same bytes."""

from __future__ import annotations

import httpx
import respx
from together_eval_emulator import Emulator
from together_eval_emulator.faces._mock import respx_router

from .timing import Figure, interleaved, per_call
from .workload import call, completed_job, upload

URL = "http://together-emulator.test"


def measure(calls: int = 500, repetitions: int = 9) -> list[Figure]:
    from together import Together

    emulator = Emulator(clock="manual")
    workflow_id = completed_job(emulator, upload(emulator, 100))
    path = f"/v1/evaluation/{workflow_id}/status"
    body = call(emulator, "GET", path)
    ours = respx_router(emulator, base_url=URL)
    bare = respx.mock(assert_all_called=False, base_url=URL)
    bare.get(path).mock(return_value=httpx.Response(200, content=body, headers={"content-type": "application/json"}))
    client = Together(api_key="bench", base_url=URL, max_retries=0)
    with ours:
        assert client.evals.with_raw_response.status(workflow_id).http_response.content == body

    def timed(router: respx.MockRouter) -> float:
        with router:
            return per_call(lambda: client.evals.status(workflow_id), calls)

    medians = interleaved({"emulator": lambda: timed(ours), "bare": lambda: timed(bare)}, repetitions)
    ratio = medians["emulator"] / medians["bare"]
    return [
        Figure(
            "respx face: together 3.x `client.evals.status(id)`",
            f"{medians['emulator'] * 1e6:.0f} µs/call",
            f"{medians['bare'] * 1e6:.0f} µs/call (bare respx route)",
            f"{ratio:.2f}",
            "≤ 1.3",
            ratio <= 1.3,
        )
    ]
