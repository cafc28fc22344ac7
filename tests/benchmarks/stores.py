"""Requests per second for GET /v1/evaluation/{id}/status on the live server over a SQLite store,
against the same server over the memory store, in the same run (target: at least half).

Every status read is a write transaction on the SQLite file (the job's read counter and the
journal entry are stored, committed before the answer), so this is the store's slowest common path
that still hits its cache. Each server runs in its own process, the load in a third one (the load
of `server_rps`: keep-alive connections, `CONNECTIONS` of them). Before it serves, each server fills
its journal to its bound (`journal_limit`), so that every measured request also drops the oldest
entry, as on a server that has run a while."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .server_rps import get_rate
from .timing import Figure, interleaved

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.5
KINDS = ("memory", "sqlite")


def run_server(kind: str, info_path: str, directory: str) -> None:
    import uvicorn
    from together_eval_emulator import Emulator
    from together_eval_emulator.faces._asgi import create_app
    from together_eval_emulator.faces._server import bind, url_of
    from together_eval_emulator.stores._factory import open_store

    from .workload import call, completed_job, upload

    url = "memory" if kind == "memory" else f"sqlite:{Path(directory) / 'bench.db'}"
    emulator = Emulator(clock="manual", store=open_store(url, reset=True))
    workflow_id = completed_job(emulator, upload(emulator, 100))
    path = f"/v1/evaluation/{workflow_id}/status"
    for _ in range(emulator.config.journal_limit):  # the journal at its bound, as on a server that has run a while
        body = call(emulator, "GET", path)
    sock = bind("127.0.0.1", 0)
    Path(info_path).write_text(json.dumps({"url": url_of(sock), "path": path, "body": body.decode()}))
    app = create_app(emulator)
    uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="off")).run(sockets=[sock])


def start(kind: str, tmp: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    info = tmp / f"{kind}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.stores", "serve", kind, str(info), str(tmp)], cwd=ROOT
    )
    for _ in range(400):
        if info.exists() and info.read_text():
            time.sleep(0.3)  # the socket is bound before the file is written; let uvicorn start serving
            return process, json.loads(info.read_text())
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def measure(repetitions: int = 5) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        servers = {kind: start(kind, Path(tmp)) for kind in KINDS}
        try:
            infos = {kind: info for kind, (_, info) in servers.items()}
            if infos["memory"]["body"] != infos["sqlite"]["body"]:
                raise RuntimeError("the two servers do not answer the same bytes")
            medians = interleaved(
                {kind: (lambda info=info: get_rate(info)) for kind, info in infos.items()}, repetitions
            )
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(10)
    ratio = medians["sqlite"] / medians["memory"]
    return [
        Figure(
            "live server over sqlite: GET /v1/evaluation/{id}/status",
            f"{medians['sqlite']:.0f} req/s",
            f"{medians['memory']:.0f} req/s (memory store)",
            f"{ratio:.2f}",
            f"≥ {TARGET}",
            ratio >= TARGET,
        )
    ]


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        run_server(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        for figure in measure():
            print(figure.row())
