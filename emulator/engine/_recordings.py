"""Recordings (docs/recordings.md): the JSON a real client got from `GET /v1/evaluation/{id}`,
optionally with the job's result file, as a value the store keeps and a new job replays
(`_replays.py`). Timestamps are read to the nanosecond: offsets are exact."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._clock import NS
from ._parameters import TERMINAL, EvalType, Status
from ._scenarios import RECORDING_NAME

BUILTIN_PREFIX = "example-"  # the names of the built-in recordings; an added one may not take it


def instant_ns(stamp: str) -> int:
    """Epoch nanoseconds of an RFC 3339 time with any number of fraction digits (the API's
    `2025-06-30T12:50:40.722334754Z`), exactly; raises ValueError on anything else."""
    text = stamp.strip()
    zone = ""
    for suffix in ("Z", "z"):
        if text.endswith(suffix):
            text, zone = text[:-1], "+00:00"
    if not zone and len(text) > 6 and text[-6] in "+-" and text[-3] == ":":
        text, zone = text[:-6], text[-6:]
    whole, _, fraction = text.partition(".")
    if "T" not in whole or not zone or (fraction and not fraction.isdigit()):
        raise ValueError(f"{stamp!r} is not an RFC 3339 time with a zone, e.g. 2025-06-30T12:50:40.722334754Z")
    try:
        seconds = int(datetime.fromisoformat(whole + zone).timestamp())
    except ValueError:
        raise ValueError(f"{stamp!r} is not an RFC 3339 time") from None
    return seconds * NS + int((fraction + "000000000")[:9])


class RecordedUpdate(BaseModel):
    """One entry of a job's `status_updates`."""

    model_config = ConfigDict(extra="allow")

    status: Status
    message: str | None = None
    timestamp: str

    @field_validator("timestamp")
    @classmethod
    def _an_instant(cls, value: str) -> str:
        instant_ns(value)  # raises ValueError, named after the field by pydantic
        return value


class RecordedJob(BaseModel):
    """A job as `GET /v1/evaluation/{id}` answered it. The keys a replay uses are checked; the
    others (`workflow_id`, `owner_id`, `updated_at`, ...) are kept as they came."""

    model_config = ConfigDict(extra="allow")

    type: EvalType
    status_updates: list[RecordedUpdate] = Field(min_length=1)
    parameters: dict[str, Any] | None = None
    results: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _a_timeline(self) -> RecordedJob:
        updates = self.status_updates
        if updates[0].status != "pending":
            raise ValueError(f"status_updates must start with 'pending' (the creation), not '{updates[0].status}'")
        for index, (before, after) in enumerate(zip(updates, updates[1:], strict=False), 1):
            if before.status in TERMINAL:
                raise ValueError(f"status_updates.{index}: nothing follows the end ('{before.status}')")
            if instant_ns(after.timestamp) < instant_ns(before.timestamp):
                raise ValueError(f"status_updates.{index}: its timestamp is before the one of the update before it")
        final = updates[-1].status
        if final == "completed" and not isinstance(self.results, dict):
            raise ValueError("a completed job has its results (an object)")
        if final in ("error", "user_error") and self.results is not None:
            if not isinstance(self.results.get("error", ""), str):
                raise ValueError("results.error of a failed job is a string")
        return self


class Recording(BaseModel):
    """A recorded job (`job`: what `GET /v1/evaluation/{id}` answered), its result file as JSONL
    text when it was kept, and where it comes from (free text)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=RECORDING_NAME)
    job: RecordedJob
    result_file: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _a_result_file_of_a_completed_job(self) -> Recording:
        if self.result_file is None:
            return self
        if self.final != "completed":
            raise ValueError(f"only a completed job has a result file; this one ends '{self.final}'")
        for number, line in enumerate(self.result_file.splitlines(), 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    raise ValueError(f"result_file line {number} is not JSON") from None
                if not isinstance(row, dict):
                    raise ValueError(f"result_file line {number} is not a JSON object")
        return self

    @property
    def final(self) -> Status:
        """The last recorded status."""
        return self.job.status_updates[-1].status

    def timeline(self) -> list[tuple[Status, int]]:
        """Each recorded status with its offset from the first update (the creation), in ns."""
        updates = self.job.status_updates
        start = instant_ns(updates[0].timestamp)
        return [(update.status, instant_ns(update.timestamp) - start) for update in updates]

    def offsets_seconds(self) -> list[tuple[Status, float]]:
        """The recorded timeline in seconds from the creation (for listings)."""
        return [(status, offset / NS) for status, offset in self.timeline()]
