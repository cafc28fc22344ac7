"""The capacity's optional parts (per-type limits, priority) in the model and the stored forms: a
capacity without them is stored as before they existed, and old stored capacities still read
(docs/capacity.md)."""

from __future__ import annotations

import pickle

from together_eval_emulator.engine._capacity import Capacity, CapacityLog
from together_eval_emulator.stores import _codec as codec, _redis_codec as redis_codec

FULL = Capacity(per_tenant=2, total=3, per_type=(("compare", 1),), priority=("key-b", "team-c"))


def test_a_capacity_without_the_options_is_stored_as_before() -> None:
    log = CapacityLog(((5, Capacity(per_tenant=2)),))
    assert codec.encode_capacity(log) == codec._dumps([[5, 2, None]])
    assert codec.decode_capacity(codec._dumps([[5, 2, None]])) == log  # a row stored before the options


def test_the_options_round_trip_through_both_codecs() -> None:
    log = CapacityLog(((0, FULL), (7, Capacity(total=1))))
    assert codec.decode_capacity(codec.encode_capacity(log)) == log
    assert redis_codec.loads(redis_codec.dumps(log)) == log


def test_a_capacity_pickled_before_the_options_reads_as_none() -> None:
    old = Capacity(per_tenant=2)
    del old.__dict__["per_type"], old.__dict__["priority"]  # as pickled by the former class
    loaded = pickle.loads(pickle.dumps(old))
    assert (loaded.per_type, loaded.priority) == ((), ())
    assert loaded == Capacity(per_tenant=2)


def test_a_priority_alone_is_kept_but_limits_nothing() -> None:
    only = Capacity(priority=("key-b",))
    assert not only.limited and only.given
    assert CapacityLog().changed(3, only).changes == ((3, only),)
    assert CapacityLog.from_start(Capacity()).changes == ()


def test_priority_places_tenants_by_key_or_name_and_the_others_after() -> None:
    assert FULL.priority_of("key-b", None) == 0
    assert FULL.priority_of("key-c", "team-c") == 1
    assert FULL.priority_of("key-d", "team-d") == 2
    assert FULL.type_limit("compare") == 1 and FULL.type_limit("classify") is None
