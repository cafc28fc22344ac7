"""Scenarios as data: how a job moves (progression policies), how it ends (outcomes), and where a
scenario attaches (server default, evaluation type, the next N creates, matching rules, one job).

Precedence when a job is created, field by field (`progression` and `outcome` resolve separately):
magic input > the first matching "next N" entry > matching rules in the order added > the
evaluation type's scenario > the server default > the server settings (`EmulatorConfig`).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from . import _results as results
from ._parameters import ClassifyParameters, CompareParameters, ScoreParameters
from ._strict_json import MAX_SAFE_INTEGER

PhaseName = Literal["pending", "queued", "running"]
EvalType = Literal["classify", "score", "compare"]
ProgressionMode = Literal["immediate", "after_polls", "durations", "manual"]
OutcomeKind = Literal["completed", "error", "user_error", "stall"]
ModelSource = Literal["serverless", "dedicated", "external"]
RECORDING_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # a recording's name (docs/recordings.md)

# `results.Judge` spreads scores as (u0 + u1 - 1) * 1.7 * spread, whose standard deviation is
# 1.7 * sqrt(1/6) * spread; dividing by it makes `score_spread` a standard deviation.
_TRIANGULAR_STD = 1.7 * math.sqrt(1 / 6)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _require_kind(info: ValidationInfo, key: str, allowed: tuple[str, ...], name: str) -> None:
    actual = info.data.get(key)
    if actual not in allowed:
        choices = " or ".join(f"'{a}'" for a in allowed)
        raise ValueError(f"'{name}' only applies when {key} is {choices} (got {key}={actual!r})")


# ---------------------------------------------------------------- progression policies


class Progression(_Data):
    """How a job moves through pending → queued → running → its end.

    * `immediate`: the first read already shows the final state, with the whole history.
    * `after_polls`: each phase is shown for `polls` reads of the job (an int, or per phase).
    * `durations`: seconds per phase on the emulator clock; unset ones come from the settings.
    * `manual`: the job moves only when the control plane advances it or forces a status.
    """

    mode: ProgressionMode = "durations"
    polls: int | dict[PhaseName, int] | None = None
    pending: float | None = Field(None, ge=0)
    queued: float | None = Field(None, ge=0)
    running: float | None = Field(None, ge=0)
    running_per_row: float | None = Field(None, ge=0)
    failure_delay: float | None = Field(None, ge=0)

    @field_validator("polls")
    @classmethod
    def _polls(cls, value: int | dict[str, int] | None, info: ValidationInfo) -> Any:
        if value is None:
            return value
        _require_kind(info, "mode", ("after_polls",), "polls")
        counts = value.values() if isinstance(value, dict) else [value]
        if any(count < 0 for count in counts):
            raise ValueError("read counts must be >= 0")
        return value

    @field_validator("pending", "queued", "running", "running_per_row", "failure_delay")
    @classmethod
    def _durations(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None:
            _require_kind(info, "mode", ("durations",), str(info.field_name))
        return value

    def polls_for(self, status: str) -> int:
        """Reads a phase is shown for under `after_polls` (1 unless configured)."""
        if isinstance(self.polls, dict):
            return self.polls[status] if status in self.polls else 1
        return 1 if self.polls is None else self.polls


# ---------------------------------------------------------------- outcomes


class Outcome(_Data):
    """How a job ends, and for completed jobs how its verdicts are distributed.

    Verdict fields apply to the matching evaluation type only: `pass_percentage` and
    `label_weights` to classify, `score_mean` / `score_spread` (score units) to score,
    `compare_weights` (`A`, `B`, `Tie`) to compare. Failure rates are per row, in 0..1.
    """

    kind: OutcomeKind = "completed"
    at: PhaseName | None = None  # error/user_error: the phase that fails; stall: the phase never left
    message: str | None = None  # error/user_error: results.error
    preemptions: int = Field(0, ge=0, le=10)  # times the job falls back running → queued first
    pass_percentage: float | None = Field(None, ge=0, le=100)
    label_weights: dict[str, float] | None = None
    score_mean: float | None = None
    score_spread: float | None = Field(None, ge=0)
    compare_weights: dict[Literal["A", "B", "Tie"], float] | None = None
    generation_fail_rate: float = Field(0.0, ge=0, le=1)
    judge_fail_rate: float = Field(0.0, ge=0, le=1)
    invalid_rate: float = Field(0.0, ge=0, le=1)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _require_kind(info, "kind", ("error", "user_error", "stall"), "at")
        return value

    @field_validator("message")
    @classmethod
    def _message(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _require_kind(info, "kind", ("error", "user_error"), "message")
        return value

    @field_validator("pass_percentage", "score_mean", "score_spread")
    @classmethod
    def _completed_only(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None:
            _require_kind(info, "kind", ("completed",), str(info.field_name))
        return value

    @field_validator("label_weights", "compare_weights")
    @classmethod
    def _weights(cls, value: dict[str, float] | None, info: ValidationInfo) -> dict[str, float] | None:
        if value is None:
            return value
        _require_kind(info, "kind", ("completed",), str(info.field_name))
        if info.field_name == "label_weights" and info.data.get("pass_percentage") is not None:
            raise ValueError("give either 'label_weights' or 'pass_percentage', not both")
        if any(weight < 0 for weight in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return value

    @field_validator("generation_fail_rate", "judge_fail_rate", "invalid_rate")
    @classmethod
    def _rates(cls, value: float, info: ValidationInfo) -> float:
        if value:
            _require_kind(info, "kind", ("completed",), str(info.field_name))
        return value

    @property
    def phase(self) -> str:
        """The phase an error or stall happens in (running unless `at` says otherwise)."""
        return self.at or "running"


def verdict_weights(
    outcome: Outcome, params: ClassifyParameters | ScoreParameters | CompareParameters
) -> results.Outcome:
    """The results engine's per-row weights for one job's parameters."""
    values: dict[str, Any] = {
        "generation_fail_rate": outcome.generation_fail_rate,
        "judge_fail_rate": outcome.judge_fail_rate,
        "invalid_rate": outcome.invalid_rate,
    }
    if isinstance(params, ClassifyParameters):
        if outcome.label_weights is not None:
            values["label_weights"] = dict(outcome.label_weights)
        elif outcome.pass_percentage is not None:
            values["pass_share"] = outcome.pass_percentage / 100
    elif isinstance(params, ScoreParameters):
        span = params.max_score - params.min_score
        if outcome.score_mean is not None:
            values["score_mean"] = min(max((outcome.score_mean - params.min_score) / span, 0.0), 1.0)
        if outcome.score_spread is not None:
            values["score_spread"] = outcome.score_spread / span / _TRIANGULAR_STD
    elif outcome.compare_weights is not None:
        a, b, tie = (outcome.compare_weights.get(k, 0.0) for k in ("A", "B", "Tie"))
        total = a + b + tie
        # A tie is the flipped pass disagreeing with the original one (docs/reference/results.md#compare-rows).
        values["agreement"] = (a + b) / total
        values["a_share"] = a / (a + b) if a + b else 0.5
    return results.Outcome(**values)


# ---------------------------------------------------------------- attachment


class Scenario(_Data):
    """A progression and/or an outcome; an unset one falls through to the next level."""

    progression: Progression | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True)
class CreateContext:
    """What a matching rule can look at when a job is created."""

    tenant_key: str
    tenant_name: str | None
    type: str
    parameters: dict[str, Any]
    file_id: str
    filename: str | None


def lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    """(found, value) of a dotted path (`judge.model`, `labels.0`) in nested JSON."""
    for part in dotted.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False, None
    return True, data


class Match(_Data):
    """Every given field must match; `judge_model` and `filename` take shell-style globs."""

    type: EvalType | None = None
    judge_model: str | None = None
    model_source: ModelSource | None = None  # the judge's
    file_id: str | None = None
    filename: str | None = None
    tenant: str | None = None  # an API key or a tenant name from the settings
    parameters: dict[str, Any] = Field(default_factory=dict)  # dotted path -> value

    def matches(self, ctx: CreateContext) -> bool:
        judge = ctx.parameters.get("judge")
        judge = judge if isinstance(judge, dict) else {}
        checks = [
            self.type is None or self.type == ctx.type,
            self.judge_model is None or fnmatch.fnmatchcase(str(judge.get("model", "")), self.judge_model),
            self.model_source is None or self.model_source == judge.get("model_source"),
            self.file_id is None or self.file_id == ctx.file_id,
            self.filename is None or (ctx.filename is not None and fnmatch.fnmatchcase(ctx.filename, self.filename)),
            self.tenant is None or self.tenant in (ctx.tenant_key, ctx.tenant_name),
        ]
        if not all(checks):
            return False
        return all(lookup(ctx.parameters, path) == (True, value) for path, value in self.parameters.items())


class ScenarioEntry(Scenario):
    """A scenario for creates that match: for the next `times` of them, or (no `times`) all. An
    entry with a `recording` makes those jobs replay it (docs/recordings.md) instead of following a
    progression and an outcome."""

    id: str | None = None  # assigned when added
    name: str | None = None
    match: Match = Field(default_factory=Match)
    times: int | None = Field(None, ge=1)
    used: int = Field(0, ge=0, le=MAX_SAFE_INTEGER)  # how many creates it has applied to
    recording: str | None = Field(None, pattern=RECORDING_NAME)  # written only when set

    @model_validator(mode="after")
    def _a_recording_alone(self) -> ScenarioEntry:
        if self.recording is not None and (self.progression is not None or self.outcome is not None):
            raise ValueError("a recording replays a job as it was: give 'recording', or 'progression' and 'outcome'")
        return self

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation: pydantic would take it for the entry's JSON schema.
        data = handler(self)
        if self.recording is None:
            data.pop("recording", None)
        return data


@dataclass
class Resolved:
    progression: Progression
    outcome: Outcome
    source: dict[str, str] = field(default_factory=dict)  # field -> level that set it
    recording: str | None = None  # the recording the job replays, if a level names one
    limited: str | None = None  # the id of the "next N" entry that applies: one use to count when created
    rules: tuple[str, ...] = ()  # the ids of the rules (entries without `times`) that match: one use each


class ScenarioBook(_Data):
    """Every attached scenario except per-job ones (those live on the job), as listed and exported:
    the entries with their use counts, and the number the next added entry gets. The store keeps
    it (`_rulebooks.ScenarioRules` changes it)."""

    default: Scenario = Field(default_factory=Scenario)
    types: dict[EvalType, Scenario] = Field(default_factory=dict)
    entries: list[ScenarioEntry] = Field(default_factory=list)
    next_id: int = Field(1, ge=1, le=MAX_SAFE_INTEGER)


def resolve_levels(levels: list[tuple[str, Scenario]], recordings: Sequence[tuple[str, str]] = ()) -> Resolved:
    """Field by field, the first level (highest precedence first) that sets it; the last level
    must set both fields. The first of `recordings` ((level, name), highest precedence first), if
    any, is the recording the job replays."""
    resolved = Resolved(Progression(), Outcome())
    for name in ("progression", "outcome"):
        source, value = next((src, getattr(s, name)) for src, s in levels if getattr(s, name) is not None)
        setattr(resolved, name, value)
        resolved.source[name] = source
    if recordings:
        source, resolved.recording = recordings[0]
        resolved.source["recording"] = source
    return resolved
