"""The documented (non-real) evaluation API, as an add-on: its routes, its extra fields and
metrics, and its own client. The real contract never depends on it."""
