"""Stores for state kept outside this process (Redis; SQLite): implementations of `engine._store.Store`."""
