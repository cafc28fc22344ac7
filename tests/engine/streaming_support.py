"""Jobs whose summaries and result files are pinned (`test_streamed_results.py`): JSONL and CSV
datasets of a few thousand rows with unicode, blank lines, CRLF endings and a byte-order mark,
judged by classify, score (generated responses) and compare (a quarter of the rows failing), and a
dataset problem that ends its job in `user_error`.

Only the public API is used here, so the pinned values can be computed again by any version of the
emulator: `python -m tests.engine.streaming_support` prints them (they were taken from the version
that held every row in memory and built each result file whole)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

from together_eval_emulator import Emulator

from tests.support import CoreClient

ROWS = 2_500  # several chunks of the result file (1,024 rows each)
WORDS = ["café", "naïve", "日本語", "Ελληνικά", "emoji 🎉", 'quote " and \\ backslash', "tab\tinside", "plain"]


def jsonl_dataset() -> bytes:
    """Rows with unicode and nested values, written with CRLF endings, blank lines and a byte-order mark."""
    lines = []
    for i in range(ROWS):
        row = {
            "prompt": f"{WORDS[i % len(WORDS)]} question {i}?",
            "response": f"Answer {i}: {WORDS[(i * 7) % len(WORDS)]}.",
            "meta": {"topic": WORDS[(i * 3) % len(WORDS)], "tags": [i % 5, {"depth": [i % 2]}]},
        }
        lines.append(json.dumps(row, ensure_ascii=i % 2 == 0))
        if i % 97 == 0:
            lines.append("   ")
    return b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"


def csv_dataset() -> bytes:
    """A header and rows whose quoted values hold commas, newlines and unicode."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["prompt", "response_a", "response_b"])
    for i in range(ROWS):
        word = WORDS[i % len(WORDS)]
        writer.writerow([f"{word}, question {i}?", f"A says:\n{i * 2}", f"B — {word} {i}"])
    return out.getvalue().encode()


def unused_column_dataset() -> bytes:
    return "".join(json.dumps({"prompt": f"p{i}", "response": "r", "extra": i}) + "\n" for i in range(50)).encode()


JUDGE = {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}} on {{meta.topic}}"}
GENERATOR = {
    "model": "gen-model",
    "model_source": "serverless",
    "system_template": "Answer briefly.",
    "input_template": "{{prompt}} ({{meta.topic}})",
    "max_tokens": 64,
    "temperature": 0.3,
}

Case = tuple[str, Callable[[], bytes], str, Callable[[str], dict[str, Any]]]
CASES: dict[str, Case] = {
    "jsonl classify": (
        "unicode.jsonl",
        jsonl_dataset,
        "classify",
        lambda f: {
            "input_data_file_path": f,
            "judge": JUDGE,
            "labels": ["good", "fair", "bad"],
            "pass_labels": ["good", "fair"],
            "model_to_evaluate": "response",
        },
    ),
    "jsonl score, generated responses": (
        "unicode.jsonl",
        jsonl_dataset,
        "score",
        lambda f: {
            "input_data_file_path": f,
            "judge": {**JUDGE, "system_template": "Score {{prompt}} against {{response}}"},
            "min_score": 1,
            "max_score": 10,
            "pass_threshold": 6,
            "model_to_evaluate": GENERATOR,
        },
    ),
    "csv compare, failing rows": (
        "answers.csv",
        csv_dataset,
        "compare",
        lambda f: {
            "input_data_file_path": f,
            "judge": {"model": "emulator/judge-fail-25", "model_source": "serverless", "system_template": "{{prompt}}"},
            "model_a": "response_a",
            "model_b": "response_b",
        },
    ),
    "dataset problem": (
        "unused.jsonl",
        unused_column_dataset,
        "classify",
        lambda f: {
            "input_data_file_path": f,
            "judge": {**JUDGE, "system_template": "{{prompt}}"},
            "labels": ["good", "bad"],
            "pass_labels": ["good"],
            "model_to_evaluate": "response",
        },
    ),
}


def run(name: str) -> tuple[dict[str, Any], bytes | None]:
    """The case's job on a fresh emulator (seed 0, manual clock): its final status reply's
    `status` and `results`, and its result file (None when it has none)."""
    filename, content, eval_type, parameters = CASES[name]
    client = CoreClient(Emulator(clock="manual", seed=0))
    workflow_id = client.create_id(eval_type, parameters(client.upload(content(), filename=filename)))
    client.advance(86_400 * 30)
    status = client.status(workflow_id)
    result_file_id = (status["results"] or {}).get("result_file_id")
    if result_file_id is None:
        return status, None
    reply = client.request("GET", f"/v1/files/{result_file_id}/content")
    assert reply.status == 200, reply.body
    return status, reply.body


def pinned(name: str) -> tuple[str, str | None]:
    """The digest of the case's status reply and of its result file (None when it has none)."""
    status, result_file = run(name)
    status_digest = hashlib.sha256(json.dumps(status, sort_keys=True).encode()).hexdigest()
    return status_digest, hashlib.sha256(result_file).hexdigest() if result_file is not None else None


if __name__ == "__main__":
    for case in CASES:
        print(f"    {case!r}: {pinned(case)!r},")
