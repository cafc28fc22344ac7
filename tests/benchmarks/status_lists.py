"""`GET /v1/evaluation?status=completed&limit=10` with 100,000 jobs in one tenant, against the same
call with 1,000 jobs (target: under 2 ms, and within 1.5x of the 1,000-job call), in-process over
the memory and SQLite stores and on the live server.

The jobs: one classify job on a 100-row dataset made through the API, then copies of it (new ids)
put straight into the store, created over a span twenty times a job's duration, so that at the
instant of the calls about 5% of them (the newest) are still pending, queued or running, at both
sizes. Each figure is the median of repeated calls once the index has followed the clock; the first
call (which builds the index from the store) is reported apart.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from .timing import Figure, interleaved

ROOT = Path(__file__).resolve().parents[2]
SIZES = (1_000, 100_000)
PATH, QUERY = "/v1/evaluation", "status=completed&limit=10"
CALLS = 200


def filled(jobs: int, store_url: str = "memory") -> object:
    """An emulator whose tenant `bench` has `jobs` jobs, about 95% of them completed at its clock."""
    from together_eval_emulator import Emulator
    from together_eval_emulator.engine import _ids as ids
    from together_eval_emulator.stores._factory import open_store

    from .live import classify
    from .workload import call, upload

    emulator = Emulator(clock="manual", store=open_store(store_url, reset=True))
    first = json.loads(call(emulator, "POST", "/v1/evaluation", classify(upload(emulator, 100))))["workflow_id"]
    store = emulator.store
    with store.transaction():
        template = store.find_job(first)
        assert template is not None and template.phases[-1].offset_ns is not None
        duration = template.phases[-1].offset_ns
        span = 20 * duration
        start = template.created_ns
        for number in range(1, jobs):
            created = start + span * number // jobs
            workflow_id = ids.job_id(number, created // 1_000_000_000)
            store.put_job(replace(template, workflow_id=workflow_id, created_ns=created, result_file_id=None))
    emulator.engine.clock.set_ns(start + span)
    return emulator


def in_process(emulator: object) -> float:
    """Seconds per call through `Emulator.handle` (routing, auth and the journal included)."""
    from together_eval_emulator.http._transport import ApiRequest

    request = ApiRequest("GET", PATH, "http://bench", QUERY, {"authorization": "Bearer bench"}, b"")
    handle = emulator.handle  # type: ignore[attr-defined]
    samples = []
    for _ in range(CALLS):
        start = time.perf_counter()
        response = handle(request)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200 or len(json.loads(response.body)) != 10:
            raise RuntimeError(f"unexpected answer {response.status_code} {response.body[:200]!r}")
    return statistics.median(samples)


def first_call(emulator: object) -> float:
    from together_eval_emulator.http._transport import ApiRequest

    start = time.perf_counter()
    emulator.handle(ApiRequest("GET", PATH, "http://bench", QUERY, {"authorization": "Bearer bench"}, b""))  # type: ignore[attr-defined]
    return time.perf_counter() - start


# ---------------------------------------------------------------- the live server (child process)


def run_server(jobs: int, info_path: str) -> None:
    from together_eval_emulator.faces._server import EmulatorServer

    emulator = filled(jobs)
    server = EmulatorServer(emulator)  # type: ignore[arg-type]
    Path(info_path).write_text(json.dumps({"url": server.url}))
    server.serve()


def on_server(url: str) -> float:
    """Seconds per call over one keep-alive connection (median)."""
    import http.client

    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    samples = []
    for _ in range(CALLS):
        start = time.perf_counter()
        connection.request("GET", f"{PATH}?{QUERY}", headers={"Authorization": "Bearer bench"})
        response = connection.getresponse()
        body = response.read()
        samples.append(time.perf_counter() - start)
        if response.status != 200 or len(json.loads(body)) != 10:
            raise RuntimeError(f"unexpected answer {response.status}")
    connection.close()
    return statistics.median(samples)


def start_server(jobs: int, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    info = folder / f"server-{jobs}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.status_lists", "serve", str(jobs), str(info)], cwd=ROOT
    )
    for _ in range(3_000):
        if info.exists() and info.read_text():
            time.sleep(0.5)
            url: str = json.loads(info.read_text())["url"]
            return process, url
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


# ---------------------------------------------------------------- figures


def figures_for(where: str, seconds: dict[int, float]) -> list[Figure]:
    small, large = seconds[SIZES[0]], seconds[SIZES[1]]
    ratio = large / small
    return [
        Figure(
            f"{where}: ?status=completed&limit=10, {SIZES[1]:,} jobs",
            f"{large * 1e3:.2f} ms",
            f"{small * 1e3:.2f} ms ({SIZES[0]:,} jobs)",
            f"{ratio:.2f}",
            "< 2 ms, ≤ 1.5",
            large < 0.002 and ratio <= 1.5,
        )
    ]


def measure(repetitions: int = 5) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in ("memory", "sqlite"):
            url = "memory" if kind == "memory" else f"sqlite:{folder / 'status.db'}"
            emulators = {}
            firsts = {}
            for jobs in SIZES:
                emulators[jobs] = filled(jobs, url if kind == "memory" else f"{url}.{jobs}")
                firsts[jobs] = first_call(emulators[jobs])
            medians = interleaved({jobs: (lambda e=emulators[jobs]: in_process(e)) for jobs in SIZES}, repetitions)
            figures += figures_for(f"in-process, {kind} store", medians)
            figures.append(
                Figure(
                    f"in-process, {kind} store: the first such call ({SIZES[1]:,} jobs: builds the index)",
                    f"{firsts[SIZES[1]] * 1e3:.0f} ms",
                    f"{firsts[SIZES[0]] * 1e3:.1f} ms ({SIZES[0]:,} jobs)",
                    f"{firsts[SIZES[1]] / firsts[SIZES[0]]:.0f}",
                    "–",
                    True,
                )
            )
            for emulator in emulators.values():
                emulator.store.close()  # type: ignore[attr-defined]
            del emulators
        servers = {jobs: start_server(jobs, folder) for jobs in SIZES}
        try:
            for _, url in servers.values():
                on_server(url)  # the first call builds the index
            medians = interleaved({jobs: (lambda u=servers[jobs][1]: on_server(u)) for jobs in SIZES}, repetitions)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(10)
        figures += figures_for("live server, memory store", medians)
    return figures


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        run_server(int(sys.argv[2]), sys.argv[3])
