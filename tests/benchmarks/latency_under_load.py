"""p99 latency of `GET /v1/evaluation/{id}/status` from 10 concurrent pollers while another client
uploads a 200 MB dataset, creates a job on it and downloads its result file, on the live server.

Three processes: the server (`together-eval-emulator serve`), the pollers (10 threads with
keep-alive connections, each polling every 20 ms and recording when it asked and how long the
answer took: together well below what the server can answer, so that the figure measures stalls,
not a saturated server), and this one,
which drives the big job. Clocks are compared on CLOCK_MONOTONIC, which every process shares.
The figure counts the polls made from the create to the end of the download; the upload's window
is reported beside it."""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .live import ROOT, classify, expect, percentile, request, start_server, stop_server
from .timing import Figure

POLLERS = 10
POLL_PAUSE = 0.02  # seconds between a poller's polls: 10 pollers ask up to ~500 times a second
DATASET_BYTES = 200 * 2**20
ROW_TEXT = 1_000  # characters of prompt and of response per row: ~2 KB rows, ~100k of them
TARGET_MS = 50.0
IDLE_SECONDS = 2.0


# ---------------------------------------------------------------- the client side


def dataset(target_bytes: int) -> bytes:
    """A JSONL dataset of about `target_bytes`: ~2 KB rows with distinct prompts and responses."""
    filler = ("lorem ipsum dolor sit amet " * (ROW_TEXT // 27 + 1))[:ROW_TEXT]
    row_bytes = len(json.dumps({"prompt": f"Q0 {filler}", "response": f"A0 {filler}"})) + 1
    rows = target_bytes // row_bytes
    return "".join(
        json.dumps({"prompt": f"Q{i} {filler}", "response": f"A{i} {filler}"}) + "\n" for i in range(rows)
    ).encode()


def upload(connection: http.client.HTTPConnection, content: bytes) -> str:
    """The three-step upload; the file id."""
    form = b"purpose=eval&file_name=big.jsonl&file_type=jsonl"
    _, headers, _ = expect(
        request(connection, "POST", "/v1/files", form, {"Content-Type": "application/x-www-form-urlencoded"}), 302
    )
    expect(request(connection, "PUT", urlsplit(headers["location"]).path, content), 200)
    file_id = headers["x-together-file-id"]
    expect(request(connection, "POST", f"/v1/files/{file_id}/preprocess"), 200)
    return file_id


def run_pollers(host: str, port: int, path: str, stop_file: str, out_file: str) -> None:
    """Child process: poll `path` from POLLERS threads until `stop_file` exists; write the samples."""
    samples: list[tuple[float, float]] = []  # (monotonic instant asked, seconds taken)
    lock = threading.Lock()
    stopped = threading.Event()

    def poll() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        mine = []
        while not stopped.is_set():
            start = time.monotonic()
            expect(request(connection, "GET", path), 200)
            mine.append((start, time.monotonic() - start))
            time.sleep(POLL_PAUSE)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=poll) for _ in range(POLLERS)]
    for thread in threads:
        thread.start()
    while not Path(stop_file).exists():
        time.sleep(0.05)
    stopped.set()
    for thread in threads:
        thread.join()
    Path(out_file).write_text(json.dumps(samples))


# ---------------------------------------------------------------- orchestration


def run(tmp: Path) -> dict[str, float]:
    content = dataset(DATASET_BYTES)
    server, url = start_server("--clock", "manual")
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    try:
        connection = http.client.HTTPConnection(host, port, timeout=600)
        small = upload(connection, dataset(10_000))
        _, _, created = expect(request(connection, "POST", "/v1/evaluation", classify(small)), 200)
        status_path = f"/v1/evaluation/{json.loads(created)['workflow_id']}/status"
        stop, out = tmp / "stop", tmp / "samples.json"
        pollers = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.latency_under_load", "poll", host, str(port), status_path]
            + [str(stop), str(out)],
            cwd=ROOT,
        )
        try:
            time.sleep(1.0)  # the pollers are connected and polling
            idle_start = time.monotonic()
            time.sleep(IDLE_SECONDS)  # the baseline: polls with nothing else going on
            upload_start = time.monotonic()
            big = upload(connection, content)
            start = time.monotonic()
            _, _, created = expect(request(connection, "POST", "/v1/evaluation", classify(big)), 200)
            workflow_id = json.loads(created)["workflow_id"]
            expect(
                request(connection, "POST", "/_emulator/clock/advance", json.dumps({"seconds": 86_400 * 30}).encode()),
                200,
            )
            _, _, status = expect(request(connection, "GET", f"/v1/evaluation/{workflow_id}/status"), 200)
            results = json.loads(status)["results"]
            _, _, result_file = expect(
                request(connection, "GET", f"/v1/files/{results['result_file_id']}/content"), 200
            )
            end = time.monotonic()
            time.sleep(0.5)
        finally:
            stop.touch()
            pollers.wait(60)
        samples = json.loads(out.read_text())
    finally:
        stop_server(server)
    during = [taken for asked, taken in samples if start <= asked <= end]
    while_uploading = [taken for asked, taken in samples if upload_start <= asked < start]
    idle = [taken for asked, taken in samples if idle_start <= asked < upload_start]
    if not during:
        raise RuntimeError("no poll was made while the big job was created and downloaded")
    return {
        "p99_ms": percentile(during, 0.99) * 1000,
        "p50_ms": statistics.median(during) * 1000,
        "max_ms": max(during) * 1000,
        "polls": len(during),
        "idle_p99_ms": percentile(idle, 0.99) * 1000,
        "upload_p99_ms": percentile(while_uploading, 0.99) * 1000 if while_uploading else 0.0,
        "big_seconds": end - start,
        "result_mb": len(result_file) / 2**20,
        "dataset_mb": len(content) / 2**20,
    }


def measure() -> list[Figure]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found = run(Path(tmp))
    return [
        Figure(
            f"status p99, {POLLERS} pollers, while a {found['dataset_mb']:.0f} MB job is created and its "
            f"{found['result_mb']:.0f} MB result file downloaded ({found['big_seconds']:.1f} s, "
            f"{found['polls']:.0f} polls)",
            f"{found['p99_ms']:.1f} ms",
            f"p99 {found['idle_p99_ms']:.1f} ms idle "
            f"(under load: p50 {found['p50_ms']:.1f} ms, max {found['max_ms']:.1f} ms)",
            "–",
            f"< {TARGET_MS:.0f} ms",
            found["p99_ms"] < TARGET_MS,
        ),
        Figure(
            f"status p99, {POLLERS} pollers, while the {found['dataset_mb']:.0f} MB dataset is uploaded",
            f"{found['upload_p99_ms']:.1f} ms",
            "–",
            "–",
            "–",
            True,
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["poll"]:
        run_pollers(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        from .timing import HEADER

        print(HEADER)
        for figure in measure():
            print(figure.row())
