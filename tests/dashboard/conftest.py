"""The dashboard suite's browser and live server (tests/dashboard/dashboard_support.py)."""

from tests.dashboard.dashboard_support import browser, world  # noqa: F401 (fixtures)
