"""Requests per second for GET /v1/evaluation/{id}/status on the live server, against a bare
Starlette app returning the same bytes under the same uvicorn settings (one worker, keep-alive).

Each server runs in its own process; the load comes from a third process with keep-alive connections."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from .timing import Figure, interleaved

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer bench"}
CONNECTIONS, SECONDS = 4, 1.5


# ---------------------------------------------------------------- servers (child processes)


def run_server(kind: str, body_path: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from together_eval_emulator import Emulator
    from together_eval_emulator.faces._asgi import create_app
    from together_eval_emulator.faces._server import bind, url_of

    from .workload import call, completed_job, upload

    emulator = Emulator(clock="manual")
    workflow_id = completed_job(emulator, upload(emulator, 100))
    path = f"/v1/evaluation/{workflow_id}/status"
    body = call(emulator, "GET", path)
    if kind == "emulator":
        app = create_app(emulator)
    else:

        async def bare(request):  # type: ignore[no-untyped-def]
            return Response(body, media_type="application/json")

        app = Starlette(routes=[Route(path, bare)])
    sock = bind("127.0.0.1", 0)
    Path(body_path).write_text(json.dumps({"url": url_of(sock), "path": path, "body": body.decode()}))
    uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="off")).run(sockets=[sock])


# ---------------------------------------------------------------- load (child process)


def run_load(host: str, port: int, path: str, seconds: float) -> None:
    counts = [0] * CONNECTIONS
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        while time.perf_counter() < deadline:
            connection.request("GET", path, headers=AUTH)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(sum(counts) / (time.perf_counter() - start))


# ---------------------------------------------------------------- orchestration


def start(kind: str, tmp: Path) -> tuple[subprocess.Popen, dict]:
    info = tmp / f"{kind}.json"
    info.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.server_rps", "serve", kind, str(info)], cwd=ROOT
    )
    for _ in range(200):
        if info.exists() and info.read_text():
            time.sleep(0.3)  # the socket is bound before the file is written; let uvicorn start serving
            return process, json.loads(info.read_text())
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def load(info: dict) -> float:
    host, port = info["url"].removeprefix("http://").split(":")
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.server_rps", "load", host, port, info["path"], str(SECONDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return float(done.stdout.strip())


def measure(repetitions: int = 5) -> list[Figure]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        emulator, emulator_info = start("emulator", Path(tmp))
        bare, bare_info = start("bare", Path(tmp))
        try:
            if emulator_info["body"] != bare_info["body"]:
                raise RuntimeError("the two servers do not answer the same bytes")
            medians = interleaved(
                {"emulator": lambda: load(emulator_info), "bare": lambda: load(bare_info)}, repetitions
            )
        finally:
            for process in (emulator, bare):
                process.terminate()
                process.wait(10)
    ratio = medians["emulator"] / medians["bare"]
    return [
        Figure(
            "live server: GET /v1/evaluation/{id}/status",
            f"{medians['emulator']:.0f} req/s",
            f"{medians['bare']:.0f} req/s (bare Starlette)",
            f"{ratio:.2f}",
            "≥ 0.8",
            ratio >= 0.8,
        )
    ]


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        run_server(sys.argv[2], sys.argv[3])
    else:
        run_load(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
