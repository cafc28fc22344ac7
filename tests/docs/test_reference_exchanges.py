"""The HTTP exchanges written in the docs are what the emulator answers: each page's requests are sent,
in page order, to a fresh `Emulator(clock="manual", seed=0)`, and each answer must match the one shown.

Format (docs/contributing/index.md, "Documentation"):

* a ```http block whose first line is `METHOD /path[?query] HTTP/1.1` is a request: header lines, a blank
  line, then the body (sent as written, UTF-8, without the last newline);
* the next ```http block, when its first line is `HTTP/1.1 <status> ...`, is the expected answer: the
  status must match; each header shown must be present with that value; the body, if any, must match.
  A JSON body is compared as JSON; a body of several JSON lines (JSONL) line by line. Wildcards in an
  expected JSON value: "…" matches anything; a string ending in "…" matches by prefix; an array whose
  last element is "…" matches by prefix; an object with the key "…" allows extra keys. A header value
  "…" matches anything, one ending in "…" by prefix; a non-JSON body line "…" matches the rest;
* `<!-- check: advance N -->` moves the clock N seconds, `<!-- check: skip -->` skips the next
  exchange, `<!-- check: config {json} -->` starts a fresh emulator with those settings;
* a request may use `{file_id}`, `{upload_path}`, `{upload_id}`, `{workflow_id}` and `{result_file_id}`,
  filled from earlier answers (the last `X-Together-File-Id` header, `Location` path, multipart
  `upload_id`, workflow id and result file id): upload tokens are random, never the same twice.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from docs_support import REPO, pages
from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest, ApiResponse

BASE_URL = "http://127.0.0.1:8000"
BLOCK = re.compile(r"(<!--\s*check:(.*?)-->)|```http\n(.*?)```", re.S)
ELLIPSIS = "…"


def matches(expected: Any, actual: Any) -> bool:
    """Whether `actual` matches `expected`, with the wildcards of the module docstring."""
    if expected == ELLIPSIS:
        return True
    if isinstance(expected, str) and expected.endswith(ELLIPSIS):
        return isinstance(actual, str) and actual.startswith(expected[:-1])
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        keys = [key for key in expected if key != ELLIPSIS]
        if expected.get(ELLIPSIS) != ELLIPSIS and set(actual) != set(keys):
            return False
        return all(key in actual and matches(expected[key], actual[key]) for key in keys)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        if expected and expected[-1] == ELLIPSIS:
            head = expected[:-1]
            return len(actual) >= len(head) and all(matches(e, a) for e, a in zip(head, actual, strict=False))
        return len(expected) == len(actual) and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def body_matches(expected: str, actual: str) -> bool:
    if not expected.strip():
        return True
    try:
        return matches(json.loads(expected), json.loads(actual))
    except json.JSONDecodeError:
        pass
    want = [line for line in expected.splitlines() if line.strip()]
    got = [line for line in actual.splitlines() if line.strip()]
    for index, line in enumerate(want):
        if line.strip() == ELLIPSIS:
            return True
        if index >= len(got):
            return False
        try:
            if not matches(json.loads(line), json.loads(got[index])):
                return False
        except json.JSONDecodeError:
            if line != got[index]:
                return False
    return len(want) == len(got)


def split(block: str) -> tuple[str, dict[str, str], str]:
    """First line, headers (lower-cased names) and body of an http block."""
    head, _, body = block.partition("\n\n")
    lines = head.splitlines()
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body.removesuffix("\n")


def learn(names: dict[str, str], response: ApiResponse) -> None:
    """Remember the ids an answer carries, for the placeholders of later requests."""
    headers = {k.lower(): v for k, v in response.all_headers().items()}
    if "x-together-file-id" in headers:
        names["file_id"] = headers["x-together-file-id"]
    if "location" in headers:
        names["upload_path"] = headers["location"].removeprefix(BASE_URL)
    try:
        data = json.loads(response.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    if isinstance(data, dict):
        if isinstance(data.get("upload_id"), str):
            names["upload_id"] = data["upload_id"]
        if isinstance(data.get("workflow_id"), str):
            names["workflow_id"] = data["workflow_id"]
        results = data.get("results")
        if isinstance(results, dict) and isinstance(results.get("result_file_id"), str):
            names["result_file_id"] = results["result_file_id"]


def replay(text: str, where: str) -> tuple[int, list[str]]:
    """Replay the exchanges of one page; returns how many were checked and every mismatch."""
    problems: list[str] = []
    checked = 0
    config: dict[str, Any] = {}
    emulator: Emulator | None = None
    names: dict[str, str] = {}
    skip = False
    pending: tuple[str, ApiResponse] | None = None  # a request awaiting its expected answer
    for found in BLOCK.finditer(text):
        if found[1]:
            directive = found[2].strip()
            if directive == "skip":
                skip = True
            elif directive.startswith("advance"):
                emulator = emulator or Emulator(clock="manual", **config)
                emulator.advance(float(directive.split()[1]))
            elif directive.startswith("config"):
                config = json.loads(directive.removeprefix("config"))
                emulator = Emulator(clock="manual", **config)
            continue
        first, headers, body = split(found[3])
        line = text[: found.start()].count("\n") + 1
        if first.startswith("HTTP/"):
            if pending is None:
                continue  # an answer shown without its request, or after a skipped one
            request_line, response = pending
            pending = None
            checked += 1
            here = f"{where}:{line} ({request_line})"
            actual = response.body.decode("utf-8", errors="replace")
            status = int(first.split()[1])
            if response.status_code != status:
                problems.append(f"{here}: status {response.status_code}, expected {status}: {actual[:300]}")
                continue
            actual_headers = {k.lower(): v for k, v in response.all_headers().items()}
            for name, value in headers.items():
                got = actual_headers.get(name)
                if got is None or not matches(value, got):
                    problems.append(f"{here}: header {name}: {got!r}, expected {value!r}")
            if not body_matches(body, actual):
                problems.append(f"{here}: body differs\n  got:      {actual[:2000]}\n  expected: {body[:2000]}")
            continue
        if skip:
            skip = False
            continue
        emulator = emulator or Emulator(clock="manual", **config)
        method, target, _ = first.split(" ", 2)
        target = target.format(**names) if "{" in target else target
        path, _, query = target.partition("?")
        for key, value in names.items():
            body = body.replace("{" + key + "}", value)
        request = ApiRequest(
            method=method, path=path, base_url=BASE_URL, query_string=query, headers=headers, body=body.encode()
        )
        response = emulator.handle(request)
        learn(names, response)
        pending = (first, response)
    return checked, problems


def pages_with_exchanges() -> list[str]:
    return [page for page in pages() if "```http\n" in (REPO / page).read_text()]


@pytest.mark.parametrize("page", pages_with_exchanges())
def test_every_exchange_of_the_page_is_what_the_emulator_answers(page: str) -> None:
    checked, problems = replay((REPO / page).read_text(), page)
    assert checked, f"{page} shows requests but no answers to check"
    assert not problems, "\n".join(problems)


def test_the_reference_pages_have_exchanges() -> None:
    assert {"docs/wire-contract.md", "docs/reference/control-plane.md"} <= set(pages_with_exchanges())


PAGE = """
```http
GET /v1/evaluation HTTP/1.1
Authorization: Bearer local-key
```

```http
HTTP/1.1 200 OK
Content-Type: application/json

ANSWER
```
"""


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("[]", None),
        ('["…"]', None),
        ('[{"workflow_id": "…"}]', "body differs"),
        ('{"data": []}', "body differs"),
    ],
)
def test_a_wrong_answer_is_caught(answer: str, problem: str | None) -> None:
    checked, problems = replay(PAGE.replace("ANSWER", answer), "page")
    assert checked == 1
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_a_wrong_status_and_header_are_caught() -> None:
    page = PAGE.replace("200 OK", "404 Not Found").replace("ANSWER", "[]")
    assert "status 200, expected 404" in replay(page, "page")[1][0]
    page = PAGE.replace("application/json", "text/html").replace("ANSWER", "[]")
    assert "header content-type" in replay(page, "page")[1][0]


def test_the_wildcards() -> None:
    assert matches({"id": "file-…", "…": "…"}, {"id": "file-1", "bytes": 3})
    assert not matches({"id": "file-…"}, {"id": "file-1", "bytes": 3})
    assert matches([1, "…"], [1, 2, 3]) and not matches([1, "…"], [2])
    assert not matches(1, True) and not matches(True, 1)
    assert body_matches('{"a": 1}\n{"a": "…"}', '{"a": 1}\n{"a": 2}')
    assert not body_matches('{"a": 1}', '{"a": 1}\n{"a": 2}')
