"""The first problem of a pydantic `ValidationError`, the way every message of the emulator reports
one: the dotted field (`faults.0.action.seconds`), pydantic's message and the offending value.
Callers put these into their own sentence (a 400's message, a CLI line, a pytest failure)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class FirstError:
    """One validation problem: where, what, and the value that caused it."""

    field: str
    """Dotted location of the bad value, under the caller's prefix; empty when the whole value is wrong."""
    message: str
    """pydantic's message, e.g. `Input should be greater than 0`."""
    value: object
    """The input found at `field`."""
    loc: tuple[str | int, ...]
    """pydantic's location of the error (union members' tags included), for callers that name it their way."""
    kind: str
    """pydantic's error type, e.g. `greater_than` or `int_type`."""


def first_error(exc: ValidationError, *, under: str = "") -> FirstError:
    """The first error of `exc`; `under` prefixes the field (e.g. `parameters` for a nested model)."""
    error = exc.errors()[0]
    parts = [under] if under else []
    parts += [str(part) for part in error["loc"]]
    return FirstError(
        field=".".join(parts),
        message=error["msg"],
        value=error.get("input"),
        loc=tuple(error["loc"]),
        kind=error["type"],
    )
