"""The built-in benchmark datasets, and the one loader of the `fixtures/` directory.

Seven JSONL files under `fixtures/datasets/`, described by `catalog.json`, are present in every
tenant as ready `eval` files whose ids are their names (`qa-benchmark-v1`, ...). They are read
lazily and parsed at most once per process; the cached bytes and rows are never mutated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._clock import NS
from ._datasets import Dataset, parse_dataset
from ._errors import ApiError
from ._store import StoredFile

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# 2025-01-01T00:00:00Z: before the manual clock's default start, so built-ins are the oldest files.
BUILTIN_CREATED_AT = 1_735_689_600
CATALOG_PATH = ("datasets", "catalog.json")


class BuiltinDatasetReadOnly(ApiError):
    """DELETE of a built-in dataset: it exists, but nobody may remove it."""

    status_code = 403


@lru_cache(maxsize=1)
def fixtures_root() -> Traversable:
    """Where `fixtures/` lives: beside the package in a checkout, else the installed `together_eval_emulator.fixtures`.

    The checkout wins so that a worktree never reads the fixtures of another editable install.
    """
    checkout = Path(__file__).resolve().parents[2] / "fixtures"
    if checkout.joinpath(*CATALOG_PATH).is_file():
        return checkout
    try:
        return resources.files("together_eval_emulator.fixtures")
    except ModuleNotFoundError:  # a wheel whose fixtures directory is not importable as a package
        return Path(__file__).resolve().parents[1] / "fixtures"


def fixture_bytes(*parts: str) -> bytes:
    """The bytes of one fixture file, e.g. `fixture_bytes("datasets", "catalog.json")`."""
    node = fixtures_root()
    for part in parts:  # one at a time: a namespace package's MultiplexedPath takes one part per call
        node = node.joinpath(part)
    return node.read_bytes()


@dataclass(frozen=True)
class DatasetDefaults:
    """A dataset's own real-contract parameters: what the convenience create maps onto."""

    model_system_template: str
    model_input_template: str
    judge_system_template: str
    labels: tuple[str, ...]
    pass_labels: tuple[str, ...]
    min_score: int | float
    max_score: int | float
    pass_threshold: int | float


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    description: str
    rows: int
    columns: tuple[str, ...]
    categories: dict[str, int]
    has_options: bool
    defaults: DatasetDefaults

    @property
    def filename(self) -> str:
        return f"{self.name}.jsonl"

    def content(self) -> bytes:
        return _content(self.name)

    def dataset(self) -> Dataset:
        return _parsed(self.name)


def _entry(name: str, raw: dict[str, Any]) -> BuiltinDataset:
    defaults = dict(raw["defaults"])
    defaults["labels"] = tuple(defaults["labels"])
    defaults["pass_labels"] = tuple(defaults["pass_labels"])
    return BuiltinDataset(
        name=name,
        description=raw["description"],
        rows=raw["rows"],
        columns=tuple(raw["columns"]),
        categories=dict(raw["categories"]),
        has_options=raw["has_options"],
        defaults=DatasetDefaults(**defaults),
    )


@lru_cache(maxsize=1)
def catalog() -> dict[str, BuiltinDataset]:
    """Every built-in dataset by name, in catalog order (the order `GET /v1/files` lists them)."""
    raw = json.loads(fixture_bytes(*CATALOG_PATH))
    return {name: _entry(name, entry) for name, entry in raw.items()}


def names() -> tuple[str, ...]:
    return tuple(catalog())


def get(name: str) -> BuiltinDataset | None:
    return catalog().get(name)


@cache
def _content(name: str) -> bytes:
    return fixture_bytes("datasets", f"{name}.jsonl")


@cache
def _parsed(name: str) -> Dataset:
    return parse_dataset(_content(name), "jsonl", f"{name}.jsonl")


def stored_file(name: str, tenant_key: str) -> StoredFile | None:
    """A built-in dataset as one tenant's file (a fresh record; the bytes and rows are shared), or None."""
    builtin = get(name)
    if builtin is None:
        return None
    return StoredFile(
        id=name,
        tenant=tenant_key,
        filename=builtin.filename,
        purpose="eval",
        file_type="jsonl",
        created_ns=BUILTIN_CREATED_AT * NS,
        size=len(builtin.content()),
    )


def stored_files(tenant_key: str) -> list[StoredFile]:
    """All built-in datasets as one tenant's files, in catalog order."""
    return [file for name in names() if (file := stored_file(name, tenant_key)) is not None]


def read_only_error(name: str) -> BuiltinDatasetReadOnly:
    return BuiltinDatasetReadOnly(
        f"File '{name}' is a built-in dataset and cannot be deleted. Built-in datasets are shared by every "
        "API key; upload a copy with purpose 'eval' if you need a file you can delete.",
        param="id",
    )
