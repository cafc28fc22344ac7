"""Emulator settings: one pydantic model, read from a config file, environment variables and CLI
options (`configfile.py` reads the file; `cli.py` layers the rest)."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._faults import FaultRule
from ._scenarios import EvalType, ProgressionMode, Scenario, ScenarioEntry

ENV_PREFIX = "TOGETHER_EMULATOR_"

# The 2026 serverless allowlist for evaluations (spec §12.1).
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


class TenantConfig(BaseModel):
    """A known API key, optionally named (rules match `tenant` on the key or the name)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1)
    name: str | None = None


class SeedFile(BaseModel):
    """A file present at start (and after every reset) in a tenant: give `content`, `rows` or `path`."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, description="API key that owns the file.")
    filename: str | None = None
    id: str | None = Field(None, pattern=r"^file-[0-9a-f-]{36}$", description="Fixed id; seeded when absent.")
    purpose: Literal["eval", "eval-sample", "eval-output", "eval-summary", "fine-tune", "batch-api"] = "eval"
    content: str | None = None
    rows: list[dict[str, Any]] | None = None
    path: str | None = None  # relative to the config file (or to the working directory)

    @model_validator(mode="after")
    def _one_source(self) -> SeedFile:
        given = [name for name in ("content", "rows", "path") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'content', 'rows' or 'path' (got {given or 'none'})")
        if self.filename is None:
            self.filename = os.path.basename(self.path) if self.path else "dataset.jsonl"
        return self


# Fields that hold tables, not scalars: no environment variable or CLI option reads them.
COMPOSITE_FIELDS = frozenset(
    {"model_allowlist", "model_lists", "defaults", "types", "scenarios", "faults", "tenants", "files"}
)


class EmulatorConfig(BaseModel):
    """Everything that shapes an emulator's behaviour. Each field is also an environment
    variable: `TOGETHER_EMULATOR_<FIELD>` (e.g. `TOGETHER_EMULATOR_SEED=7`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    seed: int = Field(0, description="Seed of ids, verdicts and generated text.")
    clock: Literal["real", "manual"] = Field(
        "real", description="`real`: wall time (scaled); `manual`: frozen until advanced."
    )
    time_scale: float = Field(1.0, gt=0, description="Speed of the real clock (60 = a minute per second).")
    start_time: str | None = Field(
        None,
        description="Where the clock starts (RFC 3339 or epoch seconds). "
        "Default: 2026-01-01T00:00:00Z for a manual clock, now for a real one.",
    )
    pending_seconds: float = Field(1.0, ge=0, description="Time a job spends in `pending`.")
    queued_seconds: float = Field(2.0, ge=0, description="Time a job spends in `queued`.")
    running_seconds: float = Field(3.0, ge=0, description="Base time a job spends in `running`.")
    running_seconds_per_row: float = Field(0.01, ge=0, description="Extra running time per dataset row.")
    failure_delay_seconds: float = Field(
        1.0, ge=0, description="How long after reaching `running` a dataset problem ends the job."
    )
    column_use_rule: bool = Field(True, description="Fail jobs whose dataset has unreferenced columns (spec D6).")
    strict_models: bool = Field(False, description="Fail serverless models missing from the allowlist (spec D3).")
    journal_limit: int = Field(10_000, ge=0, description="Most recent requests the journal keeps (0: all).")
    model_allowlist: list[str] = Field(
        default_factory=lambda: list(SERVERLESS_ALLOWLIST),
        description="Answer of GET /v1/evaluation/model-list (and the strict-models allowlist).",
    )
    model_lists: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Answer of the model list for other `model_source` values (e.g. dedicated); empty by default.",
    )
    progression: ProgressionMode = Field(
        "durations", description="Default progression: immediate, after_polls, durations or manual."
    )
    polls_per_phase: int = Field(1, ge=0, description="Reads per phase under the after_polls progression.")
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

    @classmethod
    def from_env(
        cls, environ: dict[str, str] | None = None, *, file: dict[str, Any] | None = None, **overrides: object
    ) -> EmulatorConfig:
        """Defaults, then a config file's values, then `TOGETHER_EMULATOR_*` variables, then explicit
        overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = dict(file or {})
        for name in cls.model_fields:
            raw = environ.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "" and (name not in COMPOSITE_FIELDS or name == "model_allowlist"):
                values[name] = raw.split(",") if name == "model_allowlist" else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
