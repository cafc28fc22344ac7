"""`python -m tests.benchmarks`: print every figure with its baseline and ratio; exit 1 if a target is missed."""

from __future__ import annotations

import sys
import time
from importlib import import_module

from .timing import HEADER

# Each module measures its figures against a baseline taken in the same run.
MODULES = [
    "startup",
    "respx_overhead",
    "peer_openai_responses",
    "server_rps",
    "stores",
    "pytest_overhead",
    "plugin_startup",
    "big_datasets",
    "memory",
    "latency_under_load",
    "load",
    "upload_memory",
    "redis_store",
    "job_ids",
    "capacity",
    "status_lists",
]


def main(names: list[str]) -> int:
    figures = []
    for name in names or MODULES:
        start = time.perf_counter()
        found = import_module(f"tests.benchmarks.{name}").measure()
        print(f"# {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        figures.extend(found)
    print(HEADER)
    for figure in figures:
        print(figure.row())
    missed = [figure.name for figure in figures if not figure.met]
    if missed:
        print(f"\nTargets missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
