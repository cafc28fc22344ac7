"""The README's "Testing with pytest" examples run as written: every python block that starts with a
`# test_<name>.py` line is a user test file, run by pytester with the plugin and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import together  # noqa: F401  imported once here, so the in-process sub-run does not import it again

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Testing with pytest"


def section() -> str:
    """The section, from README.md once merged there, else from its draft beside it."""
    for name in ("README.md", "docs-testing-with-pytest.md"):
        path = REPO / name
        if path.exists() and SECTION in (text := path.read_text()):
            body = text.split(SECTION, 1)[1]
            return re.split(r"\n## ", body, maxsplit=1)[0]
    raise AssertionError(f"no '{SECTION}' section in README.md or docs-testing-with-pytest.md")


def example_files() -> dict[str, str]:
    blocks = re.findall(r"```python\n(.*?)```", section(), flags=re.S)
    return {m[1]: block for block in blocks if (m := re.match(r"# (test_\w+\.py)\n", block))}


def test_the_examples_are_there() -> None:
    assert {
        "test_evals_sync.py",
        "test_evals_async.py",
        "test_plain_httpx.py",
        "test_cli_subprocess.py",
        "test_polling_loop.py",
        "test_eval_journal.py",
    } <= set(example_files())


def test_the_examples_pass(pytester: pytest.Pytester) -> None:
    files = example_files()
    for name, source in files.items():
        pytester.makepyfile(**{name.removesuffix(".py"): source})
    result = pytester.runpytest_inprocess(
        "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=len(files))
