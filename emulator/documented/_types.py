"""The documented API's types, as its client presents them.

These are the names and field types of a widely circulated description of Together's evaluation
API that the real service never had. Timestamps are integers (epoch seconds) here, while the wire
keeps the real RFC 3339 strings; `status` is one of `EvaluationStatus`, while `api_status` keeps the
real status the emulator answered (`error` and `user_error` both read `failed`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EvaluationType(StrEnum):
    """The documented evaluation types. The emulator runs the first three; `custom` is a 400."""

    CLASSIFY = "classify"
    SCORE = "score"
    COMPARE = "compare"
    CUSTOM = "custom"


class EvaluationStatus(StrEnum):
    """The documented statuses. `cancelled` never occurs: no cancel exists."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The real status behind each documented one (the real API has six, the documented one five).
DOCUMENTED_STATUS: dict[str, EvaluationStatus] = {
    "pending": EvaluationStatus.PENDING,
    "queued": EvaluationStatus.PENDING,
    "running": EvaluationStatus.RUNNING,
    "completed": EvaluationStatus.COMPLETED,
    "error": EvaluationStatus.FAILED,
    "user_error": EvaluationStatus.FAILED,
}


class _Options(BaseModel):
    """A parameter or config object: sent without its unset (None) fields."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- request side


class ClassifyParameters(_Options):
    """Both have no effect on a classify job: it passes by label, on the dataset's own categories.
    (`threshold` is the pass threshold of a score job.)"""

    threshold: float | None = None
    categories: list[str] | None = None


class ScoreParameters(_Options):
    """`scale` becomes the score range (`min_score`, `max_score`); `metric` has no effect. The pass
    threshold of a score job is the `threshold` key of `parameters` (e.g. `create(..., threshold=7)`)."""

    metric: str | None = None
    scale: tuple[float, float] | None = None


class CompareParameters(_Options):
    """`baseline_model` becomes `model_b` (required for compare); `comparison_metric` has no effect."""

    baseline_model: str | None = None
    comparison_metric: str | None = None


class JudgeModelConfig(_Options):
    """The judge: `model`, `temperature` and `max_tokens` are the real judge's; `criteria` has no effect.
    Pass it as `judge=` to `create`."""

    model: str
    temperature: float | None = None
    max_tokens: int | None = None
    criteria: list[str] | None = None


class ModelRequest(_Options):
    """The evaluated model with its settings; `create` accepts it as `model`. `system_prompt` becomes
    the model's `system_template`; `temperature` and `max_tokens` in `parameters` become its
    generation settings, other keys have no effect."""

    model: str
    parameters: dict[str, Any] | None = None
    system_prompt: str | None = None


class EvaluationRequest(_Options):
    """The body `create` sends."""

    model: str
    evaluation_type: str
    dataset: str
    parameters: dict[str, Any] | None = None


# ---------------------------------------------------------------- response side


class EvaluationCreateResponse(BaseModel):
    """What `create` returns."""

    id: str
    object: str
    model: str
    evaluation_type: str
    dataset: str
    status: str
    created_at: int
    api_status: str = Field(description="The real status (always `pending` at creation).")


class EvaluationJob(BaseModel):
    """What `retrieve` and `list` return. `metrics` holds `accuracy`, `precision`, `recall`,
    `f1_score` and `categories` (per category: `accuracy` and `count`) once the job is completed."""

    id: str
    object: str
    model: str
    evaluation_type: str
    dataset: str
    status: str
    score: float | None = None
    metrics: dict[str, Any] | None = None
    created_at: int
    completed_at: int | None = None
    error: str | None = None
    api_status: str = Field(description="The real status: pending, queued, running, completed, error or user_error.")
    results: dict[str, Any] | None = Field(None, description="The real `results` (e.g. `result_file_id`).")


class EvaluationStatusResponse(BaseModel):
    """What `status` returns. `progress` is a percentage (0 to 100)."""

    id: str
    status: str
    progress: float | None = None
    estimated_completion: int | None = None
    api_status: str = Field(description="The real status: pending, queued, running, completed, error or user_error.")
