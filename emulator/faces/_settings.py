"""Settings of `together-eval-emulator serve`: the engine's (`EmulatorSettings`) plus the server's
own, read strongest first from command-line options, `TOGETHER_EMULATOR_<FIELD>` variables and the
config file (`--config`), over the defaults. The CLI's options are generated from these fields."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from ..engine._config import EmulatorSettings, SettingsEnvironment, setting_names
from ..stores._factory import parse_store_url
from ._configfile import ConfigFileSource


class ServerSettings(EmulatorSettings):
    """Everything `serve` reads. Construct it with the command-line values: `ServerSettings(seed=3)`."""

    host: str = Field("127.0.0.1", min_length=1, description="Interface to bind.")
    port: int = Field(
        8000, ge=0, le=65535, description="Port to listen on; 0 picks a free one (the `listening on` line shows it)."
    )
    config: str | None = Field(
        None,
        description="TOML or JSON file of settings, scenarios, faults, tenants and files loaded at start; "
        "environment variables and options override its settings.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = Field(
        "warning", description="uvicorn log level."
    )
    store: str = Field(
        "memory",
        description="Where the state lives: memory (gone when the server stops), sqlite:PATH (a file, kept across "
        "restarts) or redis://HOST:PORT/DB (shared by several servers).",
    )
    reset_store: bool = Field(
        False,
        description="Start the store over at startup: its whole state is forgotten (also a state written by an "
        "incompatible version).",
    )
    workers: int = Field(
        1, ge=1, description="Server processes sharing the socket; more than 1 needs a sqlite or redis store."
    )

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        try:
            parse_store_url(value)
        except ValueError as exc:  # its message names the accepted forms
            raise PydanticCustomError("store_url", str(exc)) from None
        return value.strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Strongest first; the file source reads `config` from the two before it.
        return init_settings, SettingsEnvironment(settings_cls), ConfigFileSource(settings_cls)


# Where each field can be given: settings (scalars, lists) everywhere, the server's own first;
# tables only in the config file.
OPTION_FIELDS = sorted(setting_names(ServerSettings), key=lambda name: name in EmulatorSettings.model_fields)
ENV_FIELDS = OPTION_FIELDS
FILE_FIELDS = [name for name in ServerSettings.model_fields if name != "config"]


def option_of(name: str) -> str:
    """The command-line option of a field: `time_scale` -> `--time-scale`."""
    return "--" + name.replace("_", "-")
