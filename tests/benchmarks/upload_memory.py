"""Peak resident memory a 200 MB upload adds to the live server, through each upload path: the PUT to
the upload URL (the SDKs' three-step upload) and the direct multipart `POST /v1/files/upload`.

The server runs in a fresh process per path (`python -m tests.benchmarks.upload_memory serve`); this
process uploads to it from a file on disk and reads the server's memory from /proc: its resident
size once warmed up, then its peak (VmHWM, reset after the warm-up) once the upload is stored. The
figure is that growth divided by the upload's size; the stored file itself is 1×.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from .timing import Figure

ROOT = Path(__file__).resolve().parents[2]
SIZE = 200 * 2**20
TARGET = 1.5
AUTH = {"authorization": "Bearer bench"}
PATHS = ("put", "direct")


# ---------------------------------------------------------------- the server (child process)


def serve() -> None:
    from together_eval_emulator import Emulator
    from together_eval_emulator.faces._server import EmulatorServer

    server = EmulatorServer(Emulator(clock="manual"), log_level="error").start()
    print(server.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


# ---------------------------------------------------------------- measuring (this process)


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def dataset_file(directory: str, size: int) -> Path:
    """A JSONL dataset of about `size` bytes."""
    path = Path(directory) / "big.jsonl"
    line = b'{"prompt": "What is the capital of France? Answer in one word.", "response": "Paris."}\n'
    with path.open("wb") as out:
        block = line * (2**20 // len(line))
        written = 0
        while written < size:
            out.write(block)
            written += len(block)
    return path


def upload(client: httpx.Client, path: str, file: Path) -> str:
    """One upload of `file` through `path` ("put" or "direct"); the new file's id."""
    with file.open("rb") as content:
        if path == "put":
            step1 = client.post("/v1/files", data={"purpose": "eval", "file_name": "big.jsonl", "file_type": "jsonl"})
            put = httpx.put(step1.headers["location"], content=content, timeout=600)  # no key, as the SDKs
            put.raise_for_status()
            file_id = step1.headers["x-together-file-id"]
            client.post(f"/v1/files/{file_id}/preprocess").raise_for_status()
            return file_id
        reply = client.post("/v1/files/upload", data={"purpose": "eval"}, files={"file": ("big.jsonl", content)})
        reply.raise_for_status()
        return str(reply.json()["id"])


def measure_path(path: str, big: Path, small: Path) -> float:
    """Peak memory growth / size of one upload of `big` through `path`, on a fresh server."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.upload_memory", "serve"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        url = server.stdout.readline().strip()
        with httpx.Client(base_url=url, headers=AUTH, timeout=600) as client:
            for _ in range(3):  # warm every code path (imports, parsers, buffers) before the baseline
                upload(client, path, small)
            before = status_kb(server.pid, "VmRSS")
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            file_id = upload(client, path, big)
            peak = status_kb(server.pid, "VmHWM")
            size = int(client.get(f"/v1/files/{file_id}").json()["bytes"])
        server.stdin.close()
        server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
    return (peak - before) * 1024 / size


def measure() -> list[Figure]:
    with tempfile.TemporaryDirectory() as directory:
        big = dataset_file(directory, SIZE)
        small = Path(directory) / "small.jsonl"
        small.write_bytes(big.read_bytes()[: 2 * 2**20])
        ratios = {path: measure_path(path, big, small) for path in PATHS}
    names = {"put": "PUT to the upload URL", "direct": "direct multipart POST /v1/files/upload"}
    return [
        Figure(
            f"peak memory added by a {SIZE // 2**20} MB upload, {names[path]}",
            f"{ratio:.2f}× its size",
            "the upload's size",
            f"{ratio:.2f}",
            f"≤ {TARGET}×",
            ratio <= TARGET,
        )
        for path, ratio in ratios.items()
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    else:
        for figure in measure():
            print(figure.row())
