"""docs/fastapi.md's complete example runs as written: its `# grading_app.py` and `# test_grading_app.py`
blocks are a user's project, run by pytester with the plugin (and pytest-httpx, anyio) as installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import together  # noqa: F401  imported once here, so the in-process sub-run does not import it again

pytest_plugins = ["pytester"]

PAGE = Path(__file__).resolve().parents[2] / "docs" / "fastapi.md"


def example_files() -> dict[str, str]:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    return {m[1]: block for block in blocks if (m := re.match(r"# (\w+\.py)\n", block))}


def test_the_example_passes(pytester: pytest.Pytester) -> None:
    files = example_files()
    assert set(files) == {"grading_app.py", "test_grading_app.py"}
    for name, source in files.items():
        pytester.makepyfile(**{name.removesuffix(".py"): source})
    result = pytester.runpytest_inprocess(
        "-W",
        "ignore::UserWarning:fastapi.testclient",  # Starlette 1.x's "install httpx2" notice
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:benchmark",
        "-p",
        "no:faker",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=4)
