"""Helpers for the scripts that run under together==1.5.35 (a separate interpreter).

Each script takes one JSON argument (its configuration), records what the SDK returned or raised
step by step, and prints one line ``@@RESULT@@<json>`` for the pytest side to assert on.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

os.environ.setdefault("TOGETHER_NO_BANNER", "1")

MARKER = "@@RESULT@@"


def config() -> dict[str, Any]:
    return json.loads(sys.argv[1])


def dump(obj: Any) -> Any:
    """JSON-ready form of whatever the SDK returned (pydantic models keep their field order)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [dump(x) for x in obj]
    return obj


def describe_exception(exc: BaseException) -> dict[str, Any]:
    api_response = getattr(exc, "api_response", None)
    return {
        "exception": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": str(exc),
        "http_status": getattr(exc, "http_status", None),
        "api_response": api_response.model_dump(by_alias=True) if api_response is not None else None,
    }


class Recorder:
    """Runs steps in order; the first unexpected exception stops the script (recorded, not raised)."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {"steps": [], "failed_step": None}

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        self.out["steps"].append(name)
        try:
            value = fn()
        except BaseException as exc:  # noqa: BLE001 - everything is reported to the test
            self.out["failed_step"] = name
            self.out["failure"] = describe_exception(exc)
            self.emit()
            sys.exit(0)
        self.out[name] = dump(value)
        return value

    async def astep(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """`step` for coroutines."""
        self.out["steps"].append(name)
        try:
            value = await fn()
        except BaseException as exc:  # noqa: BLE001
            self.out["failed_step"] = name
            self.out["failure"] = describe_exception(exc)
            self.emit()
            sys.exit(0)
        self.out[name] = dump(value)
        return value

    async def aexpect_error(self, name: str, fn: Callable[[], Awaitable[Any]]) -> None:
        self.out["steps"].append(name)
        try:
            value = await fn()
        except BaseException as exc:  # noqa: BLE001
            self.out[name] = describe_exception(exc)
        else:
            self.out[name] = {"exception": None, "returned": dump(value)}

    def expect_error(self, name: str, fn: Callable[[], Any]) -> None:
        """Record the exception `fn` raises (or that it returned normally)."""
        self.out["steps"].append(name)
        try:
            value = fn()
        except BaseException as exc:  # noqa: BLE001
            self.out[name] = describe_exception(exc)
        else:
            self.out[name] = {"exception": None, "returned": dump(value)}

    def emit(self) -> None:
        sys.stdout.write(MARKER + json.dumps(self.out) + "\n")
        sys.stdout.flush()


def advance(control_url: str, seconds: float) -> Any:
    req = urllib.request.Request(
        control_url.rstrip("/") + "/_emulator/clock/advance",
        data=json.dumps({"seconds": seconds}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def create_kwargs(type_: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Map a 3.x-style `parameters` dict onto together 1.5.35 `evaluation.create` arguments."""
    judge = parameters["judge"]
    kwargs: dict[str, Any] = {
        "type": type_,
        "judge_model": judge["model"],
        "judge_model_source": judge["model_source"],
        "judge_system_template": judge["system_template"],
        "input_data_file_path": parameters["input_data_file_path"],
    }
    if "external_api_token" in judge:
        kwargs["judge_external_api_token"] = judge["external_api_token"]
    if "external_base_url" in judge:
        kwargs["judge_external_base_url"] = judge["external_base_url"]
    for key in (
        "labels",
        "pass_labels",
        "min_score",
        "max_score",
        "pass_threshold",
        "model_to_evaluate",
        "model_a",
        "model_b",
    ):
        if key in parameters:
            kwargs[key] = parameters[key]
    return kwargs
