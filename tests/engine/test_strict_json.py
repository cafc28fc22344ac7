"""The one JSON reader of request bodies: standard JSON only, within depth, array and string bounds,
each problem named with where it is and which bound it broke."""

from __future__ import annotations

import json

import pytest
from together_eval_emulator.engine._strict_json import JsonLimits, JsonProblem, depth, loads

LIMITS = JsonLimits(depth=4, items=3, chars=5)


def problem(text: bytes | str, limits: JsonLimits = LIMITS) -> JsonProblem:
    with pytest.raises(JsonProblem) as caught:
        loads(text, limits)
    return caught.value


def test_standard_json_within_the_bounds_is_read_as_json_loads_reads_it() -> None:
    text = '{"a": [1, 2.5, {"b": "x"}], "c": null, "d": true}'
    assert loads(text, LIMITS) == json.loads(text)
    assert loads(text.encode("utf-16"), LIMITS) == json.loads(text)  # any encoding json.loads detects
    assert loads(b"\xef\xbb\xbf[1]", LIMITS) == [1]  # a UTF-8 byte order mark
    assert loads('"\\ud83d\\ude00"', LIMITS) == "\U0001f600"  # a surrogate pair is one character


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", "[-1e400]"])
def test_non_finite_numbers_are_not_json(text: str) -> None:
    found = problem(text)
    assert found.bound is None and "finite" in str(found)


@pytest.mark.parametrize("text", ['"\\ud800"', '{"\\udc00": 1}', '["ok", "x\\uDBFF"]'])
def test_a_lone_surrogate_is_no_character(text: str) -> None:
    assert "lone surrogate" in str(problem(text))


def test_not_json_at_all() -> None:
    for text in (b"{", b"\xff\xfe\xfd", b"1" * 5000, b"[1,]"):
        assert problem(text, JsonLimits(200)).bound is None


def test_each_bound_names_where_it_broke() -> None:
    assert loads("[[[[1]]]]", LIMITS) == [[[[1]]]]  # 4 deep: at the bound
    deep = problem("[[[[[1]]]]]")
    assert (deep.bound, deep.path) == ("depth", None)
    far = problem("[" * 100_000 + "]" * 100_000)  # past the parser's own guard
    assert far.bound == "depth"
    items = problem('{"a": {"b": [1, 2, 3, 4]}}')
    assert (items.bound, items.path) == ("items", "a.b")
    members = problem('{"a": 1, "b": 2, "c": 3, "d": 4}')
    assert (members.bound, members.path) == ("items", None)
    chars = problem('{"a": [1, "toolong"]}')
    assert (chars.bound, chars.path) == ("chars", "a[1]")
    key = problem('{"a": {"longkey": 1}}')
    assert (key.bound, key.path) == ("chars", "a")
    assert problem('"toolong"').bound == "chars"


def test_unbounded_lengths_when_not_given() -> None:
    assert len(loads(json.dumps(["x" * 10_000] * 10_000), JsonLimits(depth=2))) == 10_000


def test_depth() -> None:
    assert [depth(value) for value in (1, "x", [], {}, [[]], {"a": [{"b": 1}]})] == [0, 0, 1, 1, 2, 3]
    nested: list[object] = []
    for _ in range(5_000):  # far deeper than any recursion would go
        nested = [nested]
    assert depth(nested) == 5_001
