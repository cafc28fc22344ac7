"""`python -m tests.stores.redis_launcher REDIS_URL [SEED]`: one emulator server process on a Redis store,
on a free loopback port; prints `listening on URL` when it serves.

The tests start several of these on one Redis database to play a team's shared emulator. (Once the
CLI takes `serve --store redis://...`, it does the same; this launcher needs nothing but the store.)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def main(url: str, seed: int) -> None:
    from together_eval_emulator import Emulator, EmulatorConfig
    from together_eval_emulator.faces._server import EmulatorServer
    from together_eval_emulator.stores._redis import RedisStore

    emulator = Emulator(EmulatorConfig(clock="manual", seed=seed), store=RedisStore(url))
    EmulatorServer(emulator).serve(on_ready=lambda base: print(f"listening on {base}", flush=True))


def launch(url: str, log: Path, seed: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    """Start one server process on the Redis store at `url`; returns it and its base URL."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.stores.redis_launcher", url, str(seed)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=out,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        if line.startswith("listening on "):
            return process, line.removeprefix("listening on ").strip()
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the emulator server on {url} did not start:\n{log.read_text(errors='replace')[-2000:]}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
