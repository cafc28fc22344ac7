"""`serve --config FILE`: a TOML or JSON file whose keys are the server's settings fields, settings
and tables alike (`seed`, `clock`, `port`, `[defaults]`, `[types.score]`, `[[scenarios]]`,
`[[faults]]`, `[[tenants]]`, `[[files]]`, `[[recordings]]`), read as a pydantic-settings source below
the environment and the command line. A file's `path` (and a recording's `path` and
`result_file_path`) is read relative to the config file, at load; a `[capacity]` table is another
spelling of the `max_running_per_tenant` and `max_running` settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

try:
    import tomllib
except ImportError:  # Python 3.10: TOML needs the `tomli` backport; JSON always works
    tomllib = None  # type: ignore[assignment]


class ConfigFileError(Exception):
    """The file cannot be read or parsed; the message names the file and the problem."""


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The file's values, with every `files[].path` replaced by the file's content."""
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise ConfigFileError(f"cannot read config file '{file}': {exc.strerror}") from None
    try:
        if file.suffix.lower() == ".json":
            values = json.loads(text)
        elif tomllib is None:
            raise ConfigFileError(f"config file '{file}': TOML needs Python 3.11+; use a .json file instead")
        else:
            values = tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
        raise ConfigFileError(f"config file '{file}' is not valid {kind}: {exc}") from None
    except RecursionError:  # the parser's own guard: hundreds of nested levels
        raise ConfigFileError(f"config file '{file}' nests arrays or tables too deeply to be read") from None
    if not isinstance(values, dict):
        raise ConfigFileError(f"config file '{file}' must hold an object (a TOML document or a JSON object)")
    _capacity_table(values, file)
    _recording_files(values, file)
    for index, seed in enumerate(values.get("files") or []):
        if isinstance(seed, dict) and isinstance(seed.get("path"), str):
            data_path = file.parent / seed["path"]
            try:
                content = data_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigFileError(f"files.{index}.path: cannot read '{data_path}' ({exc})") from None
            seed.setdefault("filename", Path(seed["path"]).name)
            seed["content"] = content
            del seed["path"]
    return values


def _recording_files(values: dict[str, Any], file: Path) -> None:
    """Read each `[[recordings]]` entry's `path` (the recorded job's JSON) and `result_file_path`
    (its result file) into `job` and `result_file`, in place (docs/recordings.md)."""
    for index, recording in enumerate(values.get("recordings") or []):
        if not isinstance(recording, dict):
            continue
        for key, target in (("path", "job"), ("result_file_path", "result_file")):
            if not isinstance(recording.get(key), str):
                continue
            data_path = file.parent / recording.pop(key)
            try:
                text = data_path.read_text(encoding="utf-8")
                recording[target] = json.loads(text) if target == "job" else text
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise ConfigFileError(f"recordings.{index}.{key}: cannot read '{data_path}' ({exc})") from None


# `[capacity]` keys and the settings they give (docs/capacity.md).
CAPACITY_KEYS = {
    "per_tenant": "max_running_per_tenant",
    "total": "max_running",
    "per_type": "max_running_per_type",
    "priority": "capacity_priority",
}
_CAPACITY_KEY_LIST = ", ".join(f"'{key}'" for key in CAPACITY_KEYS)


def _capacity_table(values: dict[str, Any], file: Path) -> None:
    """Read a `[capacity]` table (`per_tenant`, `total`, `per_type`, `priority`) as the settings it
    names, in place."""
    table = values.pop("capacity", None)
    if table is None:
        return
    if not isinstance(table, dict):
        raise ConfigFileError(f"config file '{file}': 'capacity' must be a table of {_CAPACITY_KEY_LIST}")
    unknown = sorted(set(table) - set(CAPACITY_KEYS))
    if unknown:
        raise ConfigFileError(f"config file '{file}': capacity.{unknown[0]} is not a key; use {_CAPACITY_KEY_LIST}")
    for key, setting in CAPACITY_KEYS.items():
        if key in table:
            if setting in values:
                raise ConfigFileError(
                    f"config file '{file}': capacity.{key} and {setting} give the same setting; keep one"
                )
            values[setting] = table[key]


class ConfigFileSource(PydanticBaseSettingsSource):
    """The values of the file named by the `config` field, which a stronger source gave (the
    command line or `TOGETHER_EMULATOR_CONFIG`); nothing when none did. The model validates them
    with the other sources' values."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the whole file is read at once, in __call__

    def __call__(self) -> dict[str, Any]:
        path = self.current_state.get("config")
        if not path:
            return {}
        values = load_config_file(path)
        if "config" in values:
            raise ConfigFileError(f"config file '{path}': 'config' names the config file; it cannot be set in one")
        return values
