"""The installed package stands on its own: a wheel installed outside the checkout finds its
fixtures (the built-in datasets) and the dashboard's templates and assets, and serves."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys
import together_eval_emulator as emulator
from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest
reply = Emulator().handle(ApiRequest("GET", "/v1/files/qa-benchmark-v1/content", "http://x", "",
                                     {"authorization": "Bearer k"}, b""))
ui = [Emulator().handle(ApiRequest("GET", path, "http://x", "", {}, b"")).status_code
      for path in ("/_emulator/ui", "/_emulator/ui/rules", "/_emulator/ui/static/dashboard.css",
                   "/_emulator/ui/static/dashboard.js")]
print(json.dumps({"module": emulator.__file__, "status": reply.status_code,
                  "rows": len(reply.body.splitlines()), "dashboard": ui}))
"""


def run(*command: str, cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_a_wheel_installed_elsewhere_finds_its_datasets_and_serves(tmp_path: Path) -> None:
    # Build from a copy without build artefacts: a stale build/ folder of the checkout would leak into the wheel.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns("build", "dist", ".venvs", ".git", "*.egg-info"))
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "-w",
        str(tmp_path / "dist"),
        str(source),
        cwd=tmp_path,
    )
    wheel = next((tmp_path / "dist").glob("together_eval_emulator-*.whl"))
    with zipfile.ZipFile(wheel) as archive:  # one namespaced package: nothing that collides with users' modules
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"together_eval_emulator"}, tops
    venv = tmp_path / "venv"
    # The dependencies come from the running interpreter's site-packages (a venv's own, not its base
    # interpreter's, which `--system-site-packages` would give); the package itself from the wheel. A path
    # line in a .pth file adds the folder without running its .pth files, so the checkout's editable
    # install stays invisible.
    run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "_running_interpreter.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = venv / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel), cwd=tmp_path)

    import json

    report = json.loads(run(str(python), "-c", CHECK, cwd=tmp_path).strip().splitlines()[-1])
    assert report["module"].startswith(str(venv)), report  # not the checkout
    assert report["status"] == 200 and report["rows"] == 125
    assert report["dashboard"] == [200, 200, 200, 200]  # its templates and assets are in the wheel

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
