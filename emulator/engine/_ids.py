"""Seeded identifiers (spec D9): same seed and same requests give the same ids."""

from __future__ import annotations

import hashlib
import random
import uuid


def derived_uuid4(*parts: object) -> str:
    """A valid version-4 UUID that is a pure function of `parts`."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def stable_hex(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class IdGenerator:
    """Draws ids from a generator derived from the seed, in request order."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"together-eval-emulator:ids:{seed}")

    def workflow_id(self, created_s: int, taken: set[str]) -> str:
        while True:
            candidate = f"eval-{self._rng.getrandbits(16):04x}-{created_s}"
            if candidate not in taken:
                return candidate

    def file_id(self) -> str:
        return f"file-{uuid.UUID(int=self._rng.getrandbits(128), version=4)}"

    def token(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def export(self) -> list[object]:
        """The generator's state as JSON-ready data (state export)."""
        version, internal, gauss = self._rng.getstate()
        return [version, list(internal), gauss]

    def restore(self, data: list[object]) -> None:
        """Undo `export`; raises ValueError or TypeError on data that is not a generator state."""
        version, internal, gauss = data
        self._rng.setstate((version, tuple(internal), gauss))  # type: ignore[arg-type]
