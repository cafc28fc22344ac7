"""Dataset checks made when a job reaches `running`: each problem becomes the job's `user_error`
message, naming the file, column or template and the fix (docs/wire-contract.md#decision-dataset-checks-at-running)."""

from __future__ import annotations

from ._config import EmulatorConfig
from ._datasets import Dataset
from ._parameters import ClassifyParameters, CompareParameters, JudgeConfig, ModelRequest, ScoreParameters
from ._templates import TemplateProblem, referenced_columns

RECOGNIZED_COLUMNS = frozenset({"image_data_urls"})
MODEL_FIELDS = ("model_to_evaluate", "model_a", "model_b")

Params = ClassifyParameters | ScoreParameters | CompareParameters


def unknown_file_message(file_id: str) -> str:
    # One message for unknown, deleted and another tenant's files: nothing leaks
    # (docs/wire-contract.md#decision-dataset-checks-at-running).
    return (
        f"Input file '{file_id}' was not found. Upload the dataset with purpose 'eval' and pass its id "
        "(file-...) as parameters.input_data_file_path."
    )


def templates(params: Params) -> list[tuple[str, str]]:
    """(where, source) of every judge and model template of a job."""
    found = [("parameters.judge.system_template", params.judge.system_template)]
    for name in MODEL_FIELDS:
        value = getattr(params, name, None)
        if isinstance(value, ModelRequest):
            found.append((f"parameters.{name}.system_template", value.system_template))
            found.append((f"parameters.{name}.input_template", value.input_template))
    return found


def check(params: Params, dataset: Dataset, filename: str, config: EmulatorConfig) -> str | None:
    """The first dataset problem of a job, or None."""
    deepest, number = dataset.deepest_row
    if deepest > config.max_json_depth:
        return (
            f"Row {number} of '{filename}' nests arrays and objects {deepest} levels deep; the emulator takes at "
            f"most {config.max_json_depth} (setting `max_json_depth`). Flatten the row."
        )
    columns = set(dataset.columns)
    used: set[str] = set(RECOGNIZED_COLUMNS)
    for name in MODEL_FIELDS:
        value = getattr(params, name, None)
        if isinstance(value, str):
            if value not in columns:
                return (
                    f"Column '{value}' named by parameters.{name} is not in the dataset '{filename}' "
                    f"(columns: {sorted(columns)}). Name a column that holds the pre-generated responses, "
                    "or pass a model configuration object to generate them."
                )
            used.add(value)
    for where, source in templates(params):
        try:
            names = referenced_columns(source, where)
        except TemplateProblem as exc:
            return str(exc)
        missing = sorted(names - columns)
        if missing:
            return (
                f"Template {where} references column(s) {missing} that are not in the dataset '{filename}' "
                f"(columns: {sorted(columns)}). Reference existing columns or add them to the dataset."
            )
        used |= names
    if config.column_use_rule:
        unused = sorted(columns - used)
        if unused:
            return (
                f"Unsupported dataset column(s): {unused}. Each column must be referenced by a model or "
                "judge template, or be a recognized field ('image_data_urls'). Remove unused columns or "
                "reference them in a template."
            )
    if config.strict_models:
        configs: list[tuple[str, JudgeConfig | ModelRequest]] = [("parameters.judge", params.judge)]
        configs += [
            (f"parameters.{n}", v) for n in MODEL_FIELDS if isinstance(v := getattr(params, n, None), ModelRequest)
        ]
        for where, config_ in configs:
            if config_.model_source == "serverless" and config_.model not in config.model_allowlist:
                return (
                    f"Model '{config_.model}' ({where}.model) is not available for serverless evaluations. "
                    "See GET /v1/evaluation/model-list for the supported models."
                )
    return None
