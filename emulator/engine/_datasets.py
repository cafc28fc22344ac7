"""Evaluation datasets: JSONL or CSV bytes parsed into rows (docs/reference/results.md#input-datasets)."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ._strict_json import MAX_JSON_DEPTH, depth


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk loop over rows. Such loops allocate
    hundreds of thousands of dicts and strings but no reference cycles, while each collection
    would rescan every live row: superlinear time on large datasets."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class DatasetError(Exception):
    """The file cannot serve as an evaluation dataset; the message says why and how to fix it."""


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def canonical(value: Any) -> str:
    """Key-order independent JSON: the form a row or a configuration is hashed in."""
    return _canonical(value)


@dataclass(frozen=True)
class Dataset:
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    lines: tuple[str, ...] | None = None  # a JSONL dataset's own lines, one per row

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the rows' content: datasets with equal rows share it, whatever their file."""
        return hashlib.blake2b(b"\n".join(self.row_keys), digest_size=16).hexdigest()

    @cached_property
    def deepest_row(self) -> tuple[int, int]:
        """(how deep arrays and objects nest in the deepest row, that row's number from 1); a row
        of plain values is 1 deep. Read once per dataset; cheap when no row nests at all."""
        if self.lines is None:  # CSV: every value is a string
            return 1, 1
        if sum(line.count("{") + line.count("[") for line in self.lines) == len(self.lines):
            return 1, 1  # one opening bracket per line: each row's own brace
        deepest, number = 1, 1
        for index, row in enumerate(self.rows, start=1):
            level = depth(row)
            if level > deepest:
                deepest, number = level, index
        return deepest, number

    @cached_property
    def row_keys(self) -> tuple[bytes, ...]:
        """The bytes each row's verdict is hashed from: its JSONL line as uploaded, or canonical JSON."""
        if self.lines is not None:
            return tuple(line.encode() for line in self.lines)
        return tuple(canonical(row).encode() for row in self.rows)


def parse_dataset(content: bytes, file_type: str, filename: str) -> Dataset:
    """Parse a JSONL (one object per non-blank line) or CSV file with the same columns on every row."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"File '{filename}' is not valid UTF-8 (byte {exc.start}). Upload a UTF-8 encoded JSONL or CSV file."
        ) from None
    if file_type not in ("csv", "jsonl"):
        raise DatasetError(f"File '{filename}' has type '{file_type}'; evaluation datasets must be JSONL or CSV.")
    lines = None
    with paused_gc():
        if file_type == "csv":
            rows = _csv_rows(text, filename)
        else:
            lines = tuple(line.strip() for line in text.splitlines() if line.strip())
            rows = _jsonl_rows(lines, text, filename)
    if not rows:
        raise DatasetError(f"File '{filename}' has no rows. Upload a dataset with at least one row.")
    columns = tuple(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if tuple(row) != columns and set(row) != set(columns):
            raise DatasetError(
                f"Row {number} of '{filename}' has columns {sorted(row)} but row 1 has "
                f"{sorted(columns)}. Every row must contain the same fields."
            )
    return Dataset(columns=columns, rows=tuple(rows), lines=lines)


def _jsonl_rows(lines: tuple[str, ...], text: str, filename: str) -> list[dict[str, Any]]:
    try:  # one C-level parse for the common, valid case
        rows: list[dict[str, Any]] = json.loads("[" + ",".join(lines) + "]")  # returned once checked below
        if len(rows) == len(lines) and all(type(row) is dict for row in rows):
            return rows
    except (json.JSONDecodeError, RecursionError):
        pass
    return _jsonl_rows_slowly(text, filename)


def _jsonl_rows_slowly(text: str, filename: str) -> list[dict[str, Any]]:
    """Line by line, to name the first bad line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"Line {number} of '{filename}' is not valid JSON ({exc.msg}). Each line must be one JSON object."
            ) from None
        except RecursionError:  # the parser's own guard: hundreds of levels
            raise DatasetError(
                f"Line {number} of '{filename}' nests arrays and objects too deeply to be read. Flatten the row: "
                f"rows may nest as deep as the `max_json_depth` setting (at most {MAX_JSON_DEPTH} levels)."
            ) from None
        if not isinstance(row, dict):
            raise DatasetError(
                f"Line {number} of '{filename}' is a JSON {type(row).__name__}, not an object. "
                "Each line must be one JSON object."
            )
        rows.append(row)
    return rows


def _csv_rows(text: str, filename: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    try:
        records = [record for record in reader if record]
    except csv.Error as exc:
        raise DatasetError(f"File '{filename}' is not valid CSV ({exc}).") from None
    if not records:
        return []
    header, body = records[0], records[1:]
    for number, record in enumerate(body, start=2):
        if len(record) != len(header):
            raise DatasetError(
                f"Line {number} of '{filename}' has {len(record)} values but the header has {len(header)} columns."
            )
    return [dict(zip(header, record, strict=False)) for record in body]
