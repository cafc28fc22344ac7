"""Benchmarks (not collected by the test run): `python -m tests.benchmarks` prints every figure."""
