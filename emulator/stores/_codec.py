"""Records as text and back, for stores that keep the state outside this process.

Everything is JSON except file bytes (kept as bytes by the store). A job's add-on data
(`Job.extensions`, by extension name) is JSON-ready by contract (`engine/_extension.py`) and is
written as it is, whatever add-ons made the job: the stores never name one.

A job's judge is not written: it is rebuilt from the job's type, parameters, seed and verdict
weights, as `engine._jobs.make_judge` builds it (identical judges are shared). The weights written
are the judge's own, so they already hold what the add-ons' `verdict_weights` made of the job's
outcome. A job's dataset is written apart, once per distinct dataset (`encode_dataset`), since
many jobs share one.

Changing what is written here changes the stored format: raise `FORMAT_VERSION`, which the stores
keep with their state, so a store written in another format is refused instead of misread.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from ..engine import _results as results
from ..engine._capacity import Capacity, CapacityLog
from ..engine._clock import ClockState
from ..engine._datasets import Dataset
from ..engine._faults import FaultRule
from ..engine._jobs import shared
from ..engine._lifecycle import Phase
from ..engine._recordings import Recording
from ..engine._scenarios import Outcome, Progression, ScenarioBook
from ..engine._store import Job, PendingUpload, RecordedRequest, StoredFile
from ..engine._validation import validate_create

# 2: a job's add-on data as JSON (`extensions`), no longer pickled; 3: journal entries keep their wall
# time, Retry-After and the status a read showed; 4: a phase may carry a fourth item, 1 when pinned, and
# a job has a `line` and a `recording`; 5: a dataset is its file's bytes and the facts its check found, no
# longer its rows
FORMAT_VERSION = 5

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads = json.loads


# ---------------------------------------------------------------- small records


def encode_file(file: StoredFile) -> str:
    return _dumps(dataclasses.asdict(file))


def decode_file(text: str) -> StoredFile:
    return StoredFile(**_loads(text))


def encode_upload(upload: PendingUpload) -> str:
    return _dumps(dataclasses.asdict(upload))


def decode_upload(text: str) -> PendingUpload:
    return PendingUpload(**_loads(text))


def encode_clock(state: ClockState) -> str:
    return _dumps(dataclasses.asdict(state))


def decode_clock(text: str) -> ClockState:
    return ClockState(**_loads(text))


def encode_json(value: Any) -> str:
    """Plain JSON data (id generator state, known keys, quota windows)."""
    return _dumps(value)


def decode_json(text: str) -> Any:
    return _loads(text)


def encode_book(book: ScenarioBook) -> str:
    return book.model_dump_json()


def decode_book(text: str) -> ScenarioBook:
    return ScenarioBook.model_validate_json(text)


def encode_rules(rules: Sequence[FaultRule]) -> str:
    return "[" + ",".join(rule.model_dump_json() for rule in rules) + "]"


def decode_rules(text: str) -> tuple[FaultRule, ...]:
    return tuple(FaultRule.model_validate(rule) for rule in _loads(text))


def _capacity_row(at: int, capacity: Capacity) -> list[Any]:
    """`[at, per_tenant, total]`, then `per_type` and `priority` only when either is set: a capacity
    without them is stored as before they existed."""
    row: list[Any] = [at, capacity.per_tenant, capacity.total]
    if capacity.per_type or capacity.priority:
        row += [dict(capacity.per_type), list(capacity.priority)]
    return row


def _capacity(row: list[Any]) -> tuple[int, Capacity]:
    at, per_tenant, total, *more = row
    per_type, priority = more if more else ({}, [])
    return at, Capacity(per_tenant, total, tuple(per_type.items()), tuple(priority))


def encode_capacity(log: CapacityLog) -> str:
    return _dumps([_capacity_row(at, capacity) for at, capacity in log.changes])


def decode_capacity(text: str) -> CapacityLog:
    return CapacityLog(tuple(_capacity(row) for row in _loads(text)))


def encode_recordings(recordings: Sequence[Recording]) -> str:
    return "[" + ",".join(recording.model_dump_json() for recording in recordings) + "]"


def decode_recordings(text: str) -> tuple[Recording, ...]:
    return tuple(Recording.model_validate(recording) for recording in _loads(text))


# ---------------------------------------------------------------- journal entries


def encode_request(entry: RecordedRequest) -> tuple[str, bytes]:
    """An entry as JSON (all but its body) and its body. Written once per request: by hand, as a
    list (`dataclasses.asdict` deep-copies)."""
    e = entry
    fields = [e.seq, e.method, e.path, e.query, e.tenant, e.route, e.route_path, e.job_id, e.file_id]
    extra = [e.key_fingerprint, e.body_size, e.body_sha256, e.wall_ns, e.retry_after_ms, e.job_status]
    return _dumps([*fields, e.status_code, e.time_ns, *extra]), e.body


def decode_request(text: str, body: bytes) -> RecordedRequest:
    seq, method, path, query, tenant, route, route_path, job_id, file_id, status_code, time_ns, *extra = _loads(text)
    return RecordedRequest(
        seq, method, path, query, body, tenant, route, route_path, job_id, file_id, status_code, time_ns, *extra
    )


# ---------------------------------------------------------------- datasets


def encode_dataset(dataset: Dataset) -> tuple[str, str, bytes]:
    """A dataset as the digest jobs refer to it by, the facts its check found (JSON), and its bytes."""
    facts = [dataset.kind, dataset.columns, dataset.row_count, dataset.fingerprint, dataset.deepest_row]
    return dataset.digest, _dumps(facts), dataset.content


def decode_dataset(text: str, content: bytes) -> Dataset:
    kind, columns, row_count, fingerprint, deepest_row = _loads(text)
    return Dataset(content, kind, tuple(columns), row_count, fingerprint, tuple(deepest_row))


# ---------------------------------------------------------------- jobs


def _phase(phase: Phase) -> list[Any]:
    """A phase as a list: status, offset, reads, then 1 only when it is pinned."""
    item: list[Any] = [phase.status, phase.offset_ns, phase.after_reads]
    return [*item, 1] if phase.pinned else item


def encode_job(job: Job) -> str:
    """A job as JSON, without its tenant, id and dataset (the store keeps those beside it)."""
    judge = job.judge
    return _dumps(
        {
            "type": job.type,
            "parameters": job.parameters,
            "judge": {"seed": judge.seed, "weights": dataclasses.asdict(judge.outcome), "key": judge.cache_key},
            "created_ns": job.created_ns,
            "phases": [_phase(p) for p in job.phases],
            "results": job.results,
            "error": job.error,
            "result_file_id": job.result_file_id,
            "result_file_deleted": job.result_file_deleted,
            "progression": job.progression.model_dump(mode="json"),
            "outcome": job.outcome.model_dump(mode="json"),
            "source": job.source,
            "problem": job.problem,
            "failed_rows": job.failed_rows,
            "extensions": dict(job.extensions),
            "line": job.line,
            "recording": job.recording,
        }
    )


def _judge(eval_type: str, parameters: dict[str, Any], data: dict[str, Any]) -> results.Judge:
    _, params = validate_create({"type": eval_type, "parameters": parameters})
    seed, key = data["seed"], data["key"]
    weights = results.Outcome(**data["weights"])

    def make() -> results.Judge:
        return results.Judge(eval_type, params, seed, weights, cache_key=key)

    # Judges made by `Jobs.judge` are shared under their key; one read back joins them.
    return shared("judge\x1f" + key, make) if key is not None else make()


def decode_job(workflow_id: str, tenant: str, text: str, dataset: Dataset | None) -> Job:
    data = _loads(text)
    return Job(
        workflow_id=workflow_id,
        tenant=tenant,
        type=data["type"],
        parameters=data["parameters"],
        judge=_judge(data["type"], data["parameters"], data["judge"]),
        created_ns=data["created_ns"],
        phases=tuple(Phase(status, offset, after, bool(pinned)) for status, offset, after, *pinned in data["phases"]),
        dataset=dataset,
        results=data["results"],
        error=data["error"],
        result_file_id=data["result_file_id"],
        result_file_deleted=data["result_file_deleted"],
        progression=Progression.model_validate(data["progression"]),
        outcome=Outcome.model_validate(data["outcome"]),
        source=data["source"],
        problem=data["problem"],
        failed_rows=data["failed_rows"],
        extensions=data["extensions"],
        line=data.get("line"),
        recording=data.get("recording"),
    )
