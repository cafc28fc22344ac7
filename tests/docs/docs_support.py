"""Reading the examples out of README.md and docs/, and running them as a reader would.

Conventions of the pages (docs/contributing/index.md, "Documentation"):

* every ```python block runs as a test, in the page's runner (`RUNNERS`). One that starts with
  `# test_<name>.py` is a pytest file; the others run as scripts (`run_script`), against a fresh live
  server when they name `http://127.0.0.1:8000`;
* an HTML comment `<!-- check: ... -->` right before a block steers it: `not run: <why>` for a block
  that cannot run as written, `together==1.5.35` for one written for that SDK generation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVER_URL = "http://127.0.0.1:8000"  # what the pages write; replaced by the test server's URL
TOGETHER15 = "together==1.5.35"

# Each page whose Python blocks run, and the test module that runs every one of them.
RUNNERS = {
    "README.md": "tests/docs/test_readme_examples.py",
    "docs/getting-started.md": "tests/docs/test_guide_examples.py",
    "docs/testing.md": "tests/docs/test_plugin_docs.py",
    "docs/scenarios.md": "tests/docs/test_python_api_docs.py",
    "docs/datasets.md": "tests/docs/test_guide_examples.py",
    "docs/python-api.md": "tests/docs/test_python_api_docs.py",
    "docs/documented-api.md": "tests/docs/test_documented_api_docs.py",
    "docs/contributing/architecture.md": "tests/http/test_extensions.py",
    "docs/configuration.md": "tests/docs/test_small_examples.py",
    "docs/openapi.md": "tests/docs/test_small_examples.py",
    "docs/pytest.md": "tests/docs/test_small_examples.py",
    "docs/fastapi.md": "tests/docs/test_fastapi_docs.py",
    "docs/uploads-and-journal.md": "tests/docs/test_uploads_docs.py",
    "docs/persistence.md": "tests/docs/test_persistence_docs.py",
    "docs/capacity.md": "tests/docs/test_capacity_docs.py",
    "docs/recordings.md": "tests/docs/test_recordings_docs.py",
    "docs/polling.md": "tests/docs/test_polling_docs.py",
    "docs/lifecycle-paths.md": "tests/docs/test_lifecycle_paths_docs.py",
}

_BLOCK = re.compile(
    r"(?:<!--\s*check:\s*(?P<directive>(?:(?!-->).)*?)\s*-->\s*\n)?^```python\n(?P<source>.*?)^```", re.S | re.M
)


@dataclass(frozen=True)
class Block:
    """One ```python block of a page."""

    page: str  # relative to the repository root
    line: int  # of the opening fence
    source: str
    directive: str | None  # the `<!-- check: ... -->` comment right before it, if any

    @property
    def runs(self) -> bool:
        return not (self.directive or "").startswith("not run")

    @property
    def test_file(self) -> str | None:
        """`test_<name>.py` when the block is a pytest file."""
        found = re.match(r"# (test_\w+\.py)\n", self.source)
        return found[1] if found else None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[str]:
    """README.md and every page under docs/, relative to the repository root."""
    return ["README.md", *sorted(str(path.relative_to(REPO)) for path in (REPO / "docs").rglob("*.md"))]


def python_blocks(page: str) -> list[Block]:
    text = (REPO / page).read_text()
    return [
        Block(page, text[: found.start("source")].count("\n"), found["source"], found["directive"])
        for found in _BLOCK.finditer(text)
    ]


def runnable_blocks(page: str) -> list[Block]:
    return [block for block in python_blocks(page) if block.runs]


def section(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level (a `#` line
    inside a code block is a comment, not a heading)."""
    level = len(heading.split(" ", 1)[0])
    lines, fenced = [], False
    for line in text.split(heading + "\n", 1)[1].splitlines(keepends=True):
        fenced ^= line.startswith("```")
        marks = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < marks <= level and line[marks : marks + 1] == " ":
            break
        lines.append(line)
    return "".join(lines)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a reader's shell: no settings a pytest fixture of this run may have left."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOGETHER_", "PYTEST_"))}
    return {**env, "TOGETHER_NO_BANNER": "1", "TOGETHER_DISABLE_VERSION_CHECK": "1", **extra}


@contextmanager
def served(*options: str) -> Iterator[str]:
    """`together-eval-emulator serve --port 0 <options>` in a subprocess; yields its URL."""
    command = [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *options]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("listening on "), (line, proc.stderr.read() if proc.stderr else "")
            yield line.removeprefix("listening on ").strip()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def run_script(source: str, cwd: Path, python: str = sys.executable) -> str:
    """Run `source` as a script in `cwd` (against a fresh manual-clock server when it names
    SERVER_URL) and return what it printed; a failure shows its stderr."""
    script = cwd / "example.py"

    def run() -> str:
        done = subprocess.run(
            [python, str(script)], cwd=cwd, capture_output=True, text=True, timeout=300, env=clean_env()
        )
        assert done.returncode == 0, f"{done.stderr}\n--- script:\n{script.read_text()}"
        return done.stdout

    if SERVER_URL not in source:
        script.write_text(source)
        return run()
    with served("--clock", "manual") as url:
        script.write_text(source.replace(SERVER_URL, url))
        return run()


def together15_site_packages() -> str:
    """The site-packages of the together==1.5.35 environment: first on PYTHONPATH, it makes
    `import together` load 1.5.35 in a process that otherwise has this checkout's packages."""
    from tests.together15 import together15_python

    python = str(together15_python())
    found = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return found.stdout.strip()
