# ruff: noqa: E501  (generated data: descriptions stay on one line)
"""Static copy of what the plugin's options and marker need from the settings model, so that
registering them imports neither pydantic nor the emulator (a pytest run that never uses the fixtures
pays nothing for them). tests/plugin/test_startup.py checks every value against its source
(`_fixture_settings.option_table()` and `marker_defaults()`, `faces._controller`, `faces._mock`);
when a setting changes, the test prints the tables to paste here.
"""

from __future__ import annotations

from typing import Any

DEFAULT_API_KEY = "test-emulator-key"
DEFAULT_BASE_URL = "http://together-emulator.test"
# Settings of an emulator made for tests: frozen clock at the fixed epoch, seed 0 (reproducible ids).
TEST_DEFAULTS: dict[str, Any] = {"clock": "manual", "seed": 0}

# name -> (model default, description) of every field a command line or an ini file can set.
OPTION_TABLE: dict[str, tuple[Any, str]] = {
    "seed": (0, "Seed of ids, verdicts and generated text."),
    "clock": ("real", "`real`: wall time (scaled); `manual`: frozen until advanced."),
    "time_scale": (1.0, "Speed of the real clock (60 = a minute per second)."),
    "start_time": (
        None,
        "Where the clock starts (RFC 3339 or epoch seconds); unset: 2026-01-01T00:00:00Z for a manual clock, "
        "now for a real one.",
    ),
    "pending_seconds": (1.0, "Time a job spends in `pending`."),
    "queued_seconds": (2.0, "Time a job spends in `queued`."),
    "running_seconds": (3.0, "Base time a job spends in `running`."),
    "running_seconds_per_row": (0.01, "Extra running time per dataset row."),
    "failure_delay_seconds": (1.0, "How long after reaching `running` a dataset problem ends the job."),
    "max_running_per_tenant": (
        None,
        "Most jobs of one API key `running` at once; the others wait in `queued`, first created "
        "first served (unset: no limit).",
    ),
    "max_running": (
        None,
        "Most jobs `running` at once over every API key; the others wait in `queued`, first created first "
        "served (unset: no limit).",
    ),
    "capacity_priority": (
        [],
        "API keys or tenant names whose waiting jobs get a free slot first, first listed first; "
        "tenants not listed come after, first created first served (strict: it can starve them); "
        "comma-separated where one string gives it.",
    ),
    "column_use_rule": (True, "Fail jobs whose dataset has unreferenced columns."),
    "strict_models": (False, "Fail serverless models missing from the allowlist."),
    "journal_limit": (10000, "Most recent requests the journal keeps (0: all)."),
    "journal_byte_limit": (
        33554432,
        "Bytes of bodies, paths and queries the journal keeps, oldest requests dropped first (0: no bound).",
    ),
    "journal_body_limit": (
        65536,
        "Largest request body the journal keeps; a larger one is kept as its size and SHA-256 only.",
    ),
    "upload_url_seconds": (
        3600.0,
        "Lifetime of an upload URL on the emulator clock (seconds); it also dies once its file is "
        "preprocessed or completed.",
    ),
    "model_allowlist": (
        [
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
        ],
        "Answer of GET /v1/evaluation/model-list (and the strict-models allowlist); comma-separated "
        "where one string gives it.",
    ),
    "progression": ("durations", "Default progression: immediate, after_polls, durations or manual."),
    "polls_per_phase": (1, "Reads per phase under the after_polls progression."),
    "polling_min_interval_seconds": (
        1.0,
        "Polling verdict: shortest time between two reads of a job on the emulator clock (0: any).",
    ),
    "polling_reads_after_terminal": (0, "Polling verdict: reads of a job allowed after the one that saw it end."),
    "polling_honours_retry_after": (True, "Polling verdict: a read must wait the Retry-After of the answer before it."),
    "polling_list_watches": (
        0,
        "Polling verdict: list calls allowed to watch a running job (a list followed by no read of it).",
    ),
    "admin_token": (None, "Token the control plane (/_emulator/) requires; required off loopback."),
    "auth": ("any", "`any`: every API key is a tenant; `known`: only the keys under `tenants`."),
    "max_body_bytes": (1048576, "Largest request body in bytes, file bytes and state imports aside (413 beyond)."),
    "max_upload_bytes": (
        1073741824,
        "Largest body carrying file bytes (an upload URL, a part, a direct upload) or a state import, "
        "in bytes (413 beyond).",
    ),
    "max_json_depth": (
        64,
        "Deepest nesting of arrays and objects in a JSON body (400 beyond) or a dataset row (its job "
        "ends in user_error).",
    ),
    "max_list_items": (1000, "Most items of an array or object in a JSON body, e.g. `labels` (400 beyond)."),
    "max_string_chars": (100000, "Longest string in a JSON body, in characters (400 beyond)."),
    "api_key": ("test-emulator-key", "API key put in TOGETHER_API_KEY (also the tenant)."),
    "base_url": ("http://together-emulator.test", "Root URL the in-process emulator answers on (no socket is opened)."),
    "other_hosts": ("fail", "In-process: requests to other hosts 'fail', or 'pass_through' to the network."),
    "advance_on_sleep": (
        False,
        "time.sleep / asyncio.sleep in the test's thread advance the emulator clock instead of waiting.",
    ),
    "polling": (
        "lenient",
        "Polling verdict of the test's jobs: 'strict' fails the test when one was polled badly, 'lenient' only "
        "reports it (--together-emulator-polling-report), 'off' grades none.",
    ),
}

# Every field a marker can set (tables included), with its model default.
MARKER_DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "clock": "real",
    "time_scale": 1.0,
    "start_time": None,
    "pending_seconds": 1.0,
    "queued_seconds": 2.0,
    "running_seconds": 3.0,
    "running_seconds_per_row": 0.01,
    "failure_delay_seconds": 1.0,
    "max_running_per_tenant": None,
    "max_running": None,
    "max_running_per_type": {},
    "capacity_priority": [],
    "column_use_rule": True,
    "strict_models": False,
    "journal_limit": 10000,
    "journal_byte_limit": 33554432,
    "journal_body_limit": 65536,
    "upload_url_seconds": 3600.0,
    "model_allowlist": [
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
    ],
    "model_lists": {},
    "progression": "durations",
    "polls_per_phase": 1,
    "polling_min_interval_seconds": 1.0,
    "polling_reads_after_terminal": 0,
    "polling_honours_retry_after": True,
    "polling_list_watches": 0,
    "admin_token": None,
    "auth": "any",
    "defaults": None,
    "types": {},
    "scenarios": [],
    "faults": [],
    "tenants": [],
    "files": [],
    "recordings": [],
    "max_body_bytes": 1048576,
    "max_upload_bytes": 1073741824,
    "max_json_depth": 64,
    "max_list_items": 1000,
    "max_string_chars": 100000,
    "api_key": "test-emulator-key",
    "base_url": "http://together-emulator.test",
    "other_hosts": "fail",
    "advance_on_sleep": False,
    "polling": "lenient",
}
