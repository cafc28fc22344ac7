"""The installed package stands on its own: a wheel installed outside the checkout finds its
fixtures (the built-in datasets) and serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys
import together_eval_emulator as emulator
from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest
reply = Emulator().handle(ApiRequest("GET", "/v1/files/qa-benchmark-v1/content", "http://x", "",
                                     {"authorization": "Bearer k"}, b""))
print(json.dumps({"module": emulator.__file__, "status": reply.status_code,
                  "rows": len(reply.body.splitlines())}))
"""


def run(*command: str, cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_a_wheel_installed_elsewhere_finds_its_datasets_and_serves(tmp_path: Path) -> None:
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "-w",
        str(tmp_path / "dist"),
        str(REPO),
        cwd=tmp_path,
    )
    wheel = next((tmp_path / "dist").glob("together_eval_emulator-*.whl"))
    venv = tmp_path / "venv"
    # The dependencies come from this interpreter's site-packages; the package itself from the wheel.
    run(sys.executable, "-m", "venv", "--system-site-packages", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel), cwd=tmp_path)

    import json

    report = json.loads(run(str(python), "-c", CHECK, cwd=tmp_path).strip().splitlines()[-1])
    assert report["module"].startswith(str(venv)), report  # not the checkout
    assert report["status"] == 200 and report["rows"] == 125

    server = subprocess.Popen(
        [str(venv / "bin" / "together-eval-emulator"), "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("listening on http://127.0.0.1:")
    finally:
        server.terminate()
        server.wait(10)
