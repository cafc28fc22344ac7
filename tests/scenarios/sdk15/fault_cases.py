"""Runs under together==1.5.35 (a separate interpreter): meet each fault case, report what happened.

argv[1]: JSON {"url": emulator root URL, "cases": [{"name", "fault": rule, "client": {...}, "call": name}]}.
Prints one line `@@RESULT@@<json>`: per case the exception class, its message, the attempts the
emulator counted (the rule's `fired`) and the seconds the call took.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from typing import Any

os.environ.setdefault("TOGETHER_NO_BANNER", "1")

from together import Together  # noqa: E402

MARKER = "@@RESULT@@"


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def call(client: Together, name: str) -> Any:
    if name == "list":
        return client.evaluation.list()
    if name == "list_twice":
        client.evaluation.list()
        return client.evaluation.list()
    raise ValueError(name)


def main() -> None:
    config = json.loads(sys.argv[1])
    url = config["url"]
    results = {}
    for case in config["cases"]:
        control(url, "DELETE", "/_emulator/faults")
        rule = control(url, "POST", "/_emulator/faults", case["fault"])
        client = Together(api_key="sdk15-key", base_url=url + "/v1", **case.get("client", {}))
        started = time.monotonic()
        outcome: dict[str, Any] = {"exception": None}
        try:
            value = call(client, case["call"])
            outcome["value"] = repr(value)[:200]
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["exception"] = f"{type(exc).__module__}.{type(exc).__qualname__}"
            outcome["message"] = str(exc)[:300]
        outcome["seconds"] = time.monotonic() - started
        rules = control(url, "GET", "/_emulator/faults")["rules"]
        outcome["attempts"] = next(r["seen"] for r in rules if r["id"] == rule["id"])
        outcome["fired"] = next(r["fired"] for r in rules if r["id"] == rule["id"])
        results[case["name"]] = outcome
    control(url, "DELETE", "/_emulator/faults")
    print(MARKER + json.dumps(results), flush=True)


main()
