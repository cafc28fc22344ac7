"""Job parameters: the `parameters` object of each evaluation type, as the engine reads them
(spec-level field names; the HTTP layer re-exports them as wire models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

Status = Literal["pending", "queued", "running", "completed", "error", "user_error"]
STATUSES = ("pending", "queued", "running", "completed", "error", "user_error")
EvalType = Literal["classify", "score", "compare"]
ModelSource = Literal["serverless", "dedicated", "external"]
Number = StrictInt | StrictFloat


# ---------------------------------------------------------------- create request (§3.1)


class _Params(BaseModel):
    # Unknown keys are ignored (D5); `null` is stripped before validation.
    model_config = ConfigDict(strict=True, extra="ignore")


class JudgeConfig(_Params):
    model: StrictStr
    model_source: ModelSource
    system_template: StrictStr
    external_api_token: StrictStr | None = None
    external_base_url: StrictStr | None = None
    max_tokens: StrictInt = 32768
    temperature: Number = 0.05
    num_workers: StrictInt | None = None


class ModelRequest(_Params):
    model: StrictStr
    model_source: ModelSource
    system_template: StrictStr
    input_template: StrictStr
    max_tokens: StrictInt = 1024
    temperature: Number = 0.05
    external_api_token: StrictStr | None = None
    external_base_url: StrictStr | None = None
    num_workers: StrictInt | None = None


# A string names a dataset column with pre-generated responses; an object generates them.
ModelField = StrictStr | ModelRequest | None


class ClassifyParameters(_Params):
    input_data_file_path: StrictStr
    judge: JudgeConfig
    labels: list[StrictStr]
    pass_labels: list[StrictStr]
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
PARAMETER_MODELS: dict[str, type[_Params]] = {
    "classify": ClassifyParameters,
    "score": ScoreParameters,
    "compare": CompareParameters,
}
