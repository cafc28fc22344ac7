"""Upload-URL tokens are signed with the store's key, so a spent token is told from one never issued
(403 against 404) after a restart on a persistent store, by every process sharing a store, and
after a reset; two separate stores never accept each other's tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._store import Store
from together_eval_emulator.stores._factory import open_store

from tests.http.test_upload_urls import forbidden, put, step1
from tests.stores.redis_support import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.stores.store_support import close, store_url
from tests.support import CoreClient


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_spent_token_is_still_a_403_after_a_restart_and_in_another_process(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = store_url(kind, request, tmp_path)
    first = open_store(url)
    stores: list[Store] = [first]
    try:
        client = CoreClient(Emulator(clock="manual", store=first))
        spent, file_id = step1(client)
        assert put(client, spent).status == 200
        assert client.request("POST", f"/v1/files/{file_id}/preprocess").status == 200  # the file is final
        close(first)

        for _ in range(2):  # a restart on the same state, then a second process beside it
            store = open_store(url)
            stores.append(store)
            again = CoreClient(Emulator(clock="manual", store=store))
            forbidden(put(again, spent), "upload_url_used")
            pending, _ = step1(again)
            _, _, signature = pending.rpartition("/")[2].partition(".")
            assert put(again, pending.replace(signature, signature[::-1])).status == 404  # never issued
    finally:
        for store in stores[1:]:
            close(store)


def test_a_reset_keeps_the_key_and_separate_stores_have_their_own() -> None:
    one, two = Emulator(clock="manual"), Emulator(clock="manual")
    client_one, client_two = CoreClient(one), CoreClient(two)
    spent, file_id = step1(client_one)
    assert put(client_one, spent).status == 200
    assert client_one.request("POST", f"/v1/files/{file_id}/preprocess").status == 200
    assert client_one.request("POST", "/_emulator/reset").status == 200
    forbidden(put(client_one, spent), "upload_url_used")  # the reset forgot the upload, not the key
    assert put(client_two, spent).status == 404  # another store never issued it
