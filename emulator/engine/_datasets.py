"""Evaluation datasets: JSONL or CSV bytes parsed into rows (docs/reference/results.md#input-datasets)."""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ._pacing import pace
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


KEYS_PER_SLICE = 1024  # rows hashed at a time: one join of every row would hold the GIL long


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

    # Each computed on first use and kept on the instance. Not functools.cached_property: on Python 3.11
    # it takes one lock for every instance, so a thread hashing a large dataset outside the
    # emulator's lock would stall a request hashing a small one under it.
    @property
    def fingerprint(self) -> str:
        """A digest of the rows' content: datasets with equal rows share it, whatever their file."""
        found: str | None = self.__dict__.get("_fingerprint")
        if found is None:
            keys, digest = self.row_keys, hashlib.blake2b(digest_size=16)
            for start in range(0, len(keys), KEYS_PER_SLICE):  # the digest of all keys joined by newlines
                pace()
                digest.update(b"\n" if start else b"")
                digest.update(b"\n".join(keys[start : start + KEYS_PER_SLICE]))
            found = digest.hexdigest()
            object.__setattr__(self, "_fingerprint", found)
        return found

    @property
    def deepest_row(self) -> tuple[int, int]:
        """(how deep arrays and objects nest in the deepest row, that row's number from 1); a row
        of plain values is 1 deep. Read once per dataset; cheap when no row nests at all."""
        found: tuple[int, int] | None = self.__dict__.get("_deepest_row")
        if found is None:
            found = self._deepest_row()
            object.__setattr__(self, "_deepest_row", found)
        return found

    def _deepest_row(self) -> tuple[int, int]:
        if self.lines is None:  # CSV: every value is a string
            return 1, 1
        if sum(line.count("{") + line.count("[") for line in self.lines) == len(self.lines):
            return 1, 1  # one opening bracket per line: each row's own brace
        deepest, number = 1, 1
        for index, row in enumerate(self.rows, start=1):
            pace()
            level = depth(row)
            if level > deepest:
                deepest, number = level, index
        return deepest, number

    @property
    def row_keys(self) -> tuple[bytes, ...]:
        """The bytes each row's verdict is hashed from: its JSONL line as uploaded, or canonical JSON."""
        found: tuple[bytes, ...] | None = self.__dict__.get("_row_keys")
        if found is None:
            if self.lines is not None:
                found = tuple(line.encode() for line in self.lines)
            else:
                found = tuple(canonical(row).encode() for row in self.rows)
            object.__setattr__(self, "_row_keys", found)
        return found


# A large file is decoded, split and parsed a slice of about SLICE_BYTES at a time: a single
# C-level call over 200 MB would keep the GIL for half a second, stalling every other thread.
SLICE_BYTES = 1 << 20


def _texts(content: bytes, filename: str) -> list[str]:
    """UTF-8 `content` decoded in slices, each ending after a newline (which never falls inside a
    multi-byte character). A byte-order mark is dropped; error offsets count from after it."""
    start = len(codecs.BOM_UTF8) if content.startswith(codecs.BOM_UTF8) else 0
    texts, position = [], start
    while position < len(content):
        pace()
        end = content.find(b"\n", position + SLICE_BYTES)
        end = len(content) if end < 0 else end + 1
        try:
            texts.append(content[position:end].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DatasetError(
                f"File '{filename}' is not valid UTF-8 (byte {position - start + exc.start}). "
                "Upload a UTF-8 encoded JSONL or CSV file."
            ) from None
        position = end
    return texts


def parse_dataset(content: bytes, file_type: str, filename: str) -> Dataset:
    """Parse a JSONL (one object per non-blank line) or CSV file with the same columns on every row."""
    texts = _texts(content, filename)
    if file_type not in ("csv", "jsonl"):
        raise DatasetError(f"File '{filename}' has type '{file_type}'; evaluation datasets must be JSONL or CSV.")
    lines = None
    with paused_gc():
        if file_type == "csv":
            rows = _csv_rows(texts, filename)
        else:
            lines, rows = _jsonl_rows(texts, filename)
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


def _jsonl_rows(texts: list[str], filename: str) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """The non-blank lines, stripped, and the object each holds."""
    sliced = []
    for text in texts:
        pace()
        sliced.append([stripped for line in text.splitlines() if (stripped := line.strip())])
    lines = tuple(line for found in sliced for line in found)
    rows: list[dict[str, Any]] = []
    for found in sliced:
        pace()
        try:  # one C-level parse per slice for the common, valid case
            parsed = json.loads("[" + ",".join(found) + "]")
        except (json.JSONDecodeError, RecursionError):  # the slow way names the bad line
            parsed = None
        if parsed is None or len(parsed) != len(found) or not all(type(row) is dict for row in parsed):
            return lines, _jsonl_rows_slowly("".join(texts), filename)
        rows += parsed
    return lines, rows


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


def _csv_rows(texts: list[str], filename: str) -> list[dict[str, Any]]:
    reader = csv.reader(line for text in texts for line in io.StringIO(text))
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
