"""Structural validation at create: a 400 in the real shape naming the field
(docs/wire-contract.md#decision-create-validation)."""

from __future__ import annotations

import pytest

from tests.support import JUDGE, CoreClient

GEN = {
    "model": "gen-model",
    "model_source": "serverless",
    "system_template": "You answer.",
    "input_template": "{{prompt}}",
}
CLASSIFY = {"input_data_file_path": "file-x", "judge": JUDGE, "labels": ["good", "bad"], "pass_labels": ["good"]}
SCORE = {"input_data_file_path": "file-x", "judge": JUDGE, "min_score": 1, "max_score": 10, "pass_threshold": 7}
COMPARE = {"input_data_file_path": "file-x", "judge": JUDGE, "model_a": "a", "model_b": "b"}


def create(body: object) -> tuple[int, dict]:
    reply = CoreClient().request("POST", "/v1/evaluation", json_body=body)
    return reply.status, reply.json()


CASES = [
    ("type missing", {"parameters": CLASSIFY}, "type"),
    ("type unknown", {"type": "rank", "parameters": CLASSIFY}, "type"),
    ("parameters missing", {"type": "classify"}, "parameters"),
    ("parameters not an object", {"type": "classify", "parameters": ["x"]}, "parameters"),
    ("classify without labels", {"type": "classify", "parameters": {**CLASSIFY, "labels": None}}, "parameters.labels"),
    (
        "score without pass_threshold",
        {"type": "score", "parameters": {k: v for k, v in SCORE.items() if k != "pass_threshold"}},
        "parameters.pass_threshold",
    ),
    ("compare without judge", {"type": "compare", "parameters": {"input_data_file_path": "f"}}, "parameters.judge"),
    (
        "judge without system_template",
        {"type": "classify", "parameters": {**CLASSIFY, "judge": {"model": "m", "model_source": "serverless"}}},
        "parameters.judge.system_template",
    ),
    (
        "model request without input_template",
        {
            "type": "score",
            "parameters": {**SCORE, "model_to_evaluate": {k: v for k, v in GEN.items() if k != "input_template"}},
        },
        "parameters.model_to_evaluate.input_template",
    ),
    ("labels on score", {"type": "score", "parameters": {**SCORE, "labels": ["a", "b"]}}, "parameters.labels"),
    ("model_a on classify", {"type": "classify", "parameters": {**CLASSIFY, "model_a": "x"}}, "parameters.model_a"),
    ("min_score on compare", {"type": "compare", "parameters": {**COMPARE, "min_score": 1}}, "parameters.min_score"),
    (
        "labels not strings",
        {"type": "classify", "parameters": {**CLASSIFY, "labels": ["a", 2]}},
        "parameters.labels[1]",
    ),
    ("min_score a boolean", {"type": "score", "parameters": {**SCORE, "min_score": True}}, "parameters.min_score"),
    (
        "max_tokens a float",
        {"type": "classify", "parameters": {**CLASSIFY, "judge": {**JUDGE, "max_tokens": 1.5}}},
        "parameters.judge.max_tokens",
    ),
    (
        "model_source unknown",
        {"type": "classify", "parameters": {**CLASSIFY, "judge": {**JUDGE, "model_source": "cloud"}}},
        "parameters.judge.model_source",
    ),
    (
        "model_to_evaluate a number",
        {"type": "classify", "parameters": {**CLASSIFY, "model_to_evaluate": 3}},
        "parameters.model_to_evaluate",
    ),
    (
        "disable_position_bias_correction a string",
        {"type": "compare", "parameters": {**COMPARE, "disable_position_bias_correction": "yes"}},
        "parameters.disable_position_bias_correction",
    ),
    ("one label", {"type": "classify", "parameters": {**CLASSIFY, "labels": ["good"]}}, "parameters.labels"),
    (
        "empty pass_labels",
        {"type": "classify", "parameters": {**CLASSIFY, "pass_labels": []}},
        "parameters.pass_labels",
    ),
    (
        "pass_labels not in labels",
        {"type": "classify", "parameters": {**CLASSIFY, "pass_labels": ["great"]}},
        "parameters.pass_labels",
    ),
    ("min_score >= max_score", {"type": "score", "parameters": {**SCORE, "min_score": 10}}, "parameters.min_score"),
    (
        "pass_threshold above max",
        {"type": "score", "parameters": {**SCORE, "pass_threshold": 11}},
        "parameters.pass_threshold",
    ),
    (
        "external judge without token",
        {"type": "classify", "parameters": {**CLASSIFY, "judge": {**JUDGE, "model_source": "external"}}},
        "parameters.judge.external_api_token",
    ),
    (
        "external model_b with empty token",
        {
            "type": "compare",
            "parameters": {**COMPARE, "model_b": {**GEN, "model_source": "external", "external_api_token": ""}},
        },
        "parameters.model_b.external_api_token",
    ),
    (
        "temperature above 2",
        {"type": "classify", "parameters": {**CLASSIFY, "model_to_evaluate": {**GEN, "temperature": 2.5}}},
        "parameters.model_to_evaluate.temperature",
    ),
    (
        "max_tokens zero",
        {"type": "classify", "parameters": {**CLASSIFY, "judge": {**JUDGE, "max_tokens": 0}}},
        "parameters.judge.max_tokens",
    ),
]


@pytest.mark.parametrize("body,param", [(body, param) for _, body, param in CASES], ids=[c[0] for c in CASES])
def test_invalid_create_is_a_400_naming_the_field(body: object, param: str) -> None:
    status, reply = create(body)
    assert status == 400
    error = reply["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["code"] is None
    assert param.split("[")[0] in error["message"]


def test_checks_run_in_the_documented_order() -> None:
    # Missing field beats another type's field, which beats a wrong type, which beats a value rule.
    body = {
        "type": "classify",
        "parameters": {
            **CLASSIFY,
            "pass_labels": None,
            "min_score": 1,
            "labels": ["good"],
            "judge": {**JUDGE, "max_tokens": "x"},
        },
    }
    assert create(body)[1]["error"]["param"] == "parameters.pass_labels"
    body["parameters"]["pass_labels"] = ["good"]
    assert create(body)[1]["error"]["param"] == "parameters.min_score"
    del body["parameters"]["min_score"]
    assert create(body)[1]["error"]["param"] == "parameters.judge.max_tokens"
    body["parameters"]["judge"]["max_tokens"] = 5
    assert create(body)[1]["error"]["param"] == "parameters.labels"


@pytest.mark.parametrize(
    "body",
    [
        # The 1.5.35 client sends every optional key, null when unset.
        {
            "type": "classify",
            "parameters": {
                "judge": {**JUDGE, "external_api_token": None, "external_base_url": None},
                "labels": ["good", "bad"],
                "pass_labels": ["good"],
                "model_to_evaluate": None,
                "input_data_file_path": "file-x",
            },
        },
        # The 3.1.1 CLI sends temperature null and disable_position_bias_correction false.
        {
            "type": "compare",
            "parameters": {
                **COMPARE,
                "model_a": {**GEN, "temperature": None, "max_tokens": 16000},
                "disable_position_bias_correction": False,
            },
        },
        # Keys that belong to no type are ignored; integers are numbers.
        {"type": "score", "parameters": {**SCORE, "pass_threshold": 7.5, "something_new": 1}},
    ],
)
def test_null_means_absent_and_valid_bodies_are_accepted(body: dict) -> None:
    status, reply = create(body)
    assert status == 200, reply
    assert reply["status"] == "pending"


def test_body_that_is_not_json_is_a_400() -> None:
    reply = CoreClient().request("POST", "/v1/evaluation", body=b"{not json")
    assert reply.status == 400
    assert "not valid JSON" in reply.json()["error"]["message"]
