"""What a fresh (or freshly reset) emulator holds before any request: the tenants, files, scenarios,
fault rules, recordings and capacity of its settings (`EmulatorConfig`, usually from
`serve --config FILE`)."""

from __future__ import annotations

import json
from pathlib import Path

from . import _ids as ids
from ._capacity import Capacity, CapacityLog
from ._clock import Clock
from ._config import EmulatorConfig, SeedFile
from ._faults import FaultBook
from ._files import Files, file_type_of
from ._replays import Recordings
from ._rulebooks import FaultRules, ScenarioRules
from ._scenarios import Scenario, ScenarioBook
from ._schedule import Schedule
from ._store import Store, StoredFile
from ._tenants import Tenants


def seed_content(file: SeedFile) -> bytes:
    """The bytes of a configured file."""
    if file.content is not None:
        return file.content.encode()
    if file.rows is not None:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in file.rows).encode()
    return Path(file.path or "").read_bytes()


def scenario_book(config: EmulatorConfig) -> ScenarioBook:
    """The scenarios of the settings, entries numbered from `scn-1`."""
    entries = [entry.model_copy(update={"id": f"scn-{n}", "used": 0}) for n, entry in enumerate(config.scenarios, 1)]
    return ScenarioBook(
        default=config.defaults or Scenario(), types=dict(config.types), entries=entries, next_id=len(entries) + 1
    )


def fault_book(config: EmulatorConfig) -> FaultBook:
    """The fault rules of the settings, numbered from `fault-1`."""
    rules = [
        rule.model_copy(update={"id": f"fault-{n}", "seen": 0, "fired": 0, "window": {}})
        for n, rule in enumerate(config.faults, 1)
    ]
    return FaultBook(rules=rules, next_id=len(rules) + 1)


def apply(
    config: EmulatorConfig,
    *,
    store: Store,
    clock: Clock,
    tenants: Tenants,
    files: Files,
    scenarios: ScenarioRules,
    faults: FaultRules,
    schedule: Schedule,
    recordings: Recordings,
) -> None:
    """Fill a store (just cleared) from the settings."""
    if config.defaults or config.types or config.scenarios:  # a cleared store's books are empty already
        scenarios.load(scenario_book(config))
    if config.faults:
        faults.load(fault_book(config))
    if config.recordings:
        recordings.load(config.recordings)
    capacity = Capacity(
        per_tenant=config.max_running_per_tenant,
        total=config.max_running,
        per_type=tuple(config.max_running_per_type.items()),
        priority=tuple(config.capacity_priority),
    )
    if capacity.given:  # a cleared store limits nothing already
        schedule.load(CapacityLog.from_start(capacity))
    for tenant in config.tenants:
        tenants.name(tenant.key, tenant.name)
    for seed in config.files:
        filename = seed.filename or "dataset.jsonl"
        tenants.resolve(seed.tenant)
        record = StoredFile(
            id=seed.id or store.draw(ids.file_id),
            tenant=seed.tenant,
            filename=filename,
            purpose=seed.purpose,
            file_type=file_type_of(filename, None),
            created_ns=clock.now_ns(),
        )
        files.put(record, seed_content(seed))
    if config.auth == "known":
        store.set_known_keys(
            frozenset({tenant.key for tenant in config.tenants} | {seed.tenant for seed in config.files})
        )
