"""The Redis store on the live server: requests per second for GET /v1/evaluation/{id}/status with a
Redis store against the memory store (one process each), and two Redis-backed processes sharing
one state against one.

Every server is a process of its own; the load comes from another process with keep-alive
connections (`server_rps.keep_alive_load`, spread evenly over the servers it is given). On a 2-core
machine the load generator, the servers and redis-server share the cores, so the two-process figure
says little about how a bigger machine scales: docs/shared-emulator.md works that out on paper.
A busier load (`BUSIER` connections) is reported too: with more requests in flight, more of the
Redis store's commits share one round trip, so its cost per request falls while the memory store's
does not change. The server that makes the benchmark's job first fills the journal to its bound (`journal_limit`), so
that every measured request also drops the oldest entry, as on a server that has run a while.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .server_rps import CONNECTIONS, SECONDS, keep_alive_load
from .timing import Figure, interleaved

ROOT = Path(__file__).resolve().parents[2]
BUSIER = 12  # connections of the reported busier load (the target's figure uses `CONNECTIONS`)
AUTH = {"Authorization": "Bearer bench"}


# ---------------------------------------------------------------- servers (child processes)


def run_server(info_path: str, redis_url: str, path: str) -> None:
    """One server on the memory store (`redis_url` "-") or on a Redis store; with `path` "-" it makes the
    benchmark's completed job first, else it joins a state that has one."""
    import uvicorn
    from together_eval_emulator import Emulator
    from together_eval_emulator.faces._asgi import create_app
    from together_eval_emulator.faces._server import bind, url_of
    from together_eval_emulator.stores._redis import RedisStore

    from .workload import call, completed_job, upload

    store = RedisStore(redis_url) if redis_url != "-" else None
    emulator = Emulator(clock="manual", store=store)
    if path == "-":
        path = f"/v1/evaluation/{completed_job(emulator, upload(emulator, 100))}/status"
        for _ in range(emulator.config.journal_limit):  # the journal at its bound, as on a server that has run a while
            call(emulator, "GET", path)
    sock = bind("127.0.0.1", 0)
    Path(info_path).write_text(json.dumps({"url": url_of(sock), "path": path}))
    uvicorn.Server(uvicorn.Config(create_app(emulator), log_level="error", access_log=False, lifespan="off")).run(
        sockets=[sock]
    )


def start(name: str, tmp: Path, redis_url: str = "-", path: str = "-") -> tuple[subprocess.Popen[bytes], dict]:
    info = tmp / f"{name}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.redis_store", "serve", str(info), redis_url, path], cwd=ROOT
    )
    for _ in range(400):
        if info.exists() and info.read_text():
            time.sleep(0.3)  # the socket is bound before the file is written; let uvicorn start serving
            return process, json.loads(info.read_text())
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{name} server did not start")


# ---------------------------------------------------------------- load (child process)


def run_load(urls: list[str], path: str, seconds: float, connections: int) -> None:
    """Print the requests per second of GET `path`, the connections spread evenly over `urls`."""
    addresses = [(host, int(port)) for host, port in (url.removeprefix("http://").split(":") for url in urls)]
    work = {"method": "GET", "path": path, "request": "", "headers": AUTH}
    print(keep_alive_load(addresses, work, seconds, connections)[0])


def load(infos: list[dict], connections: int = CONNECTIONS) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.redis_store", "load", infos[0]["path"], str(SECONDS), str(connections)]
        + [info["url"] for info in infos],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return float(done.stdout.strip())


# ---------------------------------------------------------------- orchestration


def measure(repetitions: int = 5) -> list[Figure]:
    import shutil

    from tests.stores.redis_support import INSTALL, start_redis, stop_redis

    if shutil.which("redis-server") is None:
        print(f"# redis_store: not measured: {INSTALL}", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        redis_server, redis_base = start_redis(tmp)
        processes = []
        try:
            memory_process, memory = start("memory", tmp)
            processes.append(memory_process)
            first_process, first = start("redis-1", tmp, f"{redis_base}/0")
            processes.append(first_process)
            second_process, second = start("redis-2", tmp, f"{redis_base}/0", first["path"])
            processes.append(second_process)
            medians = interleaved(
                {
                    "memory": lambda: load([memory]),
                    "redis": lambda: load([first]),
                    "redis x2": lambda: load([first, second]),
                    "memory, busier": lambda: load([memory], BUSIER),
                    "redis, busier": lambda: load([first], BUSIER),
                },
                repetitions,
            )
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
            stop_redis(redis_server)
    against_memory = medians["redis"] / medians["memory"]
    two_against_one = medians["redis x2"] / medians["redis"]
    busier = medians["redis, busier"] / medians["memory, busier"]
    return [
        Figure(
            "live server, Redis store: GET /v1/evaluation/{id}/status",
            f"{medians['redis']:.0f} req/s",
            f"{medians['memory']:.0f} req/s (memory store)",
            f"{against_memory:.2f}",
            "≥ 0.5",
            against_memory >= 0.5,
        ),
        Figure(
            "two Redis-backed server processes, one state (same status GET, load split evenly)",
            f"{medians['redis x2']:.0f} req/s",
            f"{medians['redis']:.0f} req/s (one process)",
            f"{two_against_one:.2f}",
            "reported (2 cores shared with the load and redis-server)",
            True,
        ),
        Figure(
            f"the Redis store's status GET with {BUSIER} connections (more commits share each round trip)",
            f"{medians['redis, busier']:.0f} req/s",
            f"{medians['memory, busier']:.0f} req/s (memory store, {BUSIER} connections)",
            f"{busier:.2f}",
            "reported",
            True,
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        run_server(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        run_load(sys.argv[5:], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
