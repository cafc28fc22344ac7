"""docs/limits.md agrees with the code: every bound that is a setting is a row with its default,
option and variable, and the fixed bounds it states are the ones the emulator applies."""

from __future__ import annotations

import re
from pathlib import Path

from together_eval_emulator.engine import _clock as clock, _ids as ids
from together_eval_emulator.engine._config import EmulatorConfig, env_var
from together_eval_emulator.engine._strict_json import MAX_JSON_DEPTH
from together_eval_emulator.faces._settings import option_of
from together_eval_emulator.http._routing import MAX_QUERY_DIGITS

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()
# The bounds of requests (the capacity's `max_running*` settings are another feature: docs/capacity.md).
LIMITS = [name for name in EmulatorConfig.model_fields if name.startswith("max_") and "running" not in name]


def test_every_limit_setting_is_a_row_with_its_default_option_and_variable() -> None:
    assert LIMITS == ["max_body_bytes", "max_upload_bytes", "max_json_depth", "max_list_items", "max_string_chars"]
    rows = {row.split("|")[1].strip(" `"): row for row in re.findall(r"^\| `max_\w+` .*$", PAGE, re.M)}
    assert set(rows) == set(LIMITS)
    for name in LIMITS:
        default = EmulatorConfig.model_fields[name].default
        cells = [cell.strip() for cell in rows[name].split("|")[1:-1]]
        assert cells[1].startswith(f"`{default}`"), name
        assert (cells[2], cells[3]) == (f"`{option_of(name)}`", f"`{env_var(name)}`"), name


def test_the_fixed_bounds_on_the_page_are_the_code_s() -> None:
    schema = EmulatorConfig.model_json_schema()["properties"]
    assert f"at most `{MAX_JSON_DEPTH}`" in PAGE and schema["max_json_depth"]["maximum"] == MAX_JSON_DEPTH
    assert f"`{clock.EARLIEST}` and `{clock.LATEST}`" in PAGE
    assert f"at most `{clock.MAX_TIME_SCALE:.0f}`" in PAGE
    assert f"below 10^{MAX_QUERY_DIGITS}" in PAGE
    assert f"{1 << ids.JOB_ID_BITS:,} ids" in PAGE
