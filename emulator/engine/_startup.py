"""What a fresh (or freshly reset) emulator holds before any request: the tenants, files, scenarios
and fault rules of its settings (`EmulatorConfig`, usually from `serve --config FILE`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ._config import EmulatorConfig, SeedFile
from ._faults import FaultBook
from ._files import file_type_of
from ._scenarios import Scenario, ScenarioBook
from ._store import StoredFile

if TYPE_CHECKING:
    from ..http._core import Emulator


def seed_content(file: SeedFile) -> bytes:
    """The bytes of a configured file."""
    if file.content is not None:
        return file.content.encode()
    if file.rows is not None:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in file.rows).encode()
    return Path(file.path or "").read_bytes()


def scenario_book(config: EmulatorConfig) -> ScenarioBook:
    book = ScenarioBook(default=config.defaults or Scenario(), types=dict(config.types))
    for entry in config.scenarios:
        book.add(entry)
    return book


def fault_book(config: EmulatorConfig) -> FaultBook:
    book = FaultBook()
    for rule in config.faults:
        book.add(rule)
    return book


def apply(emulator: Emulator) -> None:
    """Fill `emulator.state` (just rebuilt) from the settings."""
    config, state = emulator.config, emulator.state
    state.scenarios = scenario_book(config)
    state.faults = fault_book(config)
    for tenant in config.tenants:
        state.tenant(tenant.key).name = tenant.name
    for seed in config.files:
        filename = seed.filename or "dataset.jsonl"
        file = StoredFile(
            id=seed.id or emulator.ids.file_id(),
            tenant=seed.tenant,
            filename=filename,
            purpose=seed.purpose,
            file_type=file_type_of(filename, None),
            created_ns=emulator.clock.now_ns(),
            content=seed_content(seed),
        )
        state.tenant(seed.tenant).files[file.id] = file
    if config.auth == "known":
        state.known_keys = {tenant.key for tenant in config.tenants} | {seed.tenant for seed in config.files}
