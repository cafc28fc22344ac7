"""The documentation as a whole: the site builds with `mkdocs build --strict` (broken links and anchors
fail it), the README's links resolve, every Python example is run by a test, and no file of the
project refers to documents outside the repository."""

from __future__ import annotations

import ast
import importlib.util
import io
import os
import re
import subprocess
import sys
import tokenize
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_support import REPO, RUNNERS, pages, python_blocks, runnable_blocks

# Written apart so this file does not match. The section sign and the design notes' names only ever
# cited documents outside the repository.
OUTSIDE = ["../" + "shared", "shared/" + "spec", "\u00a7", "ARCHITECTURE" + ".md", "STYLE" + ".md"]
# An old decision id (`D` and a number from 1 to 10) used as a citation; decisions are anchors of
# docs/wire-contract.md now.
DECISION_ID = re.compile(r"\bD(10|[1-9])\b")
CODE_FOLDERS = ("emulator", "pytest_plugin", "tests")
# A page of the site cited from code, with an optional anchor.
DOCS_CITATION = re.compile(r"\bdocs/[\w./-]+\.md(?:#[\w-]+)?")


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


def python_files() -> list[Path]:
    """The tracked Python files of the package and its tests."""
    files = subprocess.run(
        ["git", "ls-files", "--", *(f"{folder}/*.py" for folder in CODE_FOLDERS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [REPO / name for name in files.splitlines() if (REPO / name).is_file()]


def prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python file: what cites, as opposed to data."""
    source = path.read_text()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    yield body[0].lineno, body[0].value.value


def test_no_comment_cites_a_decision_by_an_old_id() -> None:
    """Comments and docstrings cite the decisions by their anchors in docs/wire-contract.md, never by
    the ids of a document outside the project."""
    found = [
        f"{path.relative_to(REPO)}:{line}: {text.strip()[:120]}"
        for path in python_files()
        for line, text in prose(path)
        if DECISION_ID.search(text)
    ]
    assert not found, "\n".join(found)


def test_every_page_and_anchor_cited_in_code_exists() -> None:
    """A `docs/<page>.md#<anchor>` in the code names a page of the repository and one of its headings,
    so a citation cannot outlive the section it points at."""
    found = []
    for path in python_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for citation in DOCS_CITATION.findall(line):
                target, _, anchor = citation.partition("#")
                if not (REPO / target).is_file():
                    found.append(f"{path.relative_to(REPO)}:{number}: {target} does not exist")
                elif anchor and anchor not in anchors(REPO / target):
                    found.append(f"{path.relative_to(REPO)}:{number}: {target} has no heading #{anchor}")
    assert not found, "\n".join(found)
