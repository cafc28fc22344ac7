"""The live server against the real limit: a raw ASGI app answering the same bytes (and headers)
under the same uvicorn stack (`faces._server.server_stack`: httptools and uvloop where they import,
one worker, keep-alive clients on loopback).

Workloads: the status GET (the target: >= 0.8x the raw app), retrieve, list, create (each create adds
a job to its own tenant) and the download of a 10,000-row result file (MB/s). Each server runs in its
own process; the load comes from a third process with keep-alive connections.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .timing import Figure, interleaved

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer bench"}
CREATE_AUTH = {"authorization": "Bearer bench-create"}  # creates go to a tenant of their own
CONNECTIONS, SECONDS = 4, 1.5
LISTED_JOBS, RESULT_ROWS = 100, 10_000
WORKLOADS = ("status", "retrieve", "list", "create", "download")


# ---------------------------------------------------------------- servers (child processes)


def prepare(emulator: Any) -> dict[str, dict[str, Any]]:
    """Each workload's request, and the emulator's answer to it (status, headers, body)."""
    from together_eval_emulator.http._transport import ApiRequest

    from .live import classify
    from .workload import call, completed_job, upload

    def answer(method: str, path: str, query: str = "", body: bytes = b"", headers: dict | None = None) -> dict:
        sent = {**{k.lower(): v for k, v in AUTH.items()}, **(headers or {})}
        response = emulator.handle(ApiRequest(method, path, "http://bench", query, sent, body))
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code}")
        return {
            "method": method,
            "path": path + (f"?{query}" if query else ""),
            "request": base64.b64encode(body).decode(),
            "headers": sent,
            "answer": base64.b64encode(response.body).decode(),
            "answer_headers": list(response.all_headers().items()),
        }

    big = completed_job(emulator, upload(emulator, RESULT_ROWS))
    for _ in range(LISTED_JOBS - 1):
        workflow_id = completed_job(emulator, upload(emulator, 100))
    result_file = json.loads(call(emulator, "GET", f"/v1/evaluation/{big}"))["results"]["result_file_id"]
    create_file = call(
        emulator,
        "POST",
        "/v1/files",
        b"purpose=eval&file_name=d.jsonl&file_type=jsonl",
        {"content-type": "application/x-www-form-urlencoded", **CREATE_AUTH},
    ).decode()
    token, _ = emulator.store.uploads()[-1]
    from .workload import dataset

    call(emulator, "PUT", f"/_emulator/uploads/{token}", dataset(100), CREATE_AUTH)
    call(emulator, "POST", f"/v1/files/{create_file}/preprocess", b"", CREATE_AUTH)
    create_headers = {**CREATE_AUTH, "content-type": "application/json"}
    return {
        "status": answer("GET", f"/v1/evaluation/{workflow_id}/status"),
        "retrieve": answer("GET", f"/v1/evaluation/{workflow_id}"),
        "list": answer("GET", "/v1/evaluation", "limit=10"),
        "create": answer("POST", "/v1/evaluation", "", classify(create_file), create_headers),
        "download": answer("GET", f"/v1/files/{result_file}/content"),
    }


def raw_app(workloads: dict[str, dict[str, Any]]) -> Any:
    """A raw ASGI app answering each workload's request with the emulator's bytes and headers."""
    answers: dict[tuple[str, str], tuple[list[tuple[bytes, bytes]], bytes]] = {}
    for work in workloads.values():
        body = base64.b64decode(work["answer"])
        headers = [(k.lower().encode(), v.encode()) for k, v in work["answer_headers"]]
        headers.append((b"content-length", str(len(body)).encode()))
        answers[(work["method"], work["path"])] = (headers, body)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        query = scope["query_string"].decode()
        headers, body = answers[(scope["method"], scope["path"] + (f"?{query}" if query else ""))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def run_server(kind: str, info_path: str) -> None:
    import asyncio

    import uvicorn
    from together_eval_emulator import Emulator
    from together_eval_emulator.faces._asgi import create_app
    from together_eval_emulator.faces._server import bind, http_protocol, loop_factory, server_stack, url_of

    emulator = Emulator(clock="manual")
    workloads = prepare(emulator)
    app = create_app(emulator) if kind == "emulator" else raw_app(workloads)
    http_impl, loop = server_stack()
    sock = bind("127.0.0.1", 0)
    info = {"url": url_of(sock), "stack": f"{http_impl} + {loop}", "workloads": workloads}
    Path(info_path).write_text(json.dumps(info))
    # Both on the protocol `serve` runs (the bounded one on httptools): the same stack.
    config = uvicorn.Config(
        app, log_level="error", access_log=False, lifespan="off", http=http_protocol(http_impl), loop="none"
    )
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        runner.run(uvicorn.Server(config).serve(sockets=[sock]))


# ---------------------------------------------------------------- load (child process)


def request_bytes(host: str, port: int, work: dict[str, Any]) -> bytes:
    """The workload's request as it goes on the wire (HTTP/1.1, keep-alive)."""
    body = base64.b64decode(work["request"])
    head = f"{work['method']} {work['path']} HTTP/1.1\r\nhost: {host}:{port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in work["headers"].items())
    if body or work["method"] in ("POST", "PUT"):
        head += f"content-length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def read_response(connection: socket.socket, buffer: bytes) -> tuple[int, int, bytes]:
    """One response read from a keep-alive connection: its status, body size, and what came after it."""
    while b"\r\n\r\n" not in buffer:
        buffer += connection.recv(1 << 16)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    start = head.lower().index(b"content-length:") + len(b"content-length:")
    end = head.find(b"\r\n", start)
    size = int(head[start : end if end > 0 else None])
    while len(rest) < size:
        rest += connection.recv(max(1 << 16, size - len(rest)))
    return int(head[9:12]), size, rest[size:]


def keep_alive_load(
    addresses: list[tuple[str, int]], work: dict[str, Any], seconds: float, connections: int = CONNECTIONS
) -> tuple[float, float]:
    """Requests per second and response bytes per second of `connections` keep-alive connections
    spread evenly over the servers at `addresses`, each sending `work`'s request for `seconds`.

    The client writes prepared request bytes on plain sockets and reads each response by its
    Content-Length: it costs a small part of what the fastest server spends per request, so the
    server, not the client, is what is measured (an `http.client` loop costs more per request than
    the raw app and capped both servers alike)."""
    sent = {address: request_bytes(*address, work) for address in addresses}
    counts, sizes = [0] * connections, [0] * connections
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        address = addresses[index % len(addresses)]
        with socket.create_connection(address, timeout=30) as connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = b""
            while time.perf_counter() < deadline:
                connection.sendall(sent[address])
                status, size, buffer = read_response(connection, buffer)
                if status != 200:
                    raise RuntimeError(f"status {status}")
                sizes[index] += size
                counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return sum(counts) / elapsed, sum(sizes) / elapsed


def run_load(host: str, port: int, work_path: str, seconds: float) -> None:
    """Print the requests per second and the response bytes per second (`keep_alive_load`)."""
    rate, throughput = keep_alive_load([(host, port)], json.loads(Path(work_path).read_text()), seconds)
    print(rate, throughput)


# ---------------------------------------------------------------- orchestration


def start(kind: str, tmp: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    info = tmp / f"{kind}.json"
    info.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.server_rps", "serve", kind, str(info)], cwd=ROOT
    )
    for _ in range(1200):
        if info.exists() and info.read_text():
            time.sleep(0.3)  # the socket is bound before the file is written; let uvicorn start serving
            found: dict[str, Any] = json.loads(info.read_text())
            for name, work in found["workloads"].items():
                (tmp / f"{kind}-{name}.json").write_text(json.dumps(work))
            return process, found
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def load(info: dict[str, Any], work_file: Path) -> tuple[float, float]:
    host, port = info["url"].removeprefix("http://").split(":")
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.server_rps", "load", host, port, str(work_file), str(SECONDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    rate, throughput = done.stdout.split()
    return float(rate), float(throughput)


def get_rate(info: dict[str, Any]) -> float:
    """Requests per second of GET `info["path"]` (with the benchmark's key) on the server at `info["url"]`."""
    import tempfile

    work = {"method": "GET", "path": info["path"], "request": "", "headers": AUTH}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        file.write(json.dumps(work))
    try:
        return load(info, Path(file.name))[0]
    finally:
        Path(file.name).unlink()


def measure(repetitions: int = 5) -> list[Figure]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        emulator, emulator_info = start("emulator", folder)
        raw, raw_info = start("raw", folder)
        figures = []
        try:
            stack = emulator_info["stack"]
            for name in WORKLOADS:
                ours, theirs = emulator_info["workloads"][name], raw_info["workloads"][name]
                if ours != theirs:  # both made the same seeded state
                    raise RuntimeError(f"{name}: the two servers do not answer the same bytes")
                unit = 1 if name == "download" else 0  # which figure: bytes or requests per second
                medians = interleaved(
                    {
                        "emulator": lambda n=name, u=unit: load(emulator_info, folder / f"emulator-{n}.json")[u],
                        "raw": lambda n=name, u=unit: load(raw_info, folder / f"raw-{n}.json")[u],
                    },
                    repetitions,
                )
                figures.append(figure(name, medians["emulator"], medians["raw"], stack))
        finally:
            for process in (emulator, raw):
                process.terminate()
                process.wait(10)
    return figures


def figure(name: str, ours: float, theirs: float, stack: str) -> Figure:
    ratio = ours / theirs
    labels = {
        "status": "GET /v1/evaluation/{id}/status",
        "retrieve": "GET /v1/evaluation/{id}",
        "list": f"GET /v1/evaluation?limit=10 ({LISTED_JOBS} jobs)",
        "create": "POST /v1/evaluation (100-row dataset)",
        "download": f"GET /v1/files/{{id}}/content ({RESULT_ROWS:,}-row result file)",
    }
    if name == "download":
        measured, baseline = f"{ours / 1e6:.1f} MB/s", f"{theirs / 1e6:.1f} MB/s (raw ASGI, {stack})"
    else:
        measured, baseline = f"{ours:.0f} req/s", f"{theirs:.0f} req/s (raw ASGI, {stack})"
    target = name == "status"
    return Figure(
        f"live server: {labels[name]}",
        measured,
        baseline,
        f"{ratio:.2f}",
        "≥ 0.8" if target else "–",
        ratio >= 0.8 if target else True,
    )


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        run_server(sys.argv[2], sys.argv[3])
    else:
        run_load(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
