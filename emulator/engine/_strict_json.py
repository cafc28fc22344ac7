"""Strict, bounded JSON: how the emulator reads every JSON body (and reads one back: fault matching,
the journal). Standard JSON only: `NaN`, `Infinity` and numbers too large for a float are refused,
so nothing non-finite can reach a job or a result file. Bounds on nesting, array (and object) size
and string length keep one request from costing the server more than its body is worth; each
broken bound is a `JsonProblem` naming where in the value it broke.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ._validation import dotted

# The deepest a JSON value may nest in the emulator: deeper ones could not be written back as JSON
# (pydantic stops at 255 levels; a job echoes its parameters, the journal shows request bodies).
MAX_JSON_DEPTH = 200

# The largest integer every JSON reader holds exactly (JavaScript's Number.MAX_SAFE_INTEGER): the most a
# counter kept by a store may hold, well inside the 64-bit integers of SQLite and Redis.
MAX_SAFE_INTEGER = 2**53 - 1


class JsonProblem(ValueError):
    """The text is not JSON the emulator takes. `bound` names the limit it broke (`depth`, `items`,
    `chars`; None when it is not standard JSON), `path` where in the value (dotted, e.g.
    `parameters.labels`; None for the whole text)."""

    def __init__(self, message: str, path: str | None = None, bound: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.bound = bound


@dataclass(frozen=True)
class JsonLimits:
    """How deep, how long and how large a JSON value may be (None: unbounded)."""

    depth: int
    items: int | None = None  # of an array, or members of an object
    chars: int | None = None  # of a string (object keys included)


def _no_constant(name: str) -> Any:
    raise JsonProblem(f"{name} is not a JSON number; send a finite number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonProblem(f"the number {text} is too large for a float; send a finite number")
    return value


_decoder = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(text: bytes | str, limits: JsonLimits) -> Any:
    """The JSON value of `text` (bytes in any encoding `json.loads` detects), within `limits`.
    Raises `JsonProblem` (a ValueError) for anything that is not standard JSON or breaks a limit."""
    try:
        source = text.decode(json.detect_encoding(text)) if isinstance(text, bytes | bytearray) else text
        value = _decoder.decode(source)
    except RecursionError:  # far deeper than any limit: the parser's own guard stopped it
        raise JsonProblem(f"arrays and objects nest deeper than {limits.depth} levels", bound="depth") from None
    except JsonProblem:
        raise
    except ValueError as exc:  # not JSON, not text, or an integer with thousands of digits
        raise JsonProblem(str(exc)) from None
    if _SURROGATE_ESCAPE.search(source):  # rare: then look for one that is not half of a pair
        _no_lone_surrogates(value)
    check(value, limits)
    return value


def _no_lone_surrogates(value: Any) -> None:
    """A `\\udXXX` escape that is not half of a pair is no character: nothing could write it back
    as UTF-8 (a name or a message holding one would break every listing that shows it)."""
    pending = [value]
    while pending:
        node = pending.pop()
        texts = [node] if isinstance(node, str) else list(node) if isinstance(node, dict) else []
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonProblem(
                    "a string holds a lone surrogate escape (\\ud800-\\udfff), which is no character"
                ) from None
        if isinstance(node, dict | list):
            pending.extend(node.values() if isinstance(node, dict) else node)


def check(value: Any, limits: JsonLimits) -> None:
    """Raise `JsonProblem` where `value` (parsed JSON) breaks `limits`. Iterative: no recursion."""
    if isinstance(value, str):
        if limits.chars is not None and len(value) > limits.chars:
            _too_long(value, limits.chars, ())
        return
    if not isinstance(value, dict | list):
        return
    pending: list[tuple[dict[str, Any] | list[Any], int, tuple[str | int, ...]]] = [(value, 1, ())]
    while pending:
        node, depth, path = pending.pop()
        if depth > limits.depth:
            raise JsonProblem(f"arrays and objects nest deeper than {limits.depth} levels", bound="depth")
        if limits.items is not None and len(node) > limits.items:
            kind = "an object with" if isinstance(node, dict) else "an array of"
            raise JsonProblem(
                f"{kind} {len(node)} items is longer than the {limits.items} allowed", _dotted(path), "items"
            )
        chars = limits.chars
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in entries:
            if chars is not None and isinstance(key, str) and len(key) > chars:
                _too_long(key, chars, path)
            if isinstance(child, str):
                if chars is not None and len(child) > chars:
                    _too_long(child, chars, (*path, key))
            elif isinstance(child, dict | list):
                pending.append((child, depth + 1, (*path, key)))


def depth(value: Any) -> int:
    """How deep arrays and objects nest in `value` (0 for a scalar). Iterative: no recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _too_long(text: str, chars: int, path: tuple[str | int, ...]) -> None:
    message = f"a string of {len(text)} characters is longer than the {chars} allowed"
    raise JsonProblem(message, _dotted(path), "chars")


def _dotted(path: tuple[str | int, ...]) -> str | None:
    return dotted(list(path)) or None
