"""Stores that keep the emulator's state outside one process's memory (SQLite, Redis), and `open_store`."""
