"""What each pytest plugin that installing the package brings costs every pytest run, fixtures used
or not: `pytest --co` of an empty folder with only that plugin loaded, against none of them.

Ours (`together_emulator`) comes with the package; Faker's (`faker`) and respx's (`respx`) come with
those dependencies, since each registers through `pytest11` wherever it is installed. Every other
plugin of this environment is left out of every run, so the differences are the three plugins'.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

from .timing import Figure, interleaved, user_environment

OURS = ("together_emulator", "faker", "respx")


def others() -> tuple[str, ...]:
    """Every other plugin of this environment (test tools, registered through `pytest11`), and pytest's
    cache: none of them is ours to measure, and each one loaded would add its own noise."""
    installed = {entry.name for entry in entry_points(group="pytest11")}
    return (*sorted(installed - set(OURS)), "cacheprovider")


def run(directory: Path, loaded: tuple[str, ...]) -> float:
    blocked = [name for name in (*OURS, *others()) if name not in loaded]
    command = [sys.executable, "-m", "pytest", "--co", "-q", *(f"-pno:{name}" for name in blocked)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=120, env=user_environment())
    elapsed = time.perf_counter() - start
    if done.returncode != 5:  # 5: no tests collected, the expected outcome in an empty folder
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return elapsed


def measure(repetitions: int = 9) -> list[Figure]:
    variants: dict[str, tuple[str, ...]] = {"none": (), **{name: (name,) for name in OURS}, "all three": OURS}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        medians = interleaved(
            {name: (lambda loaded=loaded: run(directory, loaded)) for name, loaded in variants.items()}, repetitions
        )
    base = medians["none"]
    extra = {name: (medians[name] - base) * 1000 for name in variants if name != "none"}
    baseline = f"{base * 1000:.0f} ms (none of the three)"
    return [
        Figure(
            "pytest --co, empty folder: our plugin (together_emulator) alone",
            f"{medians['together_emulator'] * 1000:.0f} ms",
            baseline,
            f"{extra['together_emulator']:+.0f} ms",
            "≤ +30 ms",
            extra["together_emulator"] <= 30,
        ),
        Figure(
            "pytest --co, empty folder: Faker's plugin alone (`-p no:faker` leaves it out)",
            f"{medians['faker'] * 1000:.0f} ms",
            baseline,
            f"{extra['faker']:+.0f} ms",
            "for reference",
            True,
        ),
        Figure(
            "pytest --co, empty folder: respx's plugin alone (`-p no:respx` leaves it out)",
            f"{medians['respx'] * 1000:.0f} ms",
            baseline,
            f"{extra['respx']:+.0f} ms",
            "for reference",
            True,
        ),
        Figure(
            "pytest --co, empty folder: all three, as a user gets them",
            f"{medians['all three'] * 1000:.0f} ms",
            baseline,
            f"{extra['all three']:+.0f} ms",
            "for reference",
            True,
        ),
    ]
