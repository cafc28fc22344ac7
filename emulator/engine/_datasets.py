"""Evaluation datasets: JSONL or CSV bytes read as rows (docs/reference/results.md#input-datasets).

A dataset is never held as rows. `parse_dataset` checks the uploaded bytes in one streaming pass (a
slice of about a megabyte at a time: decoded, split, parsed, checked, dropped) and keeps the bytes
with the few facts that pass found: columns, row count, fingerprint, deepest row. Whoever needs the
rows (the summary, the result file) reads them again from the bytes, a slice at a time
(`Dataset.keyed_rows`). The bytes are the uploaded file's own (the file store holds them already),
so a parsed dataset costs next to nothing beyond its file, however many rows it has.
"""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
import json
import operator
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Literal

from ._pacing import pace
from ._strict_json import MAX_JSON_DEPTH, depth


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk loop over rows. Such loops allocate
    thousands of dicts and strings but no reference cycles, while each collection would rescan
    every live object: wasted time on large datasets."""
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
_ascii_row = json.JSONEncoder().encode  # a row on one ASCII line: no character of it can split the line


def canonical(value: Any) -> str:
    """Key-order independent JSON: the form a row or a configuration is hashed in."""
    return _canonical(value)


# How a dataset's bytes hold its rows, and what each row's verdict is hashed from (its key):
# "jsonl": an uploaded JSONL file, keyed by its lines as uploaded (stripped);
# "csv": an uploaded CSV file, keyed by each row's canonical JSON;
# "rows": rows written by the emulator one per line (`rows_dataset`), keyed by canonical JSON.
Kind = Literal["jsonl", "csv", "rows"]


@dataclass(frozen=True)
class Dataset:
    """A dataset that passed every check of `parse_dataset`: its bytes and what that pass found.

    The rows are read again from `content` whenever they are needed (`rows`, `keyed_rows`), a slice
    at a time, so nothing ever holds them all. They were all checked once, so reading them again
    cannot fail."""

    content: bytes = field(repr=False)
    kind: Kind
    columns: tuple[str, ...]
    row_count: int
    fingerprint: str  # a digest of the rows' keys: datasets with equal rows share it, whatever their file
    # (how deep arrays and objects nest in the deepest row, that row's number from 1); a row of plain
    # values is 1 deep. CSV and emulator-written rows are taken as 1 deep, as they always were.
    deepest_row: tuple[int, int] = (1, 1)

    @property
    def digest(self) -> str:
        """A digest of everything the dataset's rows and keys are: datasets that share it give the
        same verdicts and the same result file. (The fingerprint alone does not say the column
        order a CSV file's rows are written in.)"""
        shape = f"{self.fingerprint}\x1f{self.columns!r}\x1f{self.kind != 'jsonl'}".encode()
        return hashlib.blake2b(shape, digest_size=16).hexdigest()

    def keyed_rows(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Each row, in order, with the bytes its verdict is hashed from (its key)."""
        if self.kind == "csv":
            for row in _csv_rows(_texts(self.content, "")):
                yield row, _canonical(row).encode()
            return
        keyed_by_line = self.kind == "jsonl"
        for _, lines, parsed in _jsonl_slices(_texts(self.content, "")):
            rows = parsed if parsed is not None else [json.loads(line) for line in lines]  # see `_parsed_slice`
            for line, row in zip(lines, rows, strict=True):
                yield row, line.encode() if keyed_by_line else _canonical(row).encode()

    def rows(self) -> Iterator[dict[str, Any]]:
        """Each row, in order."""
        return (row for row, _ in self.keyed_rows())

    def keys(self) -> Iterator[bytes]:
        """Each row's key, in order: all a verdict without text needs (a JSONL file's lines need no parsing)."""
        if self.kind != "jsonl":
            yield from (key for _, key in self.keyed_rows())
            return
        for text in _texts(self.content, ""):
            pace()
            yield from (stripped.encode() for line in text.splitlines() if (stripped := line.strip()))


# A large file is decoded, split and parsed a slice of about SLICE_BYTES at a time: a single
# C-level call over 200 MB would keep the GIL for half a second, stalling every other thread, and
# would hold every row at once.
SLICE_BYTES = 1 << 20


def _texts(content: bytes, filename: str) -> Iterator[str]:
    """UTF-8 `content` decoded in slices, each ending after a newline (which never falls inside a
    multi-byte character). A byte-order mark is dropped; error offsets count from after it."""
    start = len(codecs.BOM_UTF8) if content.startswith(codecs.BOM_UTF8) else 0
    position = start
    while position < len(content):
        pace()
        end = content.find(b"\n", position + SLICE_BYTES)
        end = len(content) if end < 0 else end + 1
        try:
            text = content[position:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(
                f"File '{filename}' is not valid UTF-8 (byte {position - start + exc.start}). "
                "Upload a UTF-8 encoded JSONL or CSV file."
            ) from None
        position = end
        yield text


def _jsonl_slices(texts: Iterable[str]) -> Iterator[tuple[str, list[str], list[dict[str, Any]] | None]]:
    """Each slice's text, its non-blank lines (stripped), and the objects they hold, parsed with one
    C-level call for the common, valid case; None when that call cannot vouch for every line."""
    for text in texts:
        pace()
        lines = [stripped for line in text.splitlines() if (stripped := line.strip())]
        yield text, lines, _parsed_slice(lines)


def _parsed_slice(lines: list[str]) -> list[dict[str, Any]] | None:
    """The objects `lines` hold, one per line, or None when the one-call parse fails (a bad line
    somewhere, or a line nested so deep that the array around it passes the parser's own limit)."""
    try:
        parsed = json.loads("[" + ",".join(lines) + "]")
    except (json.JSONDecodeError, RecursionError):
        return None
    if len(parsed) != len(lines) or not all(type(row) is dict for row in parsed):
        return None
    return parsed  # type: ignore[no-any-return]


class _Facts:
    """What the checking pass finds as it goes: rows, columns, fingerprint, deepest row, and the
    first column mismatch (reported only when no worse problem turns up later in the file)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.count = 0
        self.columns: tuple[str, ...] | None = None
        self._column_set: frozenset[str] = frozenset()
        self.mismatch: str | None = None
        self._digest = hashlib.blake2b(digest_size=16)
        self.deepest = (1, 1)

    def add(self, rows: list[dict[str, Any]], keys: bytes) -> None:
        """A slice's rows and their keys joined by newlines."""
        if not rows:
            return
        self._digest.update(b"\n" + keys if self.count else keys)  # the digest of all keys joined by newlines
        if self.columns is None:
            self.columns = tuple(rows[0])
            self._column_set = frozenset(self.columns)
        # A row's columns differ when their set does (in any order they are the same fields).
        if self.mismatch is None and any(map(operator.ne, map(dict.keys, rows), repeat(self._column_set))):
            number, row = next((n, row) for n, row in enumerate(rows, self.count + 1) if row.keys() != self._column_set)
            self.mismatch = (
                f"Row {number} of '{self.filename}' has columns {sorted(row)} but row 1 has "
                f"{sorted(self.columns)}. Every row must contain the same fields."
            )
        self.count += len(rows)

    def deeper(self, rows: list[dict[str, Any]], text: str) -> None:
        """Follow the deepest row through a JSONL slice (before `add` counts it)."""
        if text.count("{") + text.count("[") == len(rows):
            return  # one opening bracket per row: each row's own brace
        for number, row in enumerate(rows, start=self.count + 1):
            pace()
            level = depth(row)
            if level > self.deepest[0]:
                self.deepest = (level, number)

    def dataset(self, content: bytes, kind: Kind) -> Dataset:
        if self.columns is None:
            raise DatasetError(f"File '{self.filename}' has no rows. Upload a dataset with at least one row.")
        if self.mismatch is not None:
            raise DatasetError(self.mismatch)
        return Dataset(content, kind, self.columns, self.count, self._digest.hexdigest(), self.deepest)


def parse_dataset(content: bytes, file_type: str, filename: str) -> Dataset:
    """Check a JSONL (one object per non-blank line) or CSV file with the same columns on every row,
    in one streaming pass; the `Dataset` of its bytes, or a `DatasetError` for its first problem.

    Problems rank as they always have: bytes that are not UTF-8 first, then a file type that is not
    JSONL or CSV, then the first line that is not a JSON object (or not CSV), then no rows at all,
    then the first row whose columns differ from row 1's. A problem found early is kept until the
    rest of the file shows no higher-ranked one."""
    texts = _texts(content, filename)
    if file_type not in ("csv", "jsonl"):
        for _ in texts:  # bytes that are not UTF-8 are reported first
            pass
        raise DatasetError(f"File '{filename}' has type '{file_type}'; evaluation datasets must be JSONL or CSV.")
    facts = _Facts(filename)
    with paused_gc():
        if file_type == "csv":
            _check_csv(texts, facts)
            return facts.dataset(content, "csv")
        _check_jsonl(content, texts, facts)
        return facts.dataset(content, "jsonl")


def _check_jsonl(content: bytes, texts: Iterator[str], facts: _Facts) -> None:
    checked, checked_lines = 0, 0  # how far (decoded characters, lines) each line is known to be one object
    seen = 0  # decoded characters of the slices read so far
    for text, lines, parsed in _jsonl_slices(texts):
        seen += len(text)
        if parsed is None:  # a bad line in this slice, or one too deep for the one-call parse
            # The first bad line of the file, as a line-by-line reading from the start finds it:
            # the slices the one-call parse accepted since `checked` are read again too.
            error, checked_lines = _first_bad_line(
                _texts_from(content, checked), facts.filename, checked_lines, seen - checked
            )
            if error is not None:
                for _ in texts:  # bytes that are not UTF-8 further on are still reported first
                    pass
                raise error
            checked = seen
            parsed = [json.loads(line) for line in lines]
        facts.deeper(parsed, text)
        facts.add(parsed, "\n".join(lines).encode())


def _texts_from(content: bytes, chars: int) -> Iterator[str]:
    """The decoded slices of (already checked) `content` from its `chars`-th decoded character on."""
    for text in _texts(content, ""):
        if chars >= len(text):
            chars -= len(text)
            continue
        yield text[chars:]
        chars = 0


def _first_bad_line(texts: Iterable[str], filename: str, before: int, upto: int) -> tuple[DatasetError | None, int]:
    """The problem of the first line that is not one JSON object, reading `texts` line by line (the
    lines numbered on from `before`) up to their `upto`-th character (None when each is one), and
    the number of the last line read."""
    number, read = before, 0
    for text in texts:
        for line in text.splitlines():
            number += 1
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"is not valid JSON ({exc.msg}). Each line must be one JSON object."
                return DatasetError(f"Line {number} of '{filename}' {message}"), number
            except RecursionError:  # the parser's own guard: hundreds of levels
                message = (
                    "nests arrays and objects too deeply to be read. Flatten the row: rows may nest as deep as the "
                    f"`max_json_depth` setting (at most {MAX_JSON_DEPTH} levels)."
                )
                return DatasetError(f"Line {number} of '{filename}' {message}"), number
            if not isinstance(row, dict):
                message = f"is a JSON {type(row).__name__}, not an object. Each line must be one JSON object."
                return DatasetError(f"Line {number} of '{filename}' {message}"), number
        read += len(text)
        if read >= upto:
            break
    return None, number


def _records(texts: Iterable[str]) -> Iterator[list[str]]:
    """The non-empty CSV records of the text slices."""
    return (record for record in csv.reader(line for text in texts for line in io.StringIO(text)) if record)


def _csv_rows(texts: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The rows of (already checked) CSV text: the header's names with each record's values."""
    records = _records(texts)
    header = next(records, None)
    for record in records:
        yield dict(zip(header or (), record, strict=False))


ROWS_PER_BATCH = 1024  # CSV rows keyed and hashed at a time


def _check_csv(texts: Iterator[str], facts: _Facts) -> None:
    """A header line, then one record per row with as many values: a CSV error anywhere outranks
    a record of the wrong length, which outranks the rest."""
    records = _records(texts)
    wrong_length: str | None = None
    try:
        header = next(records, None)
        batch: list[dict[str, Any]] = []
        for number, record in enumerate(records, start=2):
            if len(record) != len(header or ()):
                if wrong_length is None:
                    wrong_length = (
                        f"Line {number} of '{facts.filename}' has {len(record)} values but the header has "
                        f"{len(header or ())} columns."
                    )
                continue
            if wrong_length is None:
                batch.append(dict(zip(header or (), record, strict=False)))
                if len(batch) == ROWS_PER_BATCH:
                    pace()
                    facts.add(batch, b"\n".join(_canonical(row).encode() for row in batch))
                    batch = []
    except csv.Error as exc:
        for _ in texts:  # bytes that are not UTF-8 further on are still reported first
            pass
        raise DatasetError(f"File '{facts.filename}' is not valid CSV ({exc}).") from None
    if wrong_length is not None:
        raise DatasetError(wrong_length)
    facts.add(batch, b"\n".join(_canonical(row).encode() for row in batch))


def written_rows(rows: Iterable[dict[str, Any]]) -> bytes:
    """Rows that come without their file (a CSV dataset read back from a state snapshot), written
    one per line, as `rows_dataset` reads them."""
    return "".join(_ascii_row(row) + "\n" for row in rows).encode()


def rows_dataset(content: bytes, filename: str) -> Dataset:
    """The dataset of rows `written_rows` wrote: keyed by canonical JSON, as a CSV file's rows are.
    The rows are checked as an upload's are (`DatasetError`)."""
    facts = _Facts(filename)
    with paused_gc():
        for _, _lines, parsed in _jsonl_slices(_texts(content, filename)):
            if parsed is None:
                raise DatasetError(f"File '{filename}' holds a line that is not one JSON object.")
            facts.add(parsed, b"\n".join(_canonical(row).encode() for row in parsed))
    return facts.dataset(content, "rows")
