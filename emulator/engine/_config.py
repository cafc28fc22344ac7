"""Emulator settings, declared once: `EmulatorConfig` holds every field of the engine (type, default,
meaning, parsing) and `EmulatorSettings` reads them with pydantic-settings. The faces extend them
with their own fields: `serve` (`faces/_settings.py`: options, environment, config file) and the
pytest plugin (`pytest_plugin/_options.py`: ini, options, marker); their options are generated
from the fields (`setting_names`)."""

from __future__ import annotations

import functools
import os
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from ._clock import MAX_TIME_SCALE, parse_time
from ._faults import FaultRule
from ._recordings import BUILTIN_PREFIX, Recording
from ._scenarios import EvalType, ProgressionMode, Scenario, ScenarioEntry
from ._strict_json import MAX_JSON_DEPTH, MAX_SAFE_INTEGER

ENV_PREFIX = "TOGETHER_EMULATOR_"

# The 2026 serverless allowlist for evaluations.
SERVERLESS_ALLOWLIST = [
    "LiquidAI/LFM2-24B-A2B",
    "MiniMaxAI/MiniMax-M2.7",
    "Qwen/Qwen3-235B-A22B-Instruct-2507-tput",
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
    "Qwen/Qwen3-Coder-Next-FP8",
    "Qwen/Qwen3.5-397B-A17B",
    "Qwen/Qwen3.5-9B",
    "Qwen/Qwen3.6-Plus",
    "deepcogito/cogito-v2-1-671b",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-V3.1",
    "deepseek-ai/DeepSeek-V4-Pro",
    "essentialai/rnj-1-instruct",
    "google/gemma-3n-E4B-it",
    "google/gemma-4-31B-it",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "moonshotai/Kimi-K2.5",
    "moonshotai/Kimi-K2.6",
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
    "zai-org/GLM-5",
    "zai-org/GLM-5.1",
]


def _comma_separated(value: object) -> object:
    """A list written as one string (an environment variable, a command-line or ini value):
    `"a, b,c"` -> `["a", "b", "c"]`. Lists pass through."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list of strings that one string can also give, comma-separated. `NoDecode` keeps pydantic-settings
# from reading an environment variable as JSON: the validator above parses it, for every source.
CommaSeparated = Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)]


class TenantConfig(BaseModel):
    """A known API key, optionally named (rules match `tenant` on the key or the name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1)
    name: str | None = None


class SeedFile(BaseModel):
    """A file present at start (and after every reset) in a tenant: give `content`, `rows` or `path`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = Field(min_length=1, description="API key that owns the file.")
    filename: str | None = Field(None, description="Default: the name of `path`, else `dataset.jsonl`.")
    id: str | None = Field(None, pattern=r"^file-[0-9a-f-]{36}$", description="Fixed id; seeded when absent.")
    purpose: Literal["eval", "eval-sample", "eval-output", "eval-summary", "fine-tune", "batch-api"] = "eval"
    content: str | None = None
    rows: list[dict[str, Any]] | None = None
    path: str | None = None  # relative to the config file (or to the working directory)

    @model_validator(mode="before")
    @classmethod
    def _default_filename(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("filename") is None:
            path = data.get("path")
            return {**data, "filename": os.path.basename(path) if isinstance(path, str) else "dataset.jsonl"}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> SeedFile:
        given = [name for name in ("content", "rows", "path") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'content', 'rows' or 'path' (got {given or 'none'})")
        return self


class EmulatorConfig(BaseModel):
    """Everything that shapes an emulator's behaviour. Immutable: derive another with
    `config.model_copy(update={...})`. Settings (scalars, lists of strings) are also read from
    `TOGETHER_EMULATOR_<FIELD>` variables and options; tables come from a config file or Python."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    seed: int = Field(0, description="Seed of ids, verdicts and generated text.")
    clock: Literal["real", "manual"] = Field(
        "real", description="`real`: wall time (scaled); `manual`: frozen until advanced."
    )
    time_scale: float = Field(
        1.0, gt=0, le=MAX_TIME_SCALE, description="Speed of the real clock (60 = a minute per second)."
    )
    start_time: str | None = Field(
        None,
        description="Where the clock starts (RFC 3339 or epoch seconds); unset: 2026-01-01T00:00:00Z for a "
        "manual clock, now for a real one.",
    )
    pending_seconds: float = Field(1.0, ge=0, description="Time a job spends in `pending`.")
    queued_seconds: float = Field(2.0, ge=0, description="Time a job spends in `queued`.")
    running_seconds: float = Field(3.0, ge=0, description="Base time a job spends in `running`.")
    running_seconds_per_row: float = Field(0.01, ge=0, description="Extra running time per dataset row.")
    failure_delay_seconds: float = Field(
        1.0, ge=0, description="How long after reaching `running` a dataset problem ends the job."
    )
    max_running_per_tenant: int | None = Field(
        None,
        ge=1,
        description="Most jobs of one API key `running` at once; the others wait in `queued`, first created "
        "first served (unset: no limit).",
    )
    max_running: int | None = Field(
        None,
        ge=1,
        description="Most jobs `running` at once over every API key; the others wait in `queued`, first created "
        "first served (unset: no limit).",
    )
    max_running_per_type: dict[EvalType, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        description="Most jobs of an evaluation type `running` at once over every API key, e.g. `{compare = 1}`; "
        "a type not listed has no limit (empty: none).",
    )
    capacity_priority: CommaSeparated = Field(
        default_factory=list,
        description="API keys or tenant names whose waiting jobs get a free slot first, first listed first; "
        "tenants not listed come after, first created first served (strict: it can starve them); "
        "comma-separated where one string gives it.",
    )
    column_use_rule: bool = Field(True, description="Fail jobs whose dataset has unreferenced columns.")
    strict_models: bool = Field(False, description="Fail serverless models missing from the allowlist.")
    journal_limit: int = Field(
        10_000, ge=0, le=MAX_SAFE_INTEGER, description="Most recent requests the journal keeps (0: all)."
    )
    journal_byte_limit: int = Field(
        32 * 2**20,
        ge=0,
        le=MAX_SAFE_INTEGER,
        description="Bytes of bodies, paths and queries the journal keeps, oldest requests dropped first "
        "(0: no bound).",
    )
    journal_body_limit: int = Field(
        64 * 2**10,
        ge=0,
        le=MAX_SAFE_INTEGER,
        description="Largest request body the journal keeps; a larger one is kept as its size and SHA-256 only.",
    )
    upload_url_seconds: float = Field(
        3600.0,
        gt=0,
        le=366 * 86_400,
        allow_inf_nan=False,
        description="Lifetime of an upload URL on the emulator clock (seconds); it also dies once its file is "
        "preprocessed or completed.",
    )
    model_allowlist: CommaSeparated = Field(
        default_factory=lambda: list(SERVERLESS_ALLOWLIST),
        description="Answer of GET /v1/evaluation/model-list (and the strict-models allowlist); "
        "comma-separated where one string gives it.",
    )
    model_lists: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Answer of the model list for other `model_source` values (e.g. dedicated); empty by default.",
    )
    progression: ProgressionMode = Field(
        "durations", description="Default progression: immediate, after_polls, durations or manual."
    )
    polls_per_phase: int = Field(1, ge=0, description="Reads per phase under the after_polls progression.")
    polling_min_interval_seconds: float = Field(
        1.0,
        ge=0,
        allow_inf_nan=False,
        description="Polling verdict: shortest time between two reads of a job on the emulator clock (0: any).",
    )
    polling_reads_after_terminal: int = Field(
        0, ge=0, description="Polling verdict: reads of a job allowed after the one that saw it end."
    )
    polling_honours_retry_after: bool = Field(
        True, description="Polling verdict: a read must wait the Retry-After of the answer before it."
    )
    polling_list_watches: int = Field(
        0,
        ge=0,
        description="Polling verdict: list calls allowed to watch a running job (a list followed by no read of it).",
    )
    admin_token: str | None = Field(
        None, description="Token the control plane (/_emulator/) requires; required off loopback."
    )
    auth: Literal["any", "known"] = Field(
        "any", description="`any`: every API key is a tenant; `known`: only the keys under `tenants`."
    )
    defaults: Scenario | None = Field(None, description="The server-default scenario.")
    types: dict[EvalType, Scenario] = Field(default_factory=dict, description="A scenario per evaluation type.")
    scenarios: list[ScenarioEntry] = Field(default_factory=list, description="Scenario rules and next-N entries.")
    faults: list[FaultRule] = Field(default_factory=list, description="Fault rules in force at start.")
    tenants: list[TenantConfig] = Field(default_factory=list, description="Known API keys and their names.")
    files: list[SeedFile] = Field(default_factory=list, description="Files uploaded at start.")
    recordings: list[Recording] = Field(
        default_factory=list, description="Recorded jobs that new jobs can replay (docs/recordings.md)."
    )
    # Bounds of every request (docs/limits.md): each is a 413 or a 400 in the real error shape.
    max_body_bytes: int = Field(
        1_048_576, ge=1, description="Largest request body in bytes, file bytes and state imports aside (413 beyond)."
    )
    max_upload_bytes: int = Field(
        1_073_741_824,
        ge=1,
        description="Largest body carrying file bytes (an upload URL, a part, a direct upload) or a state import, "
        "in bytes (413 beyond).",
    )
    max_json_depth: int = Field(
        64,
        ge=1,
        le=MAX_JSON_DEPTH,
        description="Deepest nesting of arrays and objects in a JSON body (400 beyond) or a dataset row (its job "
        "ends in user_error).",
    )
    max_list_items: int = Field(
        1_000, ge=1, description="Most items of an array or object in a JSON body, e.g. `labels` (400 beyond)."
    )
    max_string_chars: int = Field(
        100_000, ge=1, description="Longest string in a JSON body, in characters (400 beyond)."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """`true` is not a number: a boolean given to a numeric setting (in a config file) is refused,
        not read as 1."""
        if isinstance(value, bool) and info.field_name in _numeric_fields(cls):
            raise ValueError("a number is needed, not a boolean")
        return value

    @field_validator("recordings")
    @classmethod
    def _distinct_names(cls, value: list[Recording]) -> list[Recording]:
        names = [recording.name for recording in value]
        taken = next((name for name in names if name.startswith(BUILTIN_PREFIX) or names.count(name) > 1), None)
        if taken is not None:
            raise ValueError(
                f"recording '{taken}' is named twice, or with the '{BUILTIN_PREFIX}' prefix of the built-in ones"
            )
        return value

    @field_validator("admin_token")
    @classmethod
    def _sendable_token(cls, value: str | None) -> str | None:
        """A token a client can send in a header: visible ASCII, no spaces (HTTP drops spaces around a
        header's value, and headers are not UTF-8), or it could never be matched. Empty: none."""
        if not value:
            return None
        if not all("!" <= char <= "~" for char in value):
            raise ValueError("use visible ASCII characters only, without spaces: clients send it in a header")
        return value

    @field_validator("start_time")
    @classmethod
    def _known_instant(cls, value: str | None) -> str | None:
        if value is not None:
            parse_time(value)  # raises ValueError, named after the field by pydantic
        return value

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, file: dict[str, Any] | None = None, **overrides: object
    ) -> EmulatorConfig:
        """The layering of `serve` from explicit inputs: defaults, then a config file's values, then
        `environ`'s `TOGETHER_EMULATOR_*` variables (default: the process environment), then the
        overrides that are not None."""
        variables = SettingsEnvironment(EmulatorSettings, environ)()
        given = {name: value for name, value in overrides.items() if value is not None}
        return cls.model_validate({**(file or {}), **variables, **given})

    def emulator_config(self) -> EmulatorConfig:
        """These settings as the plain `EmulatorConfig` an `Emulator` takes: the engine's fields of a
        face's settings model (which adds the face's own fields), or this config itself."""
        if type(self) is EmulatorConfig:
            return self
        return EmulatorConfig.model_validate({name: getattr(self, name) for name in EmulatorConfig.model_fields})


@functools.cache
def _numeric_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` that hold a number (alone or optional)."""
    found = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = members[0] if len(members) == 1 else None
        if annotation in (int, float):
            found.add(name)
    return frozenset(found)


def is_setting(field: FieldInfo) -> bool:
    """Whether a field holds one value a command line can give: a scalar, or a list of strings
    (comma-separated). The other fields are tables (scenarios, faults, ...): a config file or Python."""
    return _simple(field.annotation)


def _simple(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return all(_simple(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin is list:
        return typing.get_args(annotation) == (str,)
    return origin is Literal or annotation in (int, float, str, bool)


def setting_names(model: type[BaseModel]) -> list[str]:
    """The fields of `model` that are settings (see `is_setting`), in declaration order."""
    return [name for name, field in model.model_fields.items() if is_setting(field)]


def env_var(name: str) -> str:
    """The environment variable of a settings field: `seed` -> `TOGETHER_EMULATOR_SEED`."""
    return ENV_PREFIX + name.upper()


class SettingsEnvironment(EnvSettingsSource):
    """`TOGETHER_EMULATOR_<FIELD>` variables (any case; empty ones are ignored) of the settings
    fields; tables are never read from the environment."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None) -> None:
        super().__init__(settings_cls)
        if environ is not None:  # instead of the process environment (tests, embedding)
            self.env_vars = {key.lower(): value for key, value in environ.items() if value != ""}
        self._settings = frozenset(setting_names(settings_cls))

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name not in self._settings:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class EmulatorSettings(EmulatorConfig, BaseSettings):
    """`EmulatorConfig` read by pydantic-settings, strongest first: the values given to the
    constructor (a command line), then `TOGETHER_EMULATOR_<FIELD>` variables, then the defaults.
    Subclasses add their own fields and sources. Building one (`model_validate` too) reads its
    sources: to validate plain values, use `EmulatorConfig`."""

    # defer_build: the validator is built on first use, not at import (only `serve` builds one).
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        validate_default=True,
        defer_build=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, SettingsEnvironment(settings_cls)
