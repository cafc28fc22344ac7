"""Measuring on a noisy shared machine: interleaved repetitions, medians, ratios."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def user_environment() -> dict[str, str]:
    """This process's environment as a user's machine has it for a measured run (`serve`, pytest):
    bytecode caches on.

    Some CI images set PYTHONDONTWRITEBYTECODE, which makes every Python process compile every module
    it imports again (and pytest rewrite every plugin's asserts): start-up that no user pays twice."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def interleaved(candidates: dict[str, Callable[[], float]], repetitions: int) -> dict[str, float]:
    """Run each candidate once per round, alternating, and return the median of each.

    A candidate returns its own figure (seconds per call, requests per second, ...)."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for round_ in range(repetitions):
        order = list(candidates) if round_ % 2 == 0 else list(reversed(candidates))
        for name in order:
            samples[name].append(candidates[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def per_call(function: Callable[[], object], calls: int) -> float:
    """Seconds per call of `function`, over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


@dataclass
class Figure:
    name: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool

    def row(self) -> str:
        mark = "yes" if self.met else "**NO**"
        return f"| {self.name} | {self.measured} | {self.baseline} | {self.ratio} | {self.target} | {mark} |"


HEADER = "| figure | measured | baseline | ratio | target | met |\n|---|---|---|---|---|---|"
