"""Job parameters: the `parameters` object of each evaluation type, as the engine reads them
(wire-level field names; the HTTP layer re-exports them as wire models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic.config import JsonDict

Status = Literal["pending", "queued", "running", "completed", "error", "user_error"]
TERMINAL = frozenset({"completed", "error", "user_error"})  # the statuses a job ends in
STATUSES = ("pending", "queued", "running", "completed", "error", "user_error")
EvalType = Literal["classify", "score", "compare"]
# A file's purpose and type, as the Files API takes them (docs/reference/files.md)
FilePurpose = Literal[
    "fine-tune", "batch-api", "eval", "eval-output", "eval-sample", "eval-summary", "batch-generated", "calibration"
]
FileType = Literal["jsonl", "csv", "parquet"]
ModelSource = Literal["serverless", "dedicated", "external"]
Number = StrictInt | StrictFloat

# Value rules that `_validation` checks itself, after presence and types (in the order the real API
# reports them), so they are given to the JSON schema only, not to pydantic.
TEMPERATURE: JsonDict = {"minimum": 0, "maximum": 2}
AT_LEAST_ONE: JsonDict = {"minimum": 1}


# ---------------------------------------------------------------- create request


def _null_means_absent(schema: JsonDict) -> None:
    """In the JSON schema, every optional field also takes `null` (stripped before validation)."""
    required, properties = schema.get("required", []), schema.get("properties", {})
    assert isinstance(required, list) and isinstance(properties, dict)
    for name, field_schema in properties.items():
        assert isinstance(field_schema, dict)
        if name not in required and {"type": "null"} not in field_schema.get("anyOf", []):  # type: ignore[operator]
            wrapped: JsonDict = {"anyOf": [field_schema, {"type": "null"}]}
            wrapped.update(
                (key, field_schema.pop(key)) for key in ("title", "description", "default") if key in field_schema
            )
            properties[name] = wrapped


def _external_needs_token(schema: JsonDict) -> None:
    """A model or judge with `model_source` 'external' also needs a non-empty `external_api_token`."""
    _null_means_absent(schema)
    schema["if"] = {"properties": {"model_source": {"const": "external"}}, "required": ["model_source"]}
    schema["then"] = {
        "properties": {"external_api_token": {"type": "string", "minLength": 1}},
        "required": ["external_api_token"],
    }


class _Params(BaseModel):
    # Unknown keys are ignored; `null` is stripped before validation (docs/wire-contract.md#decision-null-means-absent).
    model_config = ConfigDict(strict=True, extra="ignore", json_schema_extra=_null_means_absent)


class JudgeConfig(_Params):
    model_config = ConfigDict(json_schema_extra=_external_needs_token)

    model: StrictStr
    model_source: ModelSource
    system_template: StrictStr
    external_api_token: StrictStr | None = None
    external_base_url: StrictStr | None = None
    max_tokens: StrictInt = Field(32768, json_schema_extra=AT_LEAST_ONE)
    temperature: Number = Field(0.05, json_schema_extra=TEMPERATURE)
    num_workers: StrictInt | None = Field(None, json_schema_extra=AT_LEAST_ONE)


class ModelRequest(_Params):
    model_config = ConfigDict(json_schema_extra=_external_needs_token)

    model: StrictStr
    model_source: ModelSource
    system_template: StrictStr
    input_template: StrictStr
    max_tokens: StrictInt = Field(1024, json_schema_extra=AT_LEAST_ONE)
    temperature: Number = Field(0.05, json_schema_extra=TEMPERATURE)
    external_api_token: StrictStr | None = None
    external_base_url: StrictStr | None = None
    num_workers: StrictInt | None = Field(None, json_schema_extra=AT_LEAST_ONE)


# A string names a dataset column with pre-generated responses; an object generates them.
ModelField = StrictStr | ModelRequest | None


class ClassifyParameters(_Params):
    input_data_file_path: StrictStr
    judge: JudgeConfig
    labels: list[StrictStr] = Field(json_schema_extra={"minItems": 2})
    pass_labels: list[StrictStr] = Field(json_schema_extra={"minItems": 1})  # and a subset of `labels`
    model_to_evaluate: ModelField = Field(None, union_mode="left_to_right")


class ScoreParameters(_Params):
    input_data_file_path: StrictStr
    judge: JudgeConfig
    min_score: Number
    max_score: Number
    pass_threshold: Number
    model_to_evaluate: ModelField = Field(None, union_mode="left_to_right")


class CompareParameters(_Params):
    input_data_file_path: StrictStr
    judge: JudgeConfig
    model_a: ModelField = Field(None, union_mode="left_to_right")
    model_b: ModelField = Field(None, union_mode="left_to_right")
    disable_position_bias_correction: StrictBool = False


Parameters = ClassifyParameters | ScoreParameters | CompareParameters
PARAMETER_MODELS: dict[str, type[Parameters]] = {
    "classify": ClassifyParameters,
    "score": ScoreParameters,
    "compare": CompareParameters,
}
