"""Node.js and the TypeScript SDK for the contract tests.

`together-ai` is pinned in tests/contract/typescript/package.json and package-lock.json and installed
with `npm ci` into tests/contract/typescript/node_modules (git-ignored) when that folder does not
hold the pinned version; a file lock keeps parallel test runs from installing at the same time.

Outside CI (the environment variable CI unset, empty, `0` or `false`) a missing Node.js or npm, or an
install that fails (no registry, no cache), skips the TypeScript tests with the reason; in CI it
fails them.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

SDK_VERSION = "0.52.0"
MIN_NODE_MAJOR = 18  # the first Node.js with a global fetch, which the SDK uses
NODE_DIR = Path(__file__).resolve().parent / "typescript"
REPO = Path(__file__).resolve().parents[2]
INSTALL_LOCK = REPO / ".venvs" / "node-install.lock"
INSTALL_COMMAND = ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"]
HOW_TO_INSTALL = (
    f"Install Node.js {MIN_NODE_MAJOR} or later with npm (Debian/Ubuntu: `apt-get install nodejs npm`; "
    "elsewhere: https://nodejs.org/en/download) and run the tests again: they install "
    f"together-ai@{SDK_VERSION} themselves with `npm ci` in tests/contract/typescript."
)


class NodeUnavailable(RuntimeError):
    """Node.js, npm or the pinned `together-ai` could not be found or installed."""


def in_ci() -> bool:
    """True when the environment says this is a CI run (CI=true, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def installed_sdk_version() -> str | None:
    """The version of `together-ai` in tests/contract/typescript/node_modules, if any."""
    try:
        manifest = json.loads((NODE_DIR / "node_modules" / "together-ai" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = manifest.get("version")
    return version if isinstance(version, str) else None


def _node_major(node: str) -> int | None:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"v(\d+)\.", done.stdout.strip())
    return int(match.group(1)) if done.returncode == 0 and match else None


def _install() -> None:
    if shutil.which("npm") is None:
        raise NodeUnavailable(f"npm is not on PATH. {HOW_TO_INSTALL}")
    try:
        done = subprocess.run(INSTALL_COMMAND, cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NodeUnavailable(f"`{' '.join(INSTALL_COMMAND)}` in {NODE_DIR} did not finish: {exc}") from None
    if done.returncode != 0:
        raise NodeUnavailable(
            f"`{' '.join(INSTALL_COMMAND)}` in {NODE_DIR} exited {done.returncode} (no registry and no npm "
            f"cache?):\n{done.stderr[-3000:]}"
        )


def node_with_sdk() -> Path:
    """The `node` executable, with together-ai@SDK_VERSION installed beside the scripts."""
    found = _find_or_install()
    if isinstance(found, NodeUnavailable):
        raise found
    return found


@lru_cache(maxsize=1)
def _find_or_install() -> Path | NodeUnavailable:
    """Tried once per session: a failed install is not retried by every test."""
    try:
        return _node_with_sdk()
    except NodeUnavailable as exc:
        return exc


def _node_with_sdk() -> Path:
    node = shutil.which("node")
    if node is None:
        raise NodeUnavailable(f"node is not on PATH. {HOW_TO_INSTALL}")
    major = _node_major(node)
    if major is None or major < MIN_NODE_MAJOR:
        raise NodeUnavailable(f"{node} is Node.js {major or 'of an unknown version'}. {HOW_TO_INSTALL}")
    INSTALL_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_sdk_version() != SDK_VERSION:
            _install()
    if installed_sdk_version() != SDK_VERSION:
        raise NodeUnavailable(f"npm ci ran, but {NODE_DIR / 'node_modules'} has no together-ai@{SDK_VERSION}.")
    return Path(node)


def node_or_skip() -> Path:
    """`node_with_sdk()` for a fixture: unavailable means a skip with the reason, or a failure in CI."""
    try:
        return node_with_sdk()
    except NodeUnavailable as exc:
        if in_ci():
            pytest.fail(f"CI is set, so the TypeScript SDK tests must run: {exc}", pytrace=False)
        pytest.skip(f"TypeScript SDK tests: {exc}")
