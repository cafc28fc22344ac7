"""A real `redis-server` for the Redis store tests: started once per session on a free loopback port
(no persistence), stopped at the end.

Outside CI (the environment variable CI unset, empty, `0` or `false`) a missing `redis-server`
binary or `redis` client package skips these tests with the way to install it; in CI (CI=true)
it is a failure: CI must run them.

Test modules import the fixtures they use: `from tests.stores.redis_support import redis_server, redis_url`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import in_ci as in_ci, unavailable as missing

INSTALL = (
    "the Redis store tests need a redis-server binary: apt-get install redis-server (Debian/Ubuntu, as root) "
    "or brew install redis (macOS)"
)
CLIENT = "the Redis store tests need the redis client package: pip install -e '.[test]' (or '.[redis]')"


def unavailable(reason: str) -> None:
    """Skip outside CI; fail in CI, where these tests must run."""
    missing("Redis store tests", reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _started(process: subprocess.Popen[bytes], port: int) -> bool:
    """Wait (bounded) until the server answers PING; False if it exited (its port was taken)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    for _ in range(200):
        if process.poll() is not None:
            return False
        try:
            if client.ping():
                return True
        except redis.ConnectionError:
            time.sleep(0.025)
    raise RuntimeError(f"redis-server on port {port} did not answer within 5 s")


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on a free loopback port, without persistence; returns it and its URL (no db)."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable(INSTALL)
    assert binary is not None
    for _ in range(5):  # another process may take the free port before the server binds it
        port = free_port()
        log = open(folder / f"redis-{port}.log", "wb")  # noqa: SIM115 (closed with the process below)
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if _started(process, port):
            return process, f"redis://127.0.0.1:{port}"
        process.wait(5)
    raise RuntimeError("could not start redis-server on a free port (see the redis-*.log files)")


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server started for this session (without a database number)."""
    try:
        import redis  # noqa: F401
    except ImportError:
        unavailable(CLIENT)
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        stop_redis(process)


def empty_database(server: str, number: int) -> str:
    """The URL of database `number` of `server`, emptied."""
    import redis

    url = f"{server}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """Database 0 of the session's server, emptied for this test."""
    return empty_database(redis_server, 0)
