"""Settings objects are never changed after construction: an emulator that reseeds, imports a
snapshot or is reconfigured takes a new settings object and leaves the one it was given alone."""

from __future__ import annotations

import json

from together_eval_emulator import Emulator, EmulatorConfig

from tests.support import CoreClient, classify_params, jsonl, qa_rows


def test_importing_a_snapshot_leaves_the_given_settings_alone() -> None:
    """Regression: importing a snapshot used to set the seed on the `EmulatorConfig` passed in, so
    another emulator built from the same object started with the snapshot's seed."""
    config = EmulatorConfig(clock="manual", seed=1)
    donor = CoreClient(Emulator(config.model_copy(update={"seed": 9})))
    donor.upload(jsonl(qa_rows(2)))
    snapshot = donor.control("GET", "state")

    first = CoreClient(Emulator(config))
    first.control("PUT", "state", snapshot)
    assert first.emulator.config.seed == 9  # the importing emulator follows the snapshot
    assert config.seed == 1
    second = Emulator(config)
    assert second.config.seed == 1
    # ... and draws the ids of seed 1, like an emulator that never saw a snapshot.
    fresh = CoreClient(Emulator(EmulatorConfig(clock="manual", seed=1)))
    assert CoreClient(second).upload(jsonl(qa_rows(2))) == fresh.upload(jsonl(qa_rows(2)))


def test_reseed_and_reconfigure_take_new_settings_objects() -> None:
    config = EmulatorConfig(clock="manual", seed=3)
    emulator = Emulator(config)
    emulator.reseed(4)
    assert (emulator.config.seed, config.seed) == (4, 3)
    client = CoreClient(emulator)
    client.control("POST", "seed", {"seed": 5})
    assert (emulator.config.seed, config.seed) == (5, 3)
    other = EmulatorConfig(clock="manual", seed=6)
    emulator.reconfigure(other)
    client.upload(jsonl(qa_rows(1)))
    client.control("PUT", "state", client.control("GET", "state") | {"seed": 8})
    assert (emulator.config.seed, other.seed, config.seed) == (8, 6, 3)
    assert json.loads(other.model_dump_json())["seed"] == 6


def test_jobs_follow_the_seed_of_the_imported_snapshot() -> None:
    donor = CoreClient(Emulator(clock="manual", seed=9))
    file_id = donor.upload(jsonl(qa_rows(3)))
    snapshot = donor.control("GET", "state")
    expected = donor.create_id("classify", classify_params(file_id))

    importer = CoreClient(Emulator(clock="manual", seed=1))
    importer.control("PUT", "state", snapshot)
    assert importer.create_id("classify", classify_params(file_id)) == expected
