"""The journal's two bounds (entries and bytes) keep the same entries on every store: each store
drops the oldest entries until the rest fit, keeps the newest even alone over the byte bound, and
starts its byte count over when the journal is cleared."""

from __future__ import annotations

from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.stores._factory import open_store

from tests.stores.store_support import close, store_url
from tests.support import CoreClient

SIZES = (100, 3_000, 50, 2_500, 10, 7_000, 200, 200, 200, 1_500, 40, 900, 60, 80, 2_000)
LIMIT, BYTE_LIMIT = 12, 6_000


def windows(emulator: Emulator) -> list[list[int]]:
    """The journal's sequence numbers after each request of the workload (bodies of SIZES bytes)."""
    client = CoreClient(emulator)
    found = []
    for size in SIZES:
        client.request("GET", "/v1/files", body=b"x" * size)
        found.append([entry.seq for entry in emulator.journal.entries])
    return found


def test_the_bounds_drop_the_oldest_entries_and_keep_the_newest() -> None:
    emulator = Emulator(clock="manual", journal_limit=LIMIT, journal_byte_limit=BYTE_LIMIT)
    found = windows(emulator)
    assert found[5] == [6]  # 7,000 bytes alone: over the byte bound, kept as the newest
    assert found[-1][-1] == len(SIZES) and found[-1][0] > 6
    for window in found:
        assert window == list(range(window[0], window[-1] + 1)) and len(window) <= LIMIT


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_every_store_keeps_what_the_memory_store_keeps(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    reference = windows(Emulator(clock="manual", journal_limit=LIMIT, journal_byte_limit=BYTE_LIMIT))
    store = open_store(store_url(kind, request, tmp_path))
    try:
        emulator = Emulator(clock="manual", journal_limit=LIMIT, journal_byte_limit=BYTE_LIMIT, store=store)
        assert windows(emulator) == reference
        emulator.journal.clear()
        CoreClient(emulator).request("GET", "/v1/files", body=b"x" * 5_000)
        assert [entry.seq for entry in emulator.journal.entries] == [1]  # the byte count started over
        CoreClient(emulator).request("GET", "/v1/files", body=b"x" * 5_000)
        assert [entry.seq for entry in emulator.journal.entries] == [2]
    finally:
        close(store)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_stores_on_one_state_keep_what_one_keeps(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Requests alternate between two store objects on one state (as two server processes do): each
    one's next append starts from what the other wrote, not from what it last saw itself."""
    reference = windows(Emulator(clock="manual", journal_limit=LIMIT, journal_byte_limit=BYTE_LIMIT))
    url = store_url(kind, request, tmp_path)
    stores = [open_store(url), open_store(url)]
    try:
        emulators = [
            Emulator(clock="manual", journal_limit=LIMIT, journal_byte_limit=BYTE_LIMIT, store=store)
            for store in stores
        ]
        found = []
        for number, size in enumerate(SIZES):
            emulator = emulators[number % 2]
            CoreClient(emulator).request("GET", "/v1/files", body=b"x" * size)
            found.append([entry.seq for entry in emulators[(number + 1) % 2].journal.entries])
        assert found == reference
    finally:
        for store in stores:
            close(store)
