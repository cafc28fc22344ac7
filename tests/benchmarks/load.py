"""Load on the live server: 50 clients create 10,000 jobs and poll each to completion on a fast real
clock, while 50 other clients upload 1,000 files. Reports the requests made, the 5xx answers
(target 0), the jobs lost (target 0: every job created is listed by the control plane and was seen
completed by its client), p50/p99 latency and the server's peak memory.

Loopback only, and bounded: every request has a timeout and the whole run a deadline.
`python -m tests.benchmarks.load` runs it alone (`--jobs`, `--files` to scale it down)."""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .live import classify, expect, peak_rss_bytes, percentile, request, start_server, stop_server
from .timing import HEADER, Figure

JOB_CLIENTS = UPLOAD_CLIENTS = 50
JOBS, FILES = 10_000, 1_000
FILE_BYTES = 100 * 1024  # above the size from which the server answers off its event loop
TIME_SCALE = 1_000  # emulated seconds per real second: a job's ~6.3 s take ~6 ms
POLL_PAUSE = 0.005  # seconds between two polls of one job
DEADLINE = 600.0  # seconds for the whole run
TIMEOUT = 60.0  # seconds for one request
TERMINAL = {"completed", "error", "user_error", "cancelled"}


@dataclass
class Tally:
    """What one client saw."""

    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind of request -> seconds
    server_errors: int = 0
    unexpected: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # workflow ids seen completed
    created: list[str] = field(default_factory=list)
    uploaded: list[tuple[str, int]] = field(default_factory=list)  # (file id, bytes)


class Client:
    """One client: its own API key and keep-alive connection, timing every request."""

    def __init__(self, host: str, port: int, key: str, tally: Tally) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        self.headers = {"Authorization": f"Bearer {key}"}
        self.tally = tally

    def call(
        self, kind: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple:
        start = time.perf_counter()
        answer = request(self.connection, method, path, body, {**self.headers, **(headers or {})})
        self.tally.latencies.setdefault(kind, []).append(time.perf_counter() - start)
        if answer[0] >= 500:
            self.tally.server_errors += 1
        return answer

    def checked(
        self, kind: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple:
        answer = self.call(kind, method, path, body, headers)
        if answer[0] not in (200, 302):
            self.tally.unexpected.append(f"{method} {path}: {answer[0]} {answer[2][:200]!r}")
            raise RuntimeError(self.tally.unexpected[-1])
        return answer

    def upload(self, content: bytes, name: str) -> str:
        form = f"purpose=eval&file_name={name}&file_type=jsonl".encode()
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        _, headers, _ = self.checked("upload URL", "POST", "/v1/files", form, form_type)
        self.checked("upload bytes", "PUT", urlsplit(headers["location"]).path, content)
        file_id = headers["x-together-file-id"]
        self.checked("preprocess", "POST", f"/v1/files/{file_id}/preprocess")
        return file_id


def rows(count: int, tag: str) -> bytes:
    return "".join(
        json.dumps({"prompt": f"{tag} question {i}?", "response": f"{tag} answer {i}."}) + "\n" for i in range(count)
    ).encode()


def job_client(client: Client, jobs: int, deadline: float) -> None:
    """Create `jobs` jobs one after the other, polling each until it ends."""
    file_id = client.upload(rows(10, "jobs"), "jobs.jsonl")
    for _ in range(jobs):
        _, _, body = client.checked("create", "POST", "/v1/evaluation", classify(file_id))
        workflow_id = json.loads(body)["workflow_id"]
        client.tally.created.append(workflow_id)
        while time.monotonic() < deadline:
            status = json.loads(client.checked("status", "GET", f"/v1/evaluation/{workflow_id}/status")[2])["status"]
            if status in TERMINAL:
                if status == "completed":
                    client.tally.completed.append(workflow_id)
                break
            time.sleep(POLL_PAUSE)


def upload_client(client: Client, files: int, index: int) -> None:
    line = json.dumps({"prompt": "p" * 200, "response": "r" * 200}) + "\n"
    for number in range(files):
        content = (line * (FILE_BYTES // len(line) + 1)).encode()[:FILE_BYTES]
        content = content[: content.rfind(b"\n") + 1]  # whole lines only
        file_id = client.upload(content, f"upload-{index}-{number}.jsonl")
        client.tally.uploaded.append((file_id, len(content)))


def run(jobs: int = JOBS, files: int = FILES) -> dict[str, float]:
    server, url = start_server("--clock", "real", "--time-scale", str(TIME_SCALE))
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    deadline = time.monotonic() + DEADLINE
    tallies: list[Tally] = []
    threads: list[threading.Thread] = []
    failures: list[BaseException] = []

    def guarded(target, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            target(*args)
        except BaseException as exc:  # reported after the run
            failures.append(exc)

    try:
        for index in range(JOB_CLIENTS):
            tally = Tally()
            tallies.append(tally)
            count = jobs // JOB_CLIENTS + (index < jobs % JOB_CLIENTS)
            client = Client(host, port, f"jobs-{index}", tally)
            threads.append(threading.Thread(target=guarded, args=(job_client, client, count, deadline)))
        for index in range(UPLOAD_CLIENTS):
            tally = Tally()
            tallies.append(tally)
            count = files // UPLOAD_CLIENTS + (index < files % UPLOAD_CLIENTS)
            client = Client(host, port, f"uploads-{index}", tally)
            threads.append(threading.Thread(target=guarded, args=(upload_client, client, count, index)))
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        elapsed = time.perf_counter() - start
        if any(thread.is_alive() for thread in threads):
            raise RuntimeError(f"the load did not finish within {DEADLINE:.0f} s")
        if failures:
            raise RuntimeError(f"{len(failures)} clients failed; the first: {failures[0]!r}")
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        listed = {
            job["workflow_id"] for job in json.loads(expect(request(connection, "GET", "/_emulator/jobs"), 200)[2])
        }
        stored_files = {}
        for index in range(UPLOAD_CLIENTS):
            answer = request(connection, "GET", "/v1/files", headers={"Authorization": f"Bearer uploads-{index}"})
            stored_files.update({f["id"]: f["bytes"] for f in json.loads(expect(answer, 200)[2])["data"]})
        peak = peak_rss_bytes(server.pid)
    finally:
        stop_server(server)
    created = [workflow_id for tally in tallies for workflow_id in tally.created]
    completed = {workflow_id for tally in tallies for workflow_id in tally.completed}
    lost = [workflow_id for workflow_id in created if workflow_id not in listed or workflow_id not in completed]
    uploaded = [item for tally in tallies for item in tally.uploaded]
    files_lost = [file_id for file_id, size in uploaded if stored_files.get(file_id) != size]
    by_kind: dict[str, list[float]] = {}
    for tally in tallies:
        for kind, values in tally.latencies.items():
            by_kind.setdefault(kind, []).extend(values)
    latencies = [value for values in by_kind.values() for value in values]
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "server_errors": sum(tally.server_errors for tally in tallies),
        "jobs": len(created),
        "jobs_lost": len(lost) + (jobs - len(created)),
        "files": len(uploaded),
        "files_lost": len(files_lost) + (files - len(uploaded)),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "peak_mb": peak / 2**20,
        **{f"p99_ms {kind}": percentile(values, 0.99) * 1000 for kind, values in sorted(by_kind.items())},
    }


def figures(found: dict[str, float]) -> list[Figure]:
    load = f"{JOB_CLIENTS} clients × {found['jobs']:,.0f} jobs + {UPLOAD_CLIENTS} clients × {found['files']:,.0f} files"
    return [
        Figure(
            f"load ({load}): requests",
            f"{found['requests']:,.0f} in {found['seconds']:.1f} s",
            "–",
            f"{found['requests'] / found['seconds']:,.0f} req/s",
            "–",
            True,
        ),
        Figure("load: 5xx answers", f"{found['server_errors']:.0f}", "–", "–", "0", found["server_errors"] == 0),
        Figure(
            "load: jobs lost (not listed, or never seen completed)",
            f"{found['jobs_lost']:.0f}",
            "–",
            "–",
            "0",
            found["jobs_lost"] == 0,
        ),
        Figure("load: files lost or truncated", f"{found['files_lost']:.0f}", "–", "–", "0", found["files_lost"] == 0),
        Figure("load: latency p50 / p99", f"{found['p50_ms']:.1f} / {found['p99_ms']:.1f} ms", "–", "–", "–", True),
        Figure("load: server peak memory", f"{found['peak_mb']:.0f} MB", "–", "–", "–", True),
    ] + [
        Figure(f"load: latency p99, {key.split(' ', 1)[1]}", f"{value:.1f} ms", "–", "–", "–", True)
        for key, value in found.items()
        if key.startswith("p99_ms ")
    ]


def measure() -> list[Figure]:
    return figures(run())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--files", type=int, default=FILES)
    options = parser.parse_args()
    print(HEADER)
    for figure in figures(run(options.jobs, options.files)):
        print(figure.row())
