"""Settings of `together-eval-emulator serve`: the engine's (`EmulatorSettings`) plus the server's
own, read strongest first from command-line options, `TOGETHER_EMULATOR_<FIELD>` variables and the
config file (`--config`), over the defaults. The CLI's options are generated from these fields."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from ..engine._config import EmulatorSettings, SettingsEnvironment, setting_names
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
