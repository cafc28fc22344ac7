"""Datasets, job cases and the checks shared by the 3.x, 1.5.x and CLI contract tests.

Everything here works on plain JSON data (dicts, lists), so the same assertions apply to what
together 3.1.1 parses, to what a together 1.5.35 script prints, and to what a CLI prints.
References are to the project's pages: docs/wire-contract.md and docs/reference/.
"""

from __future__ import annotations

import copy
import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

JUDGE_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
GEN_MODEL_A = "Qwen/Qwen3.5-9B"
GEN_MODEL_B = "openai/gpt-oss-20b"

STATUSES = ("pending", "queued", "running", "completed", "error", "user_error")
WORKFLOW_ID_RE = re.compile(r"^eval-[0-9a-f]{4}-\d+$")  # docs/wire-contract.md#decision-seeded-ids
FILE_ID_RE = re.compile(  # file-<uuid4>, docs/wire-contract.md#decision-seeded-ids
    r"^file-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
MICROS_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")  # docs/wire-contract.md#ids-and-timestamps
NANOS_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")  # docs/wire-contract.md#ids-and-timestamps
# A JSON number written with a useless ".0": integral floats are written without it
# (docs/wire-contract.md#decision-results-format).
INTEGRAL_FLOAT_RE = re.compile(r"(?<![\w.])-?\d+\.0+(?![\d.eE])")

CREATED_MESSAGE = "Job created and pending for processing"  # docs/reference/evaluations.md#status_updates
UPDATED_MESSAGE = "Job status updated"
COLUMN_USE_MESSAGE = (  # docs/reference/results.md#column-use-rule, exact
    "Unsupported dataset column(s): {cols}. Each column must be referenced by a model or judge "
    "template, or be a recognized field ('image_data_urls'). Remove unused columns or reference "
    "them in a template."
)

# --------------------------------------------------------------------------------- datasets

QA_ROWS = [
    {"prompt": "What is 2 + 2?", "response": "4"},
    {"prompt": "Name a primary colour.", "response": "Blue"},
    {"prompt": "Translate 'merci' into English.", "response": "thank you"},
    {"prompt": "What is the capital of France?", "response": "Paris — the café capital"},
    {"prompt": "Is the sky green on a clear day?", "response": "No, it is blue."},
    {"prompt": "Spell 'cat' backwards.", "response": "tac"},
    {"prompt": "How many legs does a spider have?", "response": "Eight"},
]
PROMPT_ROWS = [{"prompt": r["prompt"]} for r in QA_ROWS]
SCORE_ROWS = [
    {
        "question": "Explain photosynthesis in one sentence.",
        "answer": "Plants turn light, water and CO2 into sugar and oxygen.",
    },
    {"question": "Why is the sea salty?", "answer": "Because of fish tears."},
    {"question": "What does HTTP stand for?", "answer": "HyperText Transfer Protocol"},
    {"question": "Give a prime number above 10.", "answer": "12"},
    {"question": "Who wrote 'Hamlet'?", "answer": "William Shakespeare"},
]
COMPARE_ROWS = [
    {
        "prompt": "Write a haiku about rain.",
        "response_a": "Soft rain on the roof / the garden drinks in silence / puddles hold the sky",
        "response_b": "Rain is wet.",
    },
    {
        "prompt": "Define recursion.",
        "response_a": "See recursion.",
        "response_b": "A function that calls itself on a smaller input until a base case.",
    },
    {"prompt": "Suggest a name for a cat.", "response_a": "Miso", "response_b": "Cat"},
    {"prompt": "What is 7 * 8?", "response_a": "56", "response_b": "54"},
    {
        "prompt": "Summarise 'Romeo and Juliet'.",
        "response_a": "Two young lovers die.",
        "response_b": "Feuding families, secret marriage, tragic double death in Verona.",
    },
    {"prompt": "Say hello in Japanese.", "response_a": "こんにちは", "response_b": "Hola"},
]
TEXT_ROWS = [
    {"text": "The quick brown fox jumps over the lazy dog."},
    {"text": "Large language models predict the next token."},
    {"text": "Water boils at 100 degrees Celsius at sea level."},
    {"text": "The Eiffel Tower was completed in 1889."},
]


def model_request(
    model: str,
    input_template: str,
    *,
    system: str = "You are a helpful assistant.",
    max_tokens: int = 256,
    temperature: float = 0.2,
) -> dict[str, Any]:
    """A complete ModelRequest (docs/reference/evaluations.md#model-request): every key the 1.5.35 client requires."""
    return {
        "model": model,
        "model_source": "serverless",
        "max_tokens": max_tokens,
        "temperature": temperature,
        "system_template": system,
        "input_template": input_template,
    }


def judge(template: str) -> dict[str, Any]:
    return {"model": JUDGE_MODEL, "model_source": "serverless", "system_template": template}


@dataclass
class Case:
    """One evaluation job to create: its dataset and its `parameters` (without the file id)."""

    name: str
    type: str
    rows: list[dict[str, Any]]
    parameters: dict[str, Any]
    columns: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = list(self.rows[0].keys())

    def params_for(self, file_id: str) -> dict[str, Any]:
        p = copy.deepcopy(self.parameters)
        p["input_data_file_path"] = file_id
        return p

    def generated(self, key: str) -> bool:
        return isinstance(self.parameters.get(key), dict)

    def write_jsonl(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.rows), encoding="utf-8")
        return path


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            "classify-column",
            "classify",
            QA_ROWS,
            {
                "judge": judge(
                    "You are a strict grader. The question was: {{prompt}}. Decide whether the answer is correct."
                ),
                "labels": ["correct", "partially correct", "incorrect"],
                "pass_labels": ["correct"],
                "model_to_evaluate": "response",
            },
        ),
        Case(
            "classify-generate",
            "classify",
            PROMPT_ROWS,
            {
                "judge": judge("Classify whether the assistant's answer is correct."),
                "labels": ["correct", "incorrect"],
                "pass_labels": ["correct"],
                "model_to_evaluate": model_request(GEN_MODEL_A, "{{prompt}}"),
            },
        ),
        Case(
            "score-column",
            "score",
            SCORE_ROWS,
            {
                "judge": judge("Rate the answer to '{{question}}' for accuracy from 1 to 10."),
                "min_score": 1,
                "max_score": 10,
                "pass_threshold": 6,
                "model_to_evaluate": "answer",
            },
        ),
        Case(
            "score-generate",
            "score",
            [{"question": r["question"]} for r in SCORE_ROWS],
            {
                "judge": judge("Rate the answer for accuracy from 0 to 5."),
                "min_score": 0,
                "max_score": 5,
                "pass_threshold": 3.5,
                "model_to_evaluate": model_request(GEN_MODEL_A, "Answer briefly: {{question}}"),
            },
        ),
        Case(
            "compare-columns",
            "compare",
            COMPARE_ROWS,
            {
                "judge": judge("Which response better answers this request: {{prompt}}?"),
                "model_a": "response_a",
                "model_b": "response_b",
            },
        ),
        Case(
            "compare-generate",
            "compare",
            TEXT_ROWS,
            {
                "judge": judge("Pick the better one-sentence summary."),
                "model_a": model_request(GEN_MODEL_A, "Summarise in one sentence: {{text}}"),
                "model_b": model_request(
                    GEN_MODEL_B, "Summarise in one sentence: {{text}}", system="You are terse.", temperature=0.7
                ),
            },
        ),
    ]
}

# Cases only together 3.x can express (1.5.35 has no disable_position_bias_correction argument).
SDK3_ONLY_CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            "compare-single-pass",
            "compare",
            [{k: r[k] for k in ("prompt", "response_a")} for r in COMPARE_ROWS],
            {
                "judge": judge("Which response better answers this request: {{prompt}}?"),
                "model_a": "response_a",
                "model_b": model_request(GEN_MODEL_B, "{{prompt}}"),
                "disable_position_bias_correction": True,
            },
        ),
        Case(
            "compare-mixed-two-pass",
            "compare",
            [{k: r[k] for k in ("prompt", "response_b")} for r in COMPARE_ROWS],
            {
                "judge": judge("Which response better answers this request: {{prompt}}?"),
                "model_a": model_request(GEN_MODEL_A, "{{prompt}}", max_tokens=64),
                "model_b": "response_b",
                "disable_position_bias_correction": False,
            },
        ),
        Case(
            "classify-vision-nested",
            "classify",
            [
                {
                    "info": {"question": r["prompt"], "lang": "en"},
                    "response": r["response"],
                    "image_data_urls": ["data:image/png;base64,iVBORw0KGgo="],
                    "note": "n" * (i % 2),
                }
                for i, r in enumerate(QA_ROWS)
            ],
            {
                # nested reference uses `info`; `note` is read only inside {% if %}; image_data_urls is exempt
                "judge": judge("Grade the answer to {{ info.question }}.{% if note %} Note: present.{% endif %}"),
                "labels": ["correct", "incorrect"],
                "pass_labels": ["correct"],
                "model_to_evaluate": "response",
            },
        ),
    ]
}

# ------------------------------------------------------------------------------ generic checks


def is_user_file(file_id: str) -> bool:
    """Uploaded and result files: ids `file-<uuid4>` (docs/wire-contract.md#decision-seeded-ids). Used to look
    at the caller's own files where a test is about them; `test_a_new_key_lists_no_files` checks that
    nothing else is listed."""
    return bool(FILE_ID_RE.match(file_id))


def parse_jsonl(data: bytes | str) -> list[dict[str, Any]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        assert isinstance(row, dict), f"result line {n} is not a JSON object: {line[:200]}"
        rows.append(row)
    return rows


def check_error_body(
    body: Any, *, status: int | None = None, param: str | Iterable[str] | None = None, code: str | None = None
) -> dict[str, Any]:
    """The error body: `{"error": {"message", "type", "param", "code"}}`, strings or null
    (docs/wire-contract.md#decision-error-shape)."""
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"error body is not {{'error': {{...}}}}: {body!r}"
    )
    err = body["error"]
    assert set(err) >= {"message", "type", "param", "code"}, f"error keys: {sorted(err)}"
    assert isinstance(err["message"], str) and err["message"], err
    assert isinstance(err["type"], str) and err["type"], err
    assert err["param"] is None or isinstance(err["param"], str), err
    assert err["code"] is None or isinstance(err["code"], str), err
    if param is not None:
        allowed = [param] if isinstance(param, str) else list(param)
        assert err["param"] in allowed, f"param {err['param']!r}, expected one of {allowed}: {err}"
        assert err["param"] in err["message"], f"message does not name {err['param']!r}: {err}"
        assert err["type"] == "invalid_request_error", err
    if code is not None:
        assert err["code"] == code, err
    return err


def assert_keys_sorted(obj: Any, where: str = "results") -> None:
    """Keys of results (and nested objects) in byte-sorted order (docs/wire-contract.md#decision-results-format)."""
    if isinstance(obj, dict):
        keys = list(obj)
        assert keys == sorted(keys, key=lambda k: k.encode()), f"{where} keys not byte-sorted: {keys}"
        for k, v in obj.items():
            assert_keys_sorted(v, f"{where}.{k}")


def check_wire_status_text(raw: str) -> None:
    """Raw text of GET /v1/evaluation/{id}/status: number formatting and key order
    (docs/wire-contract.md#decision-results-format)."""
    assert not INTEGRAL_FLOAT_RE.search(raw), f"integral float written with .0: {raw}"
    doc = json.loads(raw)
    if doc.get("results") is not None:
        assert_keys_sorted(doc["results"])
        assert "num_samples" not in doc["results"], f"num_samples must never be emitted: {raw}"


def check_params_echo(echoed: Any, submitted: dict[str, Any]) -> None:
    """The job's `parameters` echo every submitted key and value (docs/wire-contract.md#decision-echoed-parameters)."""
    assert isinstance(echoed, dict), f"parameters not echoed: {echoed!r}"
    for key, value in submitted.items():
        assert key in echoed, f"parameters.{key} missing from the echo: {echoed}"
        if isinstance(value, dict):
            check_params_echo(echoed[key], value)
        else:
            assert echoed[key] == value, f"parameters.{key}: {echoed[key]!r} != {value!r}"


def check_created(resp: dict[str, Any]) -> str:
    """Create response (docs/reference/evaluations.md#create-response)."""
    assert resp.get("status") == "pending", resp
    wid = resp.get("workflow_id")
    assert isinstance(wid, str) and WORKFLOW_ID_RE.match(wid), f"bad workflow_id {wid!r}"
    return wid


def epoch_of(ts: str) -> int:
    """Whole epoch seconds of an RFC 3339 UTC timestamp (`…Z`, any fraction)."""
    assert ts.endswith("Z"), ts
    return int(datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def ns_epoch(ts: str) -> float:
    """Epoch seconds (with fraction) of an RFC 3339 UTC timestamp with up to 9 fraction digits."""
    whole, _, frac = ts.rstrip("Z").partition(".")
    return epoch_of(whole + "Z") + (int(frac) / 10 ** len(frac) if frac else 0.0)


def check_job_timestamps(job: dict[str, Any]) -> None:
    """A raw EvaluationJob: timestamp formats and workflow id seconds = created_at
    (docs/wire-contract.md#ids-and-timestamps)."""
    assert MICROS_TS_RE.match(job["created_at"]), job["created_at"]
    assert MICROS_TS_RE.match(job["updated_at"]), job["updated_at"]
    secs = int(job["workflow_id"].rsplit("-", 1)[1])
    assert secs == epoch_of(job["created_at"]), f"workflow_id seconds {secs} != created_at {job['created_at']}"
    assert job["updated_at"] >= job["created_at"]


def check_status_updates(updates: list[dict[str, Any]], statuses: list[str]) -> None:
    """Raw status_updates: one entry per transition, fixed messages, ns timestamps
    (docs/reference/evaluations.md#status_updates)."""
    assert [u["status"] for u in updates] == statuses, updates
    for i, u in enumerate(updates):
        assert list(u) == ["status", "message", "timestamp"], f"status_updates key order: {list(u)}"
        assert u["message"] == (CREATED_MESSAGE if i == 0 else UPDATED_MESSAGE), u
        assert NANOS_TS_RE.match(u["timestamp"]), u
    stamps = [u["timestamp"] for u in updates]
    assert stamps == sorted(stamps), f"status_updates not in time order: {stamps}"


# ---------------------------------------------------------------------- results vs result file


def _check_input_prefix(case: Case, out_rows: list[dict[str, Any]], input_rows: list[dict[str, Any]]) -> None:
    assert len(out_rows) == len(input_rows), (
        f"{len(out_rows)} result rows for {len(input_rows)} input rows (one row per input row)"
    )
    for i, (out, inp) in enumerate(zip(out_rows, input_rows, strict=False)):
        keys = list(out)
        assert keys[: len(inp)] == list(inp), f"row {i}: must start with the input columns {list(inp)}, got {keys}"
        for col, val in inp.items():
            assert out[col] == val, (
                f"row {i}: column {col!r} is {out[col]!r}, input had {val!r} (row order must be input order)"
            )


def _assert_subsequence(keys: list[str], order: list[str], where: str) -> None:
    present = [k for k in keys if k in order]
    expected = [k for k in order if k in keys]
    assert present == expected, f"{where}: key order {present}, the documented order is {expected}"


def check_classify(
    case: Case, results: dict[str, Any], out_rows: list[dict[str, Any]], input_rows: list[dict[str, Any]] | None = None
) -> None:
    input_rows = case.rows if input_rows is None else input_rows
    _check_input_prefix(case, out_rows, input_rows)
    labels, pass_labels = case.parameters["labels"], case.parameters["pass_labels"]
    gen = case.generated("model_to_evaluate")
    extra_keys = {"MODEL_TO_EVALUATE_OUTPUT", "evaluation_successful", "label", "feedback"}
    order = ["MODEL_TO_EVALUATE_OUTPUT", "evaluation_successful", "label", "feedback"]
    counted: dict[str, int] = {lab: 0 for lab in labels}
    invalid = 0
    for i, row in enumerate(out_rows):
        added = [k for k in row if k not in input_rows[i]]
        assert set(added) <= extra_keys, f"row {i}: unexpected keys {set(added) - extra_keys}"
        _assert_subsequence(added, order, f"row {i}")
        assert ("MODEL_TO_EVALUATE_OUTPUT" in row) == gen, (
            f"row {i}: MODEL_TO_EVALUATE_OUTPUT must be present only when responses are generated"
        )
        if gen:
            assert isinstance(row["MODEL_TO_EVALUATE_OUTPUT"], str)
        assert isinstance(row.get("evaluation_successful"), bool), f"row {i}: {row}"
        if row["evaluation_successful"]:
            assert isinstance(row.get("feedback"), str) and row["feedback"], f"row {i}: {row}"
            if row.get("label") in counted:
                counted[row["label"]] += 1
            else:
                invalid += 1
    assert set(results) == {
        "generation_fail_count",
        "invalid_label_count",
        "judge_fail_count",
        "label_counts",
        "pass_percentage",
        "result_file_id",
    }, sorted(results)
    lc = results["label_counts"]
    assert isinstance(lc, dict), f"label_counts must be a JSON object, got {lc!r}"
    assert set(lc) == set(labels), f"label_counts must list every label {labels}: {lc}"
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in lc.values()), lc
    assert lc == counted, f"label_counts {lc} disagree with the result file {counted}"
    fails = [results["generation_fail_count"], results["judge_fail_count"], results["invalid_label_count"]]
    assert all(isinstance(f, int) and f >= 0 for f in fails), results
    assert sum(lc.values()) + sum(fails) == len(out_rows), (
        f"label counts + failures must add up to the row count ({len(out_rows)}): {results}"
    )
    pp = results["pass_percentage"]
    assert isinstance(pp, (int, float)) and 0 <= pp <= 100, pp
    passes = sum(lc[p] for p in pass_labels)
    candidates = [100.0 * passes / len(out_rows)]
    if sum(lc.values()):
        candidates.append(100.0 * passes / sum(lc.values()))
    assert any(abs(pp - c) <= 0.01 for c in candidates), f"pass_percentage {pp}, expected ≈ {candidates}"


def check_score(
    case: Case, results: dict[str, Any], out_rows: list[dict[str, Any]], input_rows: list[dict[str, Any]] | None = None
) -> None:
    input_rows = case.rows if input_rows is None else input_rows
    _check_input_prefix(case, out_rows, input_rows)
    lo, hi, thr = (case.parameters[k] for k in ("min_score", "max_score", "pass_threshold"))
    gen = case.generated("model_to_evaluate")
    extra_keys = {"MODEL_TO_EVALUATE_OUTPUT", "evaluation_successful", "score", "feedback"}
    scores: list[float] = []
    for i, row in enumerate(out_rows):
        added = [k for k in row if k not in input_rows[i]]
        assert set(added) <= extra_keys, f"row {i}: unexpected keys {set(added) - extra_keys}"
        assert ("MODEL_TO_EVALUATE_OUTPUT" in row) == gen, (
            f"row {i}: MODEL_TO_EVALUATE_OUTPUT must be present only when responses are generated"
        )
        assert isinstance(row.get("evaluation_successful"), bool), f"row {i}: {row}"
        if row["evaluation_successful"]:
            s = row.get("score")
            assert isinstance(s, (int, float)) and not isinstance(s, bool), f"row {i}: {row}"
            assert lo <= s <= hi, f"row {i}: score {s} outside [{lo}, {hi}]"
            assert isinstance(row.get("feedback"), str) and row["feedback"]
            scores.append(float(s))
    assert set(results) == {
        "aggregated_scores",
        "failed_samples",
        "generation_fail_count",
        "invalid_score_count",
        "judge_fail_count",
        "result_file_id",
    }, sorted(results)
    agg = results["aggregated_scores"]
    assert set(agg) == {"mean_score", "pass_percentage", "std_score"}, agg
    assert scores, "no successful rows"
    assert abs(agg["mean_score"] - statistics.fmean(scores)) <= 0.01, (agg, scores)
    stds = [statistics.pstdev(scores)] + ([statistics.stdev(scores)] if len(scores) > 1 else [])
    assert any(abs(agg["std_score"] - s) <= 0.01 for s in stds), (agg, scores)
    passing = sum(1 for s in scores if s >= thr)
    cands = [100.0 * passing / len(out_rows), 100.0 * passing / len(scores)]
    assert 0 <= agg["pass_percentage"] <= 100
    assert any(abs(agg["pass_percentage"] - c) <= 0.01 for c in cands), (agg, scores, thr)
    n_failed = len(out_rows) - len(scores)
    for k in ("failed_samples", "generation_fail_count", "invalid_score_count", "judge_fail_count"):
        assert isinstance(results[k], int) and results[k] >= 0, results
    if n_failed == 0:
        assert (
            results["failed_samples"]
            == results["generation_fail_count"]
            == results["judge_fail_count"]
            == results["invalid_score_count"]
            == 0
        ), results


COMPARE_ORDER = [
    "MODEL_TO_EVALUATE_OUTPUT_A",
    "evaluation_successful",
    "MODEL_TO_EVALUATE_OUTPUT_B",
    "choice_original",
    "judge_feedback_original_order",
    "choice_flipped",
    "judge_feedback_flipped_order",
    "final_decision",
    "is_incomplete",
]
COMPARE_2026_EXTRAS = {"judge_raw_output_original", "judge_raw_output_flipped", "is_invalid_judge_output"}


def check_compare(
    case: Case, results: dict[str, Any], out_rows: list[dict[str, Any]], input_rows: list[dict[str, Any]] | None = None
) -> None:
    input_rows = case.rows if input_rows is None else input_rows
    _check_input_prefix(case, out_rows, input_rows)
    gen_a, gen_b = case.generated("model_a"), case.generated("model_b")
    single_pass = case.parameters.get("disable_position_bias_correction") is True
    wins = {"A": 0, "B": 0, "Tie": 0}
    for i, row in enumerate(out_rows):
        added = [k for k in row if k not in input_rows[i]]
        unexpected = set(added) - set(COMPARE_ORDER) - COMPARE_2026_EXTRAS
        assert not unexpected, f"row {i}: unexpected keys {unexpected}"
        _assert_subsequence(added, COMPARE_ORDER, f"row {i}")
        assert ("MODEL_TO_EVALUATE_OUTPUT_A" in row) == gen_a, f"row {i}: {added}"
        assert ("MODEL_TO_EVALUATE_OUTPUT_B" in row) == gen_b, f"row {i}: {added}"
        assert isinstance(row.get("evaluation_successful"), bool), f"row {i}: {row}"
        assert isinstance(row.get("is_incomplete"), bool), f"row {i}: {row}"
        if single_pass:  # only the original-order pass runs (docs/reference/results.md#compare-rows, 3.1.1 docstring)
            flipped = {"choice_flipped", "judge_feedback_flipped_order", "judge_raw_output_flipped"} & set(row)
            assert not flipped, f"row {i}: single-pass compare must not carry {flipped}"
            fd = row.get("final_decision", row.get("choice_original") or "")
            if row["evaluation_successful"]:
                assert row.get("choice_original") in ("A", "B"), f"row {i}: {row}"
                assert fd == row["choice_original"], f"row {i}: single pass decides: {row}"
                assert isinstance(row.get("judge_feedback_original_order"), str)
            if fd:
                wins[fd] += 1
            continue
        fd = row.get("final_decision")
        assert fd in ("A", "B", "Tie", ""), f"row {i}: final_decision {fd!r}"
        if row["evaluation_successful"]:
            co, cf = row.get("choice_original"), row.get("choice_flipped")
            assert co in ("A", "B", None) and cf in ("A", "B", None), f"row {i}: {row}"
            if co is not None and cf is not None:
                assert fd == (co if co == cf else "Tie"), (
                    f"row {i}: passes {co}/{cf} must give {co if co == cf else 'Tie'}, got {fd}"
                )
            else:
                assert fd == (co or cf), f"row {i}: one parsed pass decides: {row}"
            assert isinstance(row.get("judge_feedback_original_order"), str)
            assert isinstance(row.get("judge_feedback_flipped_order"), str)
        if fd:
            wins[fd] += 1
    assert set(results) == {
        "A_wins",
        "B_wins",
        "Ties",
        "generation_fail_count",
        "judge_fail_count",
        "result_file_id",
    }, sorted(results)
    for k in ("A_wins", "B_wins", "Ties", "generation_fail_count", "judge_fail_count"):
        assert isinstance(results[k], int) and not isinstance(results[k], bool) and results[k] >= 0, results
    assert (results["A_wins"], results["B_wins"], results["Ties"]) == (wins["A"], wins["B"], wins["Tie"]), (
        f"A_wins/B_wins/Ties {results} disagree with final_decision in the result file {wins}"
    )
    if results["generation_fail_count"] == 0 and results["judge_fail_count"] == 0:
        assert results["A_wins"] + results["B_wins"] + results["Ties"] == len(out_rows), results


CHECKERS = {"classify": check_classify, "score": check_score, "compare": check_compare}


def check_results_and_file(
    case: Case, results: dict[str, Any], out_rows: list[dict[str, Any]], input_rows: list[dict[str, Any]] | None = None
) -> None:
    assert FILE_ID_RE.match(results["result_file_id"]), results["result_file_id"]
    CHECKERS[case.type](case, results, out_rows, input_rows)


def column_use_message(columns: Iterable[str]) -> str:
    return COLUMN_USE_MESSAGE.format(cols="[" + ", ".join(repr(c) for c in sorted(columns)) + "]")
