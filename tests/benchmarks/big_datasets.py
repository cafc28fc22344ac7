"""Create → completed → downloaded result file at 10k, 100k and 1M rows on the live server: the time
per row, and the server's peak memory growth against the dataset's size.

Each measurement runs a fresh server (`together-eval-emulator serve --clock manual`, the same
process `live.py` starts) and a dataset written on the fly to a temporary file (the 1M-row one is
about 80 MB; none is committed). The dataset is uploaded through its upload URL first; then the
server's resident size is read and its high-water mark reset (`/proc/<pid>/clear_refs`), after a
100-row job has warmed every code path (imports, the generated-text pool); then the timed part
runs: create a classify job, advance the clock past its end, read its status, and download its
result file (streamed: counted and dropped as it arrives). The time is that sequence's wall time
(the server's CPU time beside it); the peak growth is the server's high-water mark (VmHWM) after it,
less its resident size before. The sizes are measured in interleaved rounds (three of 10k and 100k
rows, two of 1M), each figure the median of its runs.

Run alone: `python -m tests.benchmarks big_datasets`.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from .live import classify, expect, request, start_server, stop_server
from .timing import Figure
from .upload_memory import status_kb

SIZES = (10_000, 100_000, 1_000_000)
ROUNDS = 3  # each round measures each size once (the largest in the first two), on fresh servers
REPETITIONS = {10_000: 3, 100_000: 3, 1_000_000: 2}  # the largest takes half a minute or more
SCALE_TARGET = 1.2  # 1M rows within this many times ten times the 100k-row time
MEMORY_TARGET = 3.0  # peak memory growth below this many times the dataset's size (1M rows)
WARM_UP_ROWS = 100


def write_dataset(path: Path, rows: int) -> int:
    """`rows` rows like the in-process benchmarks' (`workload.dataset`), written in blocks; the size."""
    with path.open("wb") as out:
        for start in range(0, rows, 10_000):
            out.write(
                "".join(
                    json.dumps({"prompt": f"Question {i}: what is {i} times 3?", "response": f"It is {3 * i}."}) + "\n"
                    for i in range(start, min(rows, start + 10_000))
                ).encode()
            )
    return path.stat().st_size


def upload(connection: http.client.HTTPConnection, path: Path) -> str:
    """The three-step upload of `path` (its bytes streamed from the file); the file id."""
    form = b"purpose=eval&file_name=big.jsonl&file_type=jsonl"
    _, headers, _ = expect(
        request(connection, "POST", "/v1/files", form, {"Content-Type": "application/x-www-form-urlencoded"}), 302
    )
    with path.open("rb") as content:
        put = http.client.HTTPConnection(connection.host, connection.port, timeout=600)
        put.request("PUT", urlsplit(headers["location"]).path, body=content)
        answer = put.getresponse()
        answer.read()
        put.close()
        if answer.status != 200:
            raise RuntimeError(f"upload: status {answer.status}")
    file_id = headers["x-together-file-id"]
    expect(request(connection, "POST", f"/v1/files/{file_id}/preprocess"), 200)
    return file_id


def create_to_download(connection: http.client.HTTPConnection, file_id: str, rows: int) -> None:
    """Create a classify job, complete it, read its status and download its result file."""
    created = json.loads(expect(request(connection, "POST", "/v1/evaluation", classify(file_id)), 200)[2])
    expect(request(connection, "POST", "/_emulator/clock/advance", json.dumps({"seconds": 86_400 * 30}).encode()), 200)
    status = json.loads(expect(request(connection, "GET", f"/v1/evaluation/{created['workflow_id']}/status"), 200)[2])
    result_file_id = status["results"]["result_file_id"]
    connection.request("GET", f"/v1/files/{result_file_id}/content", headers={"Authorization": "Bearer bench"})
    response = connection.getresponse()
    size, lines = 0, 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
        lines += chunk.count(b"\n")
    if response.status != 200 or lines != rows or size != int(response.getheader("content-length") or -1):
        raise RuntimeError(f"result file: status {response.status}, {lines} rows of {rows}, {size} bytes")


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_once(path: Path, rows: int, warm_up: Path) -> tuple[float, float, int]:
    """Seconds from create to downloaded (wall, and the server's CPU), and the server's peak memory
    growth in bytes, on a fresh server."""
    process, url = start_server("--clock", "manual")
    try:
        host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
        connection = http.client.HTTPConnection(host, port, timeout=600)
        create_to_download(connection, upload(connection, warm_up), WARM_UP_ROWS)
        file_id = upload(connection, path)
        before = status_kb(process.pid, "VmRSS")
        Path(f"/proc/{process.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        start, cpu = time.perf_counter(), cpu_seconds(process.pid)
        create_to_download(connection, file_id, rows)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(process.pid) - cpu
        peak = status_kb(process.pid, "VmHWM")
        connection.close()
    finally:
        stop_server(process)
    return elapsed, cpu, (peak - before) * 1024


def measure() -> list[Figure]:
    runs: dict[int, list[tuple[float, float, int]]] = {rows: [] for rows in SIZES}
    sizes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as directory:
        warm_up = Path(directory) / "warm-up.jsonl"
        write_dataset(warm_up, WARM_UP_ROWS)
        paths = {rows: Path(directory) / f"{rows}.jsonl" for rows in SIZES}
        sizes = {rows: write_dataset(path, rows) for rows, path in paths.items()}
        for round_ in range(ROUNDS):  # interleaved: a slow moment of a shared machine hits every size alike
            for rows in SIZES:
                if round_ < REPETITIONS[rows]:
                    runs[rows].append(measure_once(paths[rows], rows, warm_up))
    seconds = {rows: statistics.median(run[0] for run in runs[rows]) for rows in SIZES}
    cpu = {rows: statistics.median(run[1] for run in runs[rows]) for rows in SIZES}
    growth = {rows: (max(run[2] for run in runs[rows]), sizes[rows]) for rows in SIZES}
    figures = []
    for rows in SIZES:
        peak, size = growth[rows]
        largest = rows == SIZES[-1]  # smaller datasets: a few fixed megabytes weigh more than the rows
        figures.append(
            Figure(
                f"live server: create → completed → result file downloaded, classify, {rows:,} rows",
                f"{seconds[rows]:.2f} s ({cpu[rows]:.2f} s of server CPU), {seconds[rows] / rows * 1e6:.1f} µs/row",
                f"dataset {size / 2**20:.1f} MB",
                f"peak memory +{peak / 2**20:.1f} MB = {peak / size:.2f}× the dataset",
                f"< {MEMORY_TARGET:g}× the dataset" if largest else "–",
                peak / size < MEMORY_TARGET if largest else True,
            )
        )
    scale = seconds[1_000_000] / (10 * seconds[100_000])
    figures.append(
        Figure(
            "1,000,000 rows against ten times 100,000 rows",
            f"{seconds[1_000_000]:.2f} s ({cpu[1_000_000]:.2f} s of server CPU)",
            f"{10 * seconds[100_000]:.2f} s ({10 * cpu[100_000]:.2f} s)",
            f"{scale:.2f}× ({cpu[1_000_000] / (10 * cpu[100_000]):.2f}× in CPU)",
            f"≤ {SCALE_TARGET:g}×",
            scale <= SCALE_TARGET,
        )
    )
    return figures


if __name__ == "__main__":
    for figure in measure():
        print(figure.row())
