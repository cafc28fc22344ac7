"""Files: the three-step upload, direct and multipart uploads, list, retrieve, download, delete
(docs/reference/files.md).

A tenant sees three kinds of file: the built-in datasets (shared, read-only), the files it
uploaded (metadata and bytes in the store), and the result file of each of its jobs that has
completed. Result files are never stored: each is derived from its job and the clock when read,
so it exists from the instant the job completes, whoever looked or not.
"""

from __future__ import annotations

import heapq
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO, Any

from . import _builtin_datasets as builtin_datasets, _ids as ids, _lifecycle as lifecycle, _replays as replays
from ._clock import Clock, format_micros
from ._datasets import Dataset, parse_dataset
from ._errors import Forbidden, InvalidRequest, NotFound, PayloadTooLarge
from ._extension import Extension, attached
from ._results import jsonl, replay_kinds, result_file, result_row
from ._schedule import Schedule
from ._store import Job, PendingUpload, Store, StoredFile
from ._upload_tokens import UploadTokens

CACHE_LIMIT = 4096  # entries of each derived-value cache below; cleared when full
# The pass that measures a large result file before its first download keeps what it generates in
# a temporary file, in memory up to SPOOL_MEMORY bytes and on disk beyond, which the download then
# sends: the file is generated once, and never held whole in memory.
SPOOL_MEMORY = 1 << 20
READ_BYTES = 256 * 1024  # a spooled result file is sent in blocks of this size
SMALL_RESULT_BYTES = 256 * 1024  # a result file this small is made whole, and kept (`SmallResults`)


def check_size(most: int, size: int, what: str, param: str | None = None) -> None:
    """A 413 for file bytes larger than the store holds in one value (`most`: `Store.max_content_bytes`)."""
    if size > most:
        raise PayloadTooLarge(
            f"{what} is {size} bytes, more than this emulator's store holds in one file ({most} bytes; "
            "docs/limits.md). Send a smaller file, or serve the emulator on another store.",
            param=param,
            code="request_too_large",
        )


class SmallResults:
    """The bytes of small result files by what they derive from (the judge's key and the rows), in
    every emulator of the process: identical jobs (a suite creating the same job in many tests)
    share one copy instead of generating it again. At most `limit` bytes; cleared when full."""

    def __init__(self, limit: int = 16 * 1024 * 1024) -> None:
        self.limit = limit
        self._files: dict[tuple[str, str], bytes] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str] | None) -> bytes | None:
        return self._files.get(key) if key is not None else None

    def put(self, key: tuple[str, str] | None, data: bytes) -> None:
        if key is None:
            return
        with self._lock:
            if self._bytes + len(data) > self.limit:
                self._files.clear()
                self._bytes = 0
            if key not in self._files:
                self._files[key] = data
                self._bytes += len(data)


SMALL_RESULTS = SmallResults()


@dataclass(frozen=True)
class GeneratedFile:
    """A result file as it is sent: its size, known before its first byte (the `Content-Length`), and
    its chunks, generated as they are asked for (`_results.result_file`)."""

    size: int
    chunks: Iterator[bytes]


def _read_back(spool: IO[bytes]) -> Iterator[bytes]:
    """A spooled result file's bytes, block by block; the spool (and its temporary file) is closed
    at the end, or when the reader gives up."""
    try:
        spool.seek(0)
        while block := spool.read(READ_BYTES):
            yield block
    finally:
        spool.close()


def file_type_of(filename: str, given: str | None) -> str:
    if given:
        return given
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in ("jsonl", "csv", "parquet") else "jsonl"


def _made_of(job: Job) -> tuple[object, ...]:
    """What a job's result file derives from (compared by identity): its judge, dataset, add-on
    data and, for a replay, its results."""
    return (job.judge, job.dataset, job.extensions, job.results if job.recording else None)


def _not_found(file_id: str) -> NotFound:
    return NotFound(f"File '{file_id}' not found.")


def _upload_not_found() -> NotFound:
    return NotFound("Unknown upload URL: this emulator never issued it. Ask POST /v1/files for a new one.")


def _upload_spent() -> Forbidden:
    return Forbidden(
        "This upload URL is used up: its file was preprocessed, completed or deleted, or the URL expired. "
        "Ask POST /v1/files for a new one.",
        code="upload_url_used",
    )


def _upload_expired(expires_ns: int, param: str | None = None) -> Forbidden:
    return Forbidden(
        f"This upload URL expired at {format_micros(expires_ns)} (emulator time). Ask POST /v1/files for a new one.",
        param=param,
        code="upload_url_expired",
    )


class Files:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        tokens: UploadTokens,
        upload_lifetime_ns: int,
        schedule: Schedule,
        extensions: Sequence[Extension] = (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.schedule = schedule  # when each job really completes, under a capacity
        self.tokens = tokens  # issues the upload URLs' tokens, and recognises spent ones
        self.upload_lifetime_ns = upload_lifetime_ns
        self.extensions = tuple(extensions)  # add-ons that may add columns to a job's result file
        # Derived values, each kept with what it was derived from (compared by identity, so a
        # change to the bytes or the job gives a miss, never a stale value).
        self._parsed: dict[tuple[str, str], tuple[bytes, Dataset]] = {}
        self._sizes: dict[tuple[str, str], tuple[tuple[object, ...], int]] = {}

    # ------------------------------------------------------------ creation

    def new(
        self, tenant: str, *, filename: str, purpose: str, file_type: str, content: bytes | None = None
    ) -> StoredFile:
        """A new file of `tenant` with a fresh id, with its bytes or awaiting them."""
        file = StoredFile(
            id=self.store.draw(ids.file_id),
            tenant=tenant,
            filename=filename,
            purpose=purpose,
            file_type=file_type,
            created_ns=self.clock.now_ns(),
            size=len(content) if content is not None else None,
        )
        if content is not None:
            check_size(self.store.max_content_bytes, len(content), "The file")
        self.store.put_file(file)
        if content is not None:
            self.store.put_content(tenant, file.id, content)
        return file

    def put(self, file: StoredFile, content: bytes) -> StoredFile:
        """Store a file with a given id and its bytes (the files of the settings)."""
        check_size(self.store.max_content_bytes, len(content), "The file")
        file = replace(file, size=len(content))
        self.store.put_file(file)
        self.store.put_content(file.tenant, file.id, content)
        self._parsed.pop((file.tenant, file.id), None)  # the old bytes' rows: never read again
        return file

    def request_upload(
        self, tenant: str, *, filename: str, purpose: str, file_type: str, multipart: bool = False
    ) -> tuple[StoredFile, str]:
        """Step 1: a file awaiting its bytes, and the token of its upload URL (or multipart upload),
        which takes bytes for that file only, for `upload_lifetime_ns` of emulator time."""
        self._forget_expired_uploads()
        file = self.new(tenant, filename=filename, purpose=purpose, file_type=file_type)
        # The token once came from the seeded generator: its draw is kept (and thrown away) so that
        # the ids after an upload are the same as they always were for a seed.
        self.store.draw(ids.token)
        token = self.tokens.issue()
        expires_ns = self.clock.now_ns() + self.upload_lifetime_ns
        self.store.put_upload(token, PendingUpload(tenant, file.id, multipart=multipart, expires_ns=expires_ns))
        return file, token

    def pending_upload(self, token: str, *, multipart: bool, key: str | None = None) -> PendingUpload:
        """The pending upload a PUT to its URL may fill: a 404 for a token this emulator never issued
        (or a whole-file URL used for a part, or the reverse), a 403 for one used up or expired, or
        presented with another tenant's API key."""
        upload = self.store.get_upload(token)
        if upload is None:
            if self.tokens.issued(token):
                raise _upload_spent()
            raise _upload_not_found()
        if upload.multipart != multipart:
            raise _upload_not_found()
        if upload.expires_ns is not None and self.clock.now_ns() >= upload.expires_ns:
            self._forget_upload(token, upload)
            raise _upload_expired(upload.expires_ns)
        if key is not None and key != upload.tenant:
            raise Forbidden("This upload URL was issued to another API key.", code="upload_url_forbidden")
        return upload

    def receive(self, token: str, content: bytes, part: int | None = None, *, key: str | None = None) -> None:
        """Step 2: the PUT of the bytes (or of one part) to the upload URL."""
        upload = self.pending_upload(token, multipart=part is not None, key=key)
        if part is not None:
            check_size(self.store.max_content_bytes, len(content), f"Part {part}")
            self.store.put_upload_part(token, part, content)
            return
        file = self.store.get_file(upload.tenant, upload.file_id)
        if file is None:  # deleted meanwhile
            self.store.delete_upload(token)
            raise _upload_spent()
        self.put(file, content)

    def finish_upload(self, tenant: str, file_id: str) -> None:
        """Step 3 (preprocess): the file is final, so its upload URL dies."""
        for token, upload in self.store.uploads():
            if upload.tenant == tenant and upload.file_id == file_id:
                self.store.delete_upload(token)

    def _multipart_upload(self, tenant: str, token: str, file_id: str) -> PendingUpload:
        upload = self.store.get_upload(token)
        if upload is None or not upload.multipart or upload.tenant != tenant or upload.file_id != file_id:
            raise NotFound(f"Multipart upload '{token}' for file '{file_id}' not found.", param="upload_id")
        if upload.expires_ns is not None and self.clock.now_ns() >= upload.expires_ns:
            self._forget_upload(token, upload)
            raise _upload_expired(upload.expires_ns, "upload_id")
        return upload

    def complete_multipart(self, tenant: str, token: str, file_id: str, part_numbers: list[int]) -> StoredFile:
        self._multipart_upload(tenant, token, file_id)
        parts = self.store.upload_parts(token)
        missing = [n for n in part_numbers if n not in parts]
        if missing:
            raise InvalidRequest(
                f"Parts {missing} were never uploaded; PUT each part before completing.", param="parts"
            )
        file = self._stored(tenant, file_id, ready=False)
        chosen = [parts[n] for n in sorted(part_numbers)]
        check_size(
            self.store.max_content_bytes, sum(map(len, chosen)), "The file its parts make", "parts"
        )  # before joining them
        file = self.put(file, b"".join(chosen))
        self.store.delete_upload(token)
        return file

    def abort_multipart(self, tenant: str, token: str, file_id: str) -> None:
        upload = self.store.get_upload(token)
        if upload is None or upload.tenant != tenant or upload.file_id != file_id:
            raise NotFound(f"Multipart upload '{token}' for file '{file_id}' not found.", param="upload_id")
        self.store.delete_upload(token)
        self.store.delete_file(tenant, file_id)

    def _forget_upload(self, token: str, upload: PendingUpload) -> None:
        """Drop an upload that will never take bytes again, and its file if the bytes never came."""
        self.store.delete_upload(token)
        file = self.store.get_file(upload.tenant, upload.file_id)
        if file is not None and not file.ready:
            self.store.delete_file(upload.tenant, upload.file_id)

    def _forget_expired_uploads(self) -> None:
        now = self.clock.now_ns()
        for token, upload in self.store.uploads():
            if upload.expires_ns is not None and now >= upload.expires_ns:
                self._forget_upload(token, upload)

    # ------------------------------------------------------------ result files (derived)

    def result_file(self, job: Job, now_ns: int | None = None) -> StoredFile | None:
        """The result file of a job that has completed by now (and was not deleted), else None."""
        if job.result_file_id is None or job.result_file_deleted:
            return None
        if job.dataset is None and self._recorded_content(job) is None:
            return None
        done_ns = self.completed_ns(job, self.clock.now_ns() if now_ns is None else now_ns)
        if done_ns is None:
            return None
        return StoredFile(
            id=job.result_file_id,
            tenant=job.tenant,
            filename=f"{job.workflow_id}-results.jsonl",
            purpose="eval-output",
            file_type="jsonl",
            created_ns=done_ns,
            source_job=job.workflow_id,
        )

    def completed_ns(self, job: Job, now_ns: int) -> int | None:
        """The instant a job completed, when it has by `now_ns` on its schedule (a job forced on
        after completing keeps the instant it first completed), else None."""
        for phase in lifecycle.reached(self.schedule.timeline(job), now_ns - job.created_ns):
            if phase.status == "completed":
                return job.created_ns + (phase.offset_ns or 0)
        return None

    def _result_files(self, tenant: str) -> list[StoredFile]:
        now = self.clock.now_ns()
        found = [file for job in self.store.jobs(tenant) if (file := self.result_file(job, now)) is not None]
        return sorted(found, key=lambda file: (file.created_ns, file.id))

    # ------------------------------------------------------------ reading

    def _stored(self, tenant: str, file_id: str, *, ready: bool = True) -> StoredFile:
        file = self.store.get_file(tenant, file_id)
        if file is None or (ready and not file.ready):
            raise _not_found(file_id)
        return file

    def owned_file(self, tenant: str, file_id: str) -> StoredFile | None:
        """One of the tenant's own files: an upload with its bytes, or a result file (by now)."""
        file = self.store.get_file(tenant, file_id)
        if file is not None:
            return file if file.ready else None
        job = self.store.job_for_result_file(tenant, file_id)
        return self.result_file(job) if job is not None else None

    def find(self, tenant: str, file_id: str) -> StoredFile | None:
        """A file the tenant can read (its own, or a built-in dataset); None when there is no such
        file (yet). Built-in names never collide with `file-...` ids."""
        return self.owned_file(tenant, file_id) or builtin_datasets.stored_file(file_id, tenant)

    def get(self, tenant: str, file_id: str) -> StoredFile:
        """A file as `GET /v1/files/{id}` finds it, or a 404."""
        file = self.find(tenant, file_id)
        if file is None:
            raise _not_found(file_id)
        return file

    def get_pending(self, tenant: str, file_id: str) -> StoredFile:
        """An uploaded file, with its bytes or still awaiting them."""
        return self._stored(tenant, file_id, ready=False)

    def owned(self, tenant: str, *, pending: bool = False) -> list[StoredFile]:
        """The tenant's own files (no built-ins): uploads in the order they were made, and result
        files merged in by `created_at` (the instant the job completed).

        The order is a function of the state and the clock alone: at equal `created_at`, uploads
        come before result files, and result files are ordered by id. `pending=True` keeps the
        uploads still awaiting their bytes (state export)."""
        uploads: Iterable[StoredFile] = self.store.files(tenant)
        if not pending:
            uploads = [file for file in uploads if file.ready]
        return list(heapq.merge(uploads, self._result_files(tenant), key=lambda file: file.created_ns))

    def list(self, tenant: str) -> list[StoredFile]:
        """`GET /v1/files`: the built-in datasets first (their created_at predates every upload),
        then the tenant's own files (`owned`)."""
        return builtin_datasets.stored_files(tenant) + self.owned(tenant)

    def content(self, file: StoredFile) -> bytes:
        """The file's bytes, whole; a result file is generated from its job (a pure function of it)."""
        made = self.content_loader(file)()
        return made if isinstance(made, bytes) else b"".join(made.chunks)

    def content_loader(self, file: StoredFile) -> Callable[[], bytes | GeneratedFile]:
        """The file's content in two steps: what it derives from is read from the store now, and the
        returned function makes it, reading nothing more: an upload's bytes, or a result file's.

        A small result file comes whole (made once for identical jobs: `SMALL_RESULTS`); a larger
        one as a `GeneratedFile`, generated chunk by chunk as it is read when its size is known,
        else generated once now to measure it (that takes long) into a spooled temporary file,
        which is then read back."""
        if file.source_job is not None:
            job = self._job_of(file)
            recorded = self._recorded_content(job)
            whole = recorded if recorded is not None else SMALL_RESULTS.get(self._content_key(job))
            if whole is not None:  # a recorded file, or a small one made already
                return lambda: whole
            known = self._known_size(file)

            def generate() -> bytes | GeneratedFile:
                if known is not None and known > SMALL_RESULT_BYTES:
                    return GeneratedFile(known, self._chunks(job))
                spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
                try:
                    size, data = self._measure(file, job, spool)
                except BaseException:
                    spool.close()
                    raise
                if data is not None:
                    spool.close()
                    return data
                return GeneratedFile(size, _read_back(spool))

            return generate
        builtin = builtin_datasets.get(file.id)  # built-in names never collide with `file-...` ids
        if builtin is not None:
            return builtin.content
        data = self.store.get_content(file.tenant, file.id)
        if data is None:
            raise _not_found(file.id)
        return lambda: data

    def _job_of(self, file: StoredFile) -> Job:
        job = self.store.get_job(file.tenant, file.source_job or "")
        if job is None:
            raise _not_found(file.id)
        return job

    def serves_recorded_file(self, job: Job) -> bool:
        """Whether the job's result file is the one its recording carries (served as recorded)."""
        return self._recorded_content(job) is not None

    def verdict_kinds(self, job: Job) -> Sequence[str] | None:
        """The verdict each row of the job's generated result file is forced to: a replay's rows add up
        to its recorded results (`replay_kinds`); None: the rows as the judge draws them."""
        if job.recording is None or job.dataset is None:
            return None
        try:
            return replay_kinds(job.judge, job.dataset, job.results or {})
        except ValueError:  # results the update hook set since: the rows as drawn
            return None

    def _recorded_content(self, job: Job) -> bytes | None:
        """The result file a replayed job's recording carries, if it carries one."""
        recording = replays.find(self.store, job.recording) if job.recording is not None else None
        return None if recording is None or recording.result_file is None else recording.result_file.encode()

    def _chunks(self, job: Job) -> Iterator[bytes]:
        """A job's generated result file (not a recorded one: `_recorded_content`), chunk by chunk:
        the real rows (a replay's with verdicts that add up to the recorded results), plus the fields
        of the add-ons whose data it carries. Nothing is generated before the first chunk is asked for."""
        assert job.dataset is not None  # result files exist only for jobs with a dataset (or a recorded file)
        kinds = self.verdict_kinds(job)
        adding = attached(self.extensions, job.extensions)
        if not adding:
            yield from result_file(job.judge, job.dataset, kinds)
            return
        yield self._with_fields(job, adding, kinds)

    def _with_fields(self, job: Job, adding: Sequence[tuple[Extension, Any]], kinds: Sequence[str] | None) -> bytes:
        """A result file with add-on fields, made whole: an add-on's fields may depend on every row's
        verdict (the documented API's metrics do), and add-on jobs run on the built-in datasets."""
        assert job.dataset is not None
        verdicts = list(job.judge.verdicts(job.dataset, kinds))
        rows = [result_row(job.judge, verdict) for verdict in verdicts]
        for extension, data in adding:
            fields = extension.result_fields(job, data, verdicts)
            if fields is None:
                continue
            for row, extra in zip(rows, fields, strict=True):
                row.update(extra)
        return jsonl(rows)

    def _measure(self, file: StoredFile, job: Job, spool: IO[bytes] | None = None) -> tuple[int, bytes | None]:
        """A result file's size, by generating it once (remembered for its job's content), and its
        bytes when it is small (kept for identical jobs too: `SMALL_RESULTS`). A larger one's bytes
        go to `spool` when given, else they are dropped as they come."""
        size, kept = 0, []
        for chunk in self._chunks(job):
            size += len(chunk)
            if size <= SMALL_RESULT_BYTES:
                kept.append(chunk)
                continue
            if spool is not None:
                spool.writelines(kept)
                spool.write(chunk)
            kept.clear()
        self._remember_size(file, job, size)
        if size > SMALL_RESULT_BYTES:
            return size, None
        data = b"".join(kept)
        SMALL_RESULTS.put(self._content_key(job), data)
        return size, data

    def _content_key(self, job: Job) -> tuple[str, str] | None:
        """What a job's result file derives from, when that is its judge and rows alone (no add-on
        data on the job, which could make it depend on the job itself, and no recording replayed,
        whose results it adds up to); None otherwise."""
        if job.dataset is None or job.judge.cache_key is None or job.recording is not None:
            return None
        if attached(self.extensions, job.extensions):
            return None
        return job.judge.cache_key, job.dataset.digest

    def dataset(self, file: StoredFile) -> Dataset:
        """The parsed rows of a file, parsed once per content; raises DatasetError."""
        return self.dataset_loader(file)()

    def dataset_loader(self, file: StoredFile) -> Callable[[], Dataset]:
        """`dataset(file)` in two steps: the bytes are read from the store now, and the returned
        function parses them (once per content), reading nothing more from the store."""
        builtin = builtin_datasets.get(file.id)
        if builtin is not None:
            return builtin.dataset
        content = self.content(file)
        return lambda: self._parse(file, content)

    def _parse(self, file: StoredFile, content: bytes) -> Dataset:
        key = (file.tenant, file.id)
        cached = self._parsed.get(key)
        if cached is not None and cached[0] is content:
            return cached[1]
        dataset = parse_dataset(content, file.file_type, file.filename)
        if len(self._parsed) >= CACHE_LIMIT:
            self._parsed.clear()
        self._parsed[key] = (content, dataset)
        return dataset

    def size(self, file: StoredFile) -> int:
        """The file's `bytes`. A result file's is measured on its generated content, once for each
        (judge, dataset, add-on data, replayed results) its job has had: what the content derives from."""
        return self.size_loader(file)()

    def size_loader(self, file: StoredFile) -> Callable[[], int]:
        """`size(file)` in two steps, as `content_loader`: measuring a result file takes long."""
        known = self._known_size(file)
        if known is not None:
            return lambda: known
        job = self._job_of(file)
        recorded = self._recorded_content(job)
        if recorded is not None:
            return lambda: len(recorded)
        return lambda: self._measure(file, job)[0]

    def size_known(self, file: StoredFile) -> bool:
        """Whether `size(file)` is at hand: an upload's, or a result file's measured already."""
        return self._known_size(file) is not None

    def _known_size(self, file: StoredFile) -> int | None:
        if file.size is not None:
            return file.size
        job = self._job_of(file)
        cached = self._sizes.get((file.tenant, file.id))
        if cached is not None and all(a is b for a, b in zip(cached[0], _made_of(job), strict=True)):
            return cached[1]
        small = SMALL_RESULTS.get(self._content_key(job))
        return len(small) if small is not None else None

    def _remember_size(self, file: StoredFile, job: Job, size: int) -> None:
        if len(self._sizes) >= CACHE_LIMIT:
            self._sizes.clear()
        self._sizes[(file.tenant, file.id)] = (_made_of(job), size)

    def delete(self, tenant: str, file_id: str) -> StoredFile:
        """Delete an upload or a result file (a result file stays deleted: its job remembers it)."""
        if self.store.get_file(tenant, file_id) is None and builtin_datasets.get(file_id) is not None:
            raise builtin_datasets.read_only_error(file_id)
        file = self.get(tenant, file_id)
        if file.source_job is not None:
            self.store.put_job(replace(self._job_of(file), result_file_deleted=True))
        else:
            self.store.delete_file(tenant, file_id)
            self.finish_upload(tenant, file_id)
            self._parsed.pop((tenant, file_id), None)  # its bytes and rows go with it
        return file
