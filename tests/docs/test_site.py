"""The documentation as a whole: the site builds with `mkdocs build --strict` (broken links and anchors
fail it), the README's links resolve, every Python example is run by a test, and no file of the
project refers to documents outside the repository."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from docs_support import REPO, RUNNERS, pages, python_blocks, runnable_blocks

OUTSIDE = ["../shared", "shared/spec", "spec " + "\u00a7"]  # written apart so this file does not match


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs is missing in CI: the test extra installs it (python -m pip install -e '.[test]')")
        pytest.skip("mkdocs is not installed: python -m pip install -e '.[test]' (or python -m pip install mkdocs)")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"), "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    assert (tmp_path / "index.html").exists() and (tmp_path / "testing" / "index.html").exists()


def slug(heading: str) -> str:
    """The anchor of a heading, as MkDocs and GitHub both make it."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    headings, fenced = [], False
    for line in path.read_text().splitlines():
        fenced ^= line.startswith("```")
        if not fenced and (found := re.match(r"#{1,6} (.*)", line)):
            headings.append(found[1])
    return {slug(heading) for heading in headings}


def test_the_readme_links_resolve() -> None:
    """MkDocs checks the pages under docs/; the README, outside them, is checked here."""
    text = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert local
    for link in local:
        target, _, anchor = link.partition("#")
        path = REPO / target
        assert path.is_file(), f"README.md links to {link}, which does not exist"
        assert not anchor or anchor in anchors(path), f"README.md links to {link}: no such heading"


def test_every_python_example_is_run_by_a_test() -> None:
    """A page with Python blocks that run has a runner, which runs every one of them (each runner
    checks that); blocks that cannot run say why."""
    for page in pages():
        for block in python_blocks(page):
            assert block.runs or (block.directive or "").removeprefix("not run:").strip(), f"{block.where}: say why"
        if runnable_blocks(page):
            assert page in RUNNERS, f"{page} has Python examples but no test runs them: add it to RUNNERS"
    for page, runner in RUNNERS.items():
        assert page in (REPO / runner).read_text(), f"{runner} does not read {page}"


def test_no_file_refers_outside_the_project() -> None:
    """The project stands on its own: no file cites documents that a clone, a wheel or a reader of the
    package index does not have."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    found = []
    for name in files.splitlines():
        path = REPO / name
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            found += [f"{name}:{number}: {line.strip()[:120]}" for needle in OUTSIDE if needle in line]
    assert not found, "\n".join(found)
