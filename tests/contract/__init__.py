"""Contract tests: the real together SDKs and CLIs against a live emulator (see conftest.py)."""
