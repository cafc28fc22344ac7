"""The Redis server fixtures for every test of this folder (tests/stores/redis_support.py)."""

from tests.stores.redis_support import redis_server, redis_url  # noqa: F401 (fixtures)
