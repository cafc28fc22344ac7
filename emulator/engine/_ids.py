"""Seeded identifiers (docs/wire-contract.md#decision-seeded-ids): same seed and same requests give the same ids.

Ids are drawn, in request order, from one random generator seeded from the emulator seed. The
generator's state lives in the store (`Store.draw`), so draws stay in sequence across processes
sharing a store; the functions here say how a seed starts it and what one draw makes of it.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any


def derived_uuid4(*parts: object) -> str:
    """A valid version-4 UUID that is a pure function of `parts`."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def stable_hex(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def generator(seed: int) -> random.Random:
    """The id generator of a fresh emulator with `seed`."""
    return restore_state(initial_state(seed))


def initial_state(seed: int) -> list[Any]:
    """The state of the id generator of a fresh emulator with `seed`, as JSON-ready data."""
    version, internal, gauss = _initial_state(seed)
    return [version, list(internal), gauss]


@lru_cache(maxsize=64)
def _initial_state(seed: int) -> tuple[Any, ...]:
    return random.Random(f"together-eval-emulator:ids:{seed}").getstate()


def export_state(rng: random.Random) -> list[Any]:
    """A generator's state as JSON-ready data (state export)."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def restore_state(data: list[Any]) -> random.Random:
    """A generator in the state `export_state` gave; raises ValueError or TypeError on anything else
    (a number out of the generator's range, which `setstate` reports as OverflowError, included)."""
    version, internal, gauss = data
    rng = random.Random()
    try:
        rng.setstate((version, tuple(internal), gauss))
    except OverflowError as exc:
        raise ValueError(str(exc)) from None
    return rng


# What one draw makes: pure functions of the generator, handed to `Store.draw`.


JOB_ID_BITS = 16  # a second's job ids: eval-0000-<s> to eval-ffff-<s>


def job_id(number: int, second: int) -> str:
    """The job id numbered `number` in the id space of `second`: `eval-xxxx-<second>`."""
    return f"eval-{number:04x}-{second}"


def workflow_id(second: int, bits: int = JOB_ID_BITS) -> Callable[[random.Random], str]:
    """The draw of a job id in the space of `second` (`Jobs` draws again while it is taken)."""
    return lambda rng: job_id(rng.getrandbits(bits), second)


def file_id(rng: random.Random) -> str:
    return f"file-{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def token(rng: random.Random) -> str:
    """The draw upload tokens once took. Tokens now come from `secrets` (`_upload_tokens.py`), but
    each upload still makes this draw, so the ids that follow an upload stay what they were."""
    return f"{rng.getrandbits(128):032x}"
