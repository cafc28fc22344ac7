"""The documented convenience API: shapes that never existed in the real service.

Published third-party docs describe `client.evaluation.create(model=, evaluation_type=, dataset=)`.
Code written from them finds a home here, kept apart from the real contract:

* `POST /v1/evaluation` with `{model, evaluation_type, dataset, parameters?}` and no `type` is
  mapped onto a real job (`{type, parameters}`) on a built-in dataset, with the dataset's own
  defaults (labels, score range, templates) and a documented default judge;
* the documented parameter and config types map onto the real fields that have a counterpart
  (`scale` -> `min_score`/`max_score`, `threshold` -> `pass_threshold`, `judge` -> the judge,
  `baseline_model` -> `model_b`, `system_prompt` -> the model's `system_template`); the others
  (`metric`, `comparison_metric`, `categories`, `judge.criteria`) are accepted and have no effect;
* jobs created this way carry the documented fields on retrieve, list and status, next to the
  real ones. Jobs created through the real contract never do.

The job keeps what the documented create asked for as its add-on data (`DocumentedRequest.data`);
`_extension.py` plugs all of this into the emulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from ..engine import _builtin_datasets as builtin_datasets
from ..engine._clock import format_micros
from ..engine._errors import InvalidRequest
from ..engine._first_error import first_error
from ..engine._lifecycle import TERMINAL
from ..engine._validation import dotted, json_type
from ..http._wire import (
    EvalType,
    EvaluationCreateResponse,
    EvaluationJob,
    EvaluationStatusResponse,
    ModelSource,
    Number,
)
from ._metrics import Summaries

if TYPE_CHECKING:
    from ..engine._engine import Engine
    from ..engine._store import Job

EVALUATION_TYPES = ("classify", "score", "compare")
CUSTOM_TYPE = "custom"  # a documented type the emulator cannot judge: a 400 that says what to use instead
DEFAULT_JUDGE_MODEL = "openai/gpt-oss-120b"
# Keys only documented-API responses carry; real-contract responses never contain them.
DOCUMENTED_ONLY_FIELDS = frozenset(
    {
        "id",
        "object",
        "model",
        "evaluation_type",
        "dataset",
        "score",
        "metrics",
        "completed_at",
        "error",
        "progress",
        "estimated_completion",
    }
)


# ---------------------------------------------------------------- request


class DocumentedParameters(BaseModel):
    """The optional `parameters` of a documented create. Unknown keys are ignored, as in the real
    contract. The keys without a real counterpart are typed, so a wrong type is still a 400."""

    model_config = ConfigDict(strict=True, extra="ignore")

    judge_model: StrictStr | None = Field(None, min_length=1)
    judge: dict[str, Any] | None = None  # JudgeModelConfig, merged over the default judge (real JudgeConfig keys)
    baseline_model: StrictStr | None = Field(None, min_length=1)  # CompareParameters: `model_b`
    model_source: ModelSource | None = None  # of `model` and `baseline_model`
    max_tokens: int | None = Field(None, ge=1)
    temperature: Number | None = Field(None, ge=0, le=2)
    system_prompt: StrictStr | None = Field(None, min_length=1)  # ModelRequest: the model's `system_template`
    scale: list[Number] | None = None  # ScoreParameters: (`min_score`, `max_score`)
    threshold: Number | None = None  # score: `pass_threshold`; classify: no effect (it passes by label)
    # Documented, but with no real counterpart: accepted, no effect.
    metric: StrictStr | None = None
    comparison_metric: StrictStr | None = None
    categories: list[StrictStr] | None = None

    def score_range(self, defaults: builtin_datasets.DatasetDefaults) -> tuple[int | float, int | float]:
        """(`min_score`, `max_score`): `scale` if given, else the dataset's own range."""
        if self.scale is not None:
            return self.scale[0], self.scale[1]
        return defaults.min_score, defaults.max_score

    def pass_threshold(self, defaults: builtin_datasets.DatasetDefaults) -> int | float:
        """`threshold` if given; else the dataset's threshold, moved to the same place on `scale`."""
        if self.threshold is not None:
            return self.threshold
        low, high = self.score_range(defaults)
        if (low, high) == (defaults.min_score, defaults.max_score):
            return defaults.pass_threshold
        share = (defaults.pass_threshold - defaults.min_score) / (defaults.max_score - defaults.min_score)
        value = round(low + share * (high - low), 4)
        return int(value) if value == int(value) else value


class DocumentedCreateRequest(BaseModel):
    """A create of the documented API: a model evaluated on a built-in dataset."""

    # The OpenAPI document's view of the body; `parse_request` checks it.

    model: str = Field(pattern=r"\S", description="The model to evaluate.")
    evaluation_type: EvalType
    dataset: str = Field(
        description="A built-in dataset.",
        json_schema_extra=lambda schema: schema.update(enum=list(builtin_datasets.names())),
    )
    parameters: DocumentedParameters | None = None


@dataclass(frozen=True)
class DocumentedRequest:
    """What a documented create asked for."""

    model: str
    evaluation_type: EvalType
    dataset: str
    parameters: DocumentedParameters

    def data(self) -> dict[str, Any]:
        """The job's add-on data (`Job.extensions["documented"]`): the request as JSON-ready values."""
        return {
            "model": self.model,
            "evaluation_type": self.evaluation_type,
            "dataset": self.dataset,
            "parameters": self.parameters.model_dump(mode="json", exclude_none=True),
        }


@dataclass(frozen=True)
class JobRequest:
    """The parts of a documented job's data its answers and verdicts are derived from."""

    model: str
    evaluation_type: str
    dataset: str
    baseline_model: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> JobRequest:
        """Read from the job's add-on data (checked when the job was created or imported)."""
        parameters = data.get("parameters") or {}
        return cls(data["model"], data["evaluation_type"], data["dataset"], parameters.get("baseline_model"))


def is_documented(body: Any) -> bool:
    """A body of the documented shape: `evaluation_type` present and no `type`."""
    return isinstance(body, dict) and "evaluation_type" in body and body.get("type") is None


def _available() -> str:
    return ", ".join(f"'{name}'" for name in builtin_datasets.names())


def _string(body: dict[str, Any], name: str, what: str) -> str:
    value = body.get(name)
    if value is None:
        raise InvalidRequest(f"Missing required field '{name}': {what}.", param=name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"Field '{name}' must be a non-empty string ({what}), got {json_type(value)}.", param=name)
    return value


def parse_request(body: dict[str, Any]) -> DocumentedRequest:
    """Validate a documented create body; the first problem is a 400 naming its field."""
    model = _string(body, "model", "the model to evaluate, e.g. 'meta-llama/Llama-3.3-70B-Instruct-Turbo'")
    allowed = ", ".join(f"'{t}'" for t in EVALUATION_TYPES)
    evaluation_type = body.get("evaluation_type")
    if evaluation_type is None:
        raise InvalidRequest(
            f"Missing required field 'evaluation_type': use one of {allowed}.", param="evaluation_type"
        )
    if evaluation_type == CUSTOM_TYPE:
        raise InvalidRequest(
            "evaluation_type 'custom' is a documented type, but the emulator cannot run it: a custom evaluation "
            "has no judging rule the emulator could follow (the real service has no such type either). Use "
            f"{allowed} instead: 'classify' when the judge picks a label, 'score' when it gives a number on "
            "parameters.scale, 'compare' to judge the model against parameters.baseline_model; steer the judge "
            "with parameters.judge (model, system_template, temperature, max_tokens). To judge your own data with "
            "your own templates, use the real contract: {'type', 'parameters': {'input_data_file_path', ...}}.",
            param="evaluation_type",
        )
    if evaluation_type not in EVALUATION_TYPES:
        raise InvalidRequest(
            f"Invalid value for 'evaluation_type': {evaluation_type!r}. Use one of {allowed}.", param="evaluation_type"
        )
    dataset = _string(body, "dataset", f"one of the built-in datasets {_available()}")
    if builtin_datasets.get(dataset) is None:
        raise InvalidRequest(
            f"Unknown dataset {dataset!r}. Available datasets: {_available()}. To evaluate your own file, "
            "use the real contract: {'type', 'parameters': {'input_data_file_path': <file id>, ...}}.",
            param="dataset",
        )
    raw = body.get("parameters")
    if raw is not None and not isinstance(raw, dict):
        raise InvalidRequest(f"Field 'parameters' must be an object, got {json_type(raw)}.", param="parameters")
    try:
        parameters = DocumentedParameters.model_validate({k: v for k, v in (raw or {}).items() if v is not None})
    except ValidationError as exc:
        raise _parameters_error(exc) from None
    if evaluation_type == "compare" and parameters.baseline_model is None:
        raise InvalidRequest(
            f"A compare evaluation needs 'parameters.baseline_model': the model to compare {model!r} against.",
            param="parameters.baseline_model",
        )
    if evaluation_type != "compare" and parameters.baseline_model is not None:
        raise InvalidRequest(
            f"Field 'parameters.baseline_model' is only used by compare evaluations, not "
            f"{evaluation_type}. Remove it or use evaluation_type 'compare'.",
            param="parameters.baseline_model",
        )
    _check_score_options(evaluation_type, parameters, builtin_datasets.get(dataset))
    _check_judge(parameters.judge)
    return DocumentedRequest(model=model, evaluation_type=evaluation_type, dataset=dataset, parameters=parameters)


def _check_score_options(
    evaluation_type: str, parameters: DocumentedParameters, builtin: builtin_datasets.BuiltinDataset | None
) -> None:
    """`scale` belongs to score jobs; `threshold` to score jobs (and, without effect, classify jobs)
    and must lie on the score range."""
    scale = parameters.scale
    if scale is not None:
        if evaluation_type != "score":
            raise InvalidRequest(
                f"Field 'parameters.scale' is only used by score evaluations, not {evaluation_type}. "
                "Remove it or use evaluation_type 'score'.",
                param="parameters.scale",
            )
        if len(scale) != 2 or scale[0] >= scale[1]:
            raise InvalidRequest(
                f"Field 'parameters.scale' must be two numbers [min, max] with min < max, e.g. [1, 10]; got {scale}.",
                param="parameters.scale",
            )
    threshold = parameters.threshold
    if threshold is None or evaluation_type == "classify":
        return
    if evaluation_type == "compare":
        raise InvalidRequest(
            "Field 'parameters.threshold' is the pass threshold of score evaluations; a compare evaluation has "
            "none (the judge picks a winner). Remove it or use evaluation_type 'score'.",
            param="parameters.threshold",
        )
    assert builtin is not None
    low, high = parameters.score_range(builtin.defaults)
    if not low <= threshold <= high:
        raise InvalidRequest(
            f"Field 'parameters.threshold' ({threshold}) must lie on the score scale [{low}, {high}]: it is a "
            "score, not a share. Give a score in that range, or set 'parameters.scale'.",
            param="parameters.threshold",
        )


def _check_judge(judge: dict[str, Any] | None) -> None:
    """The judge override is validated as a real judge later; only `criteria` (no effect) is checked here."""
    criteria = (judge or {}).get("criteria")
    if criteria is not None and not (isinstance(criteria, list) and all(isinstance(c, str) for c in criteria)):
        raise InvalidRequest(
            f"Field 'parameters.judge.criteria' must be an array of strings, got {json_type(criteria)}.",
            param="parameters.judge.criteria",
        )


def _parameters_error(exc: ValidationError) -> InvalidRequest:
    """The first problem in `parameters`, named by its path in the input (union member tags removed)."""
    first = first_error(exc)
    path = [part for part in first.loc if isinstance(part, int) or part in DocumentedParameters.model_fields]
    name = dotted(["parameters", *path])
    if first.kind in ("int_type", "float_type"):
        expected = "an integer" if path[-1] == "max_tokens" else "a number"
        return InvalidRequest(f"Field '{name}' must be {expected}, got {json_type(first.value)}.", param=name)
    return InvalidRequest(f"Invalid field '{name}': {first.message}.", param=name)


def real_body(request: DocumentedRequest) -> dict[str, Any]:
    """The real-contract create body a documented request stands for."""
    builtin = builtin_datasets.get(request.dataset)
    assert builtin is not None
    defaults, options = builtin.defaults, request.parameters

    def generator(model: str) -> dict[str, Any]:
        config: dict[str, Any] = {
            "model": model,
            "model_source": options.model_source or "serverless",
            "system_template": options.system_prompt or defaults.model_system_template,
            "input_template": defaults.model_input_template,
        }
        if options.max_tokens is not None:
            config["max_tokens"] = options.max_tokens
        if options.temperature is not None:
            config["temperature"] = options.temperature
        return config

    judge = {
        "model": options.judge_model or DEFAULT_JUDGE_MODEL,
        "model_source": "serverless",
        "system_template": defaults.judge_system_template,
        **{key: value for key, value in (options.judge or {}).items() if key != "criteria"},  # criteria: no effect
    }
    parameters: dict[str, Any] = {"input_data_file_path": builtin.name, "judge": judge}
    if request.evaluation_type == "classify":
        parameters.update(
            labels=list(defaults.labels),
            pass_labels=list(defaults.pass_labels),
            model_to_evaluate=generator(request.model),
        )
    elif request.evaluation_type == "score":
        min_score, max_score = options.score_range(defaults)
        parameters.update(
            min_score=min_score,
            max_score=max_score,
            pass_threshold=options.pass_threshold(defaults),
            model_to_evaluate=generator(request.model),
        )
    else:
        parameters.update(model_a=generator(request.model), model_b=generator(options.baseline_model or ""))
    return {"type": request.evaluation_type, "parameters": parameters}


# ---------------------------------------------------------------- wire shapes


class CategoryMetrics(BaseModel):
    accuracy: float
    count: int


class EvaluationMetrics(BaseModel):
    accuracy: float
    precision: float
    recall: float
    f1_score: float
    categories: dict[str, CategoryMetrics]


class DocumentedCreateResponse(EvaluationCreateResponse):
    id: str
    object: Literal["evaluation"] = "evaluation"
    model: str
    evaluation_type: EvalType
    dataset: str
    created_at: str


class _DocumentedFields(BaseModel):
    id: str
    object: Literal["evaluation"] = "evaluation"
    model: str
    evaluation_type: EvalType
    dataset: str
    score: float | None = None
    metrics: EvaluationMetrics | None = None
    completed_at: str | None = None
    error: str | None = None


class DocumentedEvaluationJob(_DocumentedFields, EvaluationJob):
    """The real EvaluationJob followed by the documented fields."""


class DocumentedStatusResponse(_DocumentedFields, EvaluationStatusResponse):
    """The real status followed by the documented fields, `progress` and `estimated_completion`."""

    progress: int
    estimated_completion: str | None = None


# ---------------------------------------------------------------- answers


def create_response(job: Job, request: DocumentedRequest) -> DocumentedCreateResponse:
    """The answer to a documented create: the real one plus the documented fields."""
    return DocumentedCreateResponse(
        workflow_id=job.workflow_id,
        id=job.workflow_id,
        model=request.model,
        evaluation_type=request.evaluation_type,
        dataset=request.dataset,
        created_at=format_micros(job.created_ns),
    )


def _documented_fields(engine: Engine, job: Job, request: JobRequest, summaries: Summaries) -> dict[str, Any]:
    """The fields a documented job's retrieve, list item and status add."""
    reached = engine.jobs.phases_reached(job)
    status = reached[-1].status
    summary = None
    # From the verdicts its result file shows. A file a recording carries is served as recorded, and
    # no number is derived from it: score and metrics stay null (docs/documented-api.md).
    if status == "completed" and job.dataset is not None and not engine.files.serves_recorded_file(job):
        kinds = engine.files.verdict_kinds(job)
        summary = summaries.get(job.judge, job.dataset, request.model, request.dataset, kinds)
    metrics = None
    if summary is not None:
        metrics = EvaluationMetrics(
            accuracy=summary.accuracy,
            precision=summary.precision,
            recall=summary.recall,
            f1_score=summary.f1_score,
            categories={
                name: CategoryMetrics(accuracy=c.accuracy, count=c.count) for name, c in summary.categories.items()
            },
        )
    results = engine.jobs.results(job) or {}
    return {
        "id": job.workflow_id,
        "model": request.model,
        "evaluation_type": request.evaluation_type,
        "dataset": request.dataset,
        "score": summary.score if summary else None,
        "metrics": metrics,
        "completed_at": format_micros(job.created_ns + (reached[-1].offset_ns or 0)) if status in TERMINAL else None,
        "error": results.get("error") if status in ("error", "user_error") else None,
    }


def documented_job_view(
    engine: Engine, job: Job, request: JobRequest, summaries: Summaries, view: EvaluationJob
) -> DocumentedEvaluationJob:
    """The real retrieve (or list item) view followed by the documented fields."""
    return DocumentedEvaluationJob(**dict(view), **_documented_fields(engine, job, request, summaries))


def progress(engine: Engine, job: Job) -> int:
    """0..100, linear in clock time from creation to the planned end; 100 once finished, 0 when no
    clock time ends the job (a scenario that stalls, or moves on reads or control calls)."""
    if engine.jobs.status(job) in TERMINAL:
        return 100
    end_ns = engine.jobs.terminal_ns(job)
    if end_ns is None:
        return 0
    total = end_ns - job.created_ns
    elapsed = engine.clock.now_ns() - job.created_ns
    return min(99, max(0, 100 * elapsed // total)) if total > 0 else 0


def documented_status_view(
    engine: Engine, job: Job, request: JobRequest, summaries: Summaries, view: EvaluationStatusResponse
) -> DocumentedStatusResponse:
    """The real status followed by the documented fields, `progress` and `estimated_completion`
    (the planned end; null when no clock time ends the job)."""
    end_ns = engine.jobs.terminal_ns(job)
    return DocumentedStatusResponse(
        **dict(view),
        **_documented_fields(engine, job, request, summaries),
        progress=progress(engine, job),
        estimated_completion=format_micros(end_ns) if end_ns is not None else None,
    )
