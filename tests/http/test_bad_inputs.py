"""No request can make the emulator fail: every route, given bad bodies, content types and query
strings, answers below 500, and every error is in the real shape (docs/wire-contract.md#decision-error-shape)."""

from __future__ import annotations

import json

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest

BODIES = [
    b"",
    b"{",
    b"[]",
    b"null",
    b"123",
    b'"x"',
    b'{"a": 1}',
    b"\xff\xfe",
    json.dumps({"type": "classify", "parameters": {"judge": [], "labels": "x"}}).encode(),
    json.dumps({"seconds": -1}).encode(),
    json.dumps({"seconds": "x"}).encode(),
    json.dumps({"status": 5}).encode(),
    json.dumps([{"x": 1}]).encode(),
    json.dumps({"match": {"route": 5}, "action": {"kind": "nope"}}).encode(),
    json.dumps({"progression": {"mode": "x"}}).encode(),
    json.dumps({"seed": 10**30}).encode(),
    json.dumps({"model": 1, "evaluation_type": "classify", "dataset": []}).encode(),
]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
]


def concrete(path: str) -> str:
    return (
        path.replace("{id}", "eval-0000-1")
        .replace("{token}", "tok")
        .replace("{part:int}", "1")
        .replace("{type}", "classify")
    )


@pytest.mark.parametrize("route", Emulator(clock="manual").routes, ids=lambda route: f"{route.method} {route.path}")
def test_bad_input_never_fails_the_emulator(route) -> None:  # type: ignore[no-untyped-def]
    for body in BODIES:
        for content_type in CONTENT_TYPES:
            response = Emulator(clock="manual").handle(
                ApiRequest(
                    route.method,
                    concrete(route.path),
                    "http://emulator.test",
                    "limit=abc&status=%ff",
                    {"authorization": "Bearer k", "content-type": content_type},
                    body,
                )
            )
            assert response.status_code < 500, (body, content_type, response.body)
            if response.status_code >= 400 and response.media_type != "application/json":
                # the dashboard answers a browser with a page (its routes are not in the OpenAPI document)
                assert not route.openapi and (response.media_type or "").startswith(("text/html", "text/plain"))
            elif response.status_code >= 400:
                error = json.loads(response.body)["error"]
                assert set(error) == {"message", "type", "param", "code"}
                assert isinstance(error["message"], str) and error["message"]
