"""Structural validation of `POST /v1/evaluation` bodies (docs/wire-contract.md#decision-create-validation).

pydantic checks presence and JSON types; this module orders its findings as that decision requires
(missing fields, then fields of another type, then wrong types, then value rules) and
reports the first one as a 400 naming the field.
"""

from __future__ import annotations

import json
from typing import Any, cast

from pydantic import ValidationError

from ._errors import InvalidRequest
from ._parameters import (
    PARAMETER_MODELS,
    ClassifyParameters,
    CompareParameters,
    EvalType,
    JudgeConfig,
    ModelRequest,
    ScoreParameters,
)

# Keys that belong to some evaluation types only; keys of no type are ignored.
TYPE_SPECIFIC_KEYS: dict[str, tuple[str, ...]] = {
    "labels": ("classify",),
    "pass_labels": ("classify",),
    "min_score": ("score",),
    "max_score": ("score",),
    "pass_threshold": ("score",),
    "model_to_evaluate": ("classify", "score"),
    "model_a": ("compare",),
    "model_b": ("compare",),
    "disable_position_bias_correction": ("compare",),
}
MODEL_FIELDS = ("model_to_evaluate", "model_a", "model_b")
# Scores the emulator computes with stay exact integers and finite sums within this bound.
MAX_SCORE = 1e15

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "literal_error": "one of 'serverless', 'dedicated', 'external'",
}


def strip_nulls(value: Any) -> Any:
    """`null` means absent for every optional field: drop null-valued keys, recursively
    (docs/wire-contract.md#decision-null-means-absent)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def dotted(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def validate_create(body: Any) -> tuple[EvalType, ClassifyParameters | ScoreParameters | CompareParameters]:
    """Return (type, typed parameters) or raise `InvalidRequest` for the first violation."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"The request body must be a JSON object, got {json_type(body)}.")
    eval_type = body.get("type")
    if eval_type is None:
        raise InvalidRequest("Missing required field 'type': use one of 'classify', 'score', 'compare'.", param="type")
    if not isinstance(eval_type, str) or eval_type not in PARAMETER_MODELS:
        kind = json_type(eval_type)
        shown = repr(eval_type) if isinstance(eval_type, str) else f"{'an' if kind[0] in 'ao' else 'a'} {kind}"
        raise InvalidRequest(
            f"Invalid value for 'type': {shown}. Use one of 'classify', 'score', 'compare'.", param="type"
        )
    raw = body.get("parameters")
    if raw is None:
        raise InvalidRequest(f"Missing required field 'parameters' for a {eval_type} evaluation.", param="parameters")
    if not isinstance(raw, dict):
        raise InvalidRequest(f"Field 'parameters' must be an object, got {json_type(raw)}.", param="parameters")
    params = strip_nulls(raw)
    problems: list[tuple[str, list[str | int], str, Any]] = []
    model = None
    try:
        model = PARAMETER_MODELS[eval_type].model_validate(params)
    except ValidationError as exc:
        problems = _located(exc, params)

    for kind, path, _, _ in problems:
        if kind == "missing":
            raise InvalidRequest(
                f"Missing required field '{dotted(['parameters', *path])}' for a {eval_type} evaluation.",
                param=dotted(["parameters", *path]),
            )
    for key in params:
        owners = TYPE_SPECIFIC_KEYS.get(key)
        if owners and eval_type not in owners:
            raise InvalidRequest(
                f"Field 'parameters.{key}' is not allowed for a {eval_type} evaluation; it belongs to "
                f"{' and '.join(owners)} evaluations. Remove it or set it to null.",
                param=f"parameters.{key}",
            )
    for _kind, path, expected, value in problems:
        name = dotted(["parameters", *path])
        shown = f" {json.dumps(value)}" if isinstance(value, (str, int, float)) else ""
        raise InvalidRequest(f"Field '{name}' must be {expected}, got {json_type(value)}{shown}.", param=name)
    assert model is not None
    _check_values(model)
    return cast(EvalType, eval_type), model


def _located(exc: ValidationError, params: dict[str, Any]) -> list[tuple[str, list[str | int], str, Any]]:
    """pydantic errors as (kind, path in the input, expected type, value), union tags removed."""
    found: list[tuple[str, list[str | int], str, Any]] = []
    seen: set[tuple[str | int, ...]] = set()
    for error in exc.errors():
        loc = list(error["loc"])
        path: list[str | int] = []
        current: Any = params
        branch = None
        for index, part in enumerate(loc):
            last = index == len(loc) - 1
            if (
                isinstance(current, dict)
                and isinstance(part, str)
                and (part in current or (last and error["type"] == "missing"))
            ):
                path.append(part)
                current = current.get(part)
            elif isinstance(current, list) and isinstance(part, int):
                path.append(part)
                current = current[part]
            else:
                branch = part  # a union member tag such as 'str' or 'ModelRequest'
        if path and path[-1] in MODEL_FIELDS and not isinstance(path[-1], int):
            if isinstance(current, dict) and branch == "str":
                continue  # an object: only the ModelRequest branch speaks
            expected = "a string (a dataset column) or an object (a model configuration)"
        elif branch in ("int", "float") or error["type"] == "float_type":
            expected = "a number" if not _is_integer_field(path) else "an integer"
        else:
            expected = _EXPECTED.get(error["type"], "valid")
        key = tuple(path)
        if key in seen:
            continue
        seen.add(key)
        kind = "missing" if error["type"] == "missing" else "type"
        found.append((kind, path, expected, current))
    return found


def _is_integer_field(path: list[str | int]) -> bool:
    return bool(path) and path[-1] in ("max_tokens", "num_workers")


def _model_requests(model: Any) -> list[tuple[str, ModelRequest]]:
    return [
        (f"parameters.{name}", value)
        for name in MODEL_FIELDS
        if isinstance(value := getattr(model, name, None), ModelRequest)
    ]


def _check_values(model: ClassifyParameters | ScoreParameters | CompareParameters) -> None:
    if isinstance(model, ClassifyParameters):
        if len(model.labels) < 2:
            raise InvalidRequest(
                f"Field 'parameters.labels' needs at least 2 labels, got {len(model.labels)}.",
                param="parameters.labels",
            )
        if not model.pass_labels:
            raise InvalidRequest(
                "Field 'parameters.pass_labels' must name at least one of 'parameters.labels'.",
                param="parameters.pass_labels",
            )
        unknown = [label for label in model.pass_labels if label not in model.labels]
        if unknown:
            raise InvalidRequest(
                f"Field 'parameters.pass_labels' must be a subset of 'parameters.labels' "
                f"{model.labels}; not in labels: {unknown}.",
                param="parameters.pass_labels",
            )
    if isinstance(model, ScoreParameters):
        for name in ("min_score", "max_score", "pass_threshold"):
            value = getattr(model, name)
            if not -MAX_SCORE <= value <= MAX_SCORE:
                raise InvalidRequest(
                    f"Field 'parameters.{name}' must be between {-MAX_SCORE:g} and {MAX_SCORE:g}, got {value}.",
                    param=f"parameters.{name}",
                )
        if model.min_score >= model.max_score:
            raise InvalidRequest(
                f"Field 'parameters.min_score' ({model.min_score}) must be lower than "
                f"'parameters.max_score' ({model.max_score}).",
                param="parameters.min_score",
            )
        if not model.min_score <= model.pass_threshold <= model.max_score:
            raise InvalidRequest(
                f"Field 'parameters.pass_threshold' ({model.pass_threshold}) must be between min_score "
                f"({model.min_score}) and max_score ({model.max_score}).",
                param="parameters.pass_threshold",
            )
    configs: list[tuple[str, JudgeConfig | ModelRequest]] = [("parameters.judge", model.judge)]
    configs += _model_requests(model)
    for prefix, config in configs:
        if config.model_source == "external" and not config.external_api_token:
            raise InvalidRequest(
                f"Field '{prefix}.external_api_token' is required when '{prefix}.model_source' is 'external'.",
                param=f"{prefix}.external_api_token",
            )
    for prefix, config in configs:
        if not 0 <= config.temperature <= 2:
            raise InvalidRequest(
                f"Field '{prefix}.temperature' must be between 0 and 2, got {config.temperature}.",
                param=f"{prefix}.temperature",
            )
    for prefix, config in configs:
        if config.max_tokens < 1:
            raise InvalidRequest(
                f"Field '{prefix}.max_tokens' must be at least 1, got {config.max_tokens}.",
                param=f"{prefix}.max_tokens",
            )
    for prefix, config in configs:
        if config.num_workers is not None and config.num_workers < 1:
            raise InvalidRequest(
                f"Field '{prefix}.num_workers' must be at least 1, got {config.num_workers}.",
                param=f"{prefix}.num_workers",
            )
