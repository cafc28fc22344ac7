"""Time from `serve` to the `listening on` line."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from .timing import Figure, user_environment

ROOT = Path(__file__).resolve().parents[2]


def time_to_listening() -> float:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0"],
        cwd=ROOT,
        env=user_environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.terminate()
    process.wait(10)
    if not line.startswith("listening on"):
        raise RuntimeError(f"serve printed {line!r}")
    return elapsed


def measure(repetitions: int = 5) -> list[Figure]:
    time_to_listening()  # a first start writes the bytecode caches, as any first run on a machine does
    median = statistics.median(time_to_listening() for _ in range(repetitions))
    return [Figure("`serve` to the `listening on` line", f"{median * 1000:.0f} ms", "none", "–", "< 1 s", median < 1.0)]
