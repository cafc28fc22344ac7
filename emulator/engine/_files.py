"""Files: the three-step upload, direct and multipart uploads, list, retrieve, download, delete (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..documented._metrics import benchmark_result_file
from . import _builtin_datasets as builtin_datasets
from ._errors import InvalidRequest, NotFound
from ._results import result_file
from ._store import PendingUpload, StoredFile, Tenant

if TYPE_CHECKING:
    from ..http._core import Emulator

UPLOAD_PREFIX = "/_emulator/uploads/"


def file_type_of(filename: str, given: str | None) -> str:
    if given:
        return given
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in ("jsonl", "csv", "parquet") else "jsonl"


class Files:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    # ------------------------------------------------------------ creation

    def new(
        self, tenant: Tenant, *, filename: str, purpose: str, file_type: str, content: bytes | None = None
    ) -> StoredFile:
        emu = self.emulator
        file = StoredFile(
            id=emu.ids.file_id(),
            tenant=tenant.key,
            filename=filename,
            purpose=purpose,
            file_type=file_type,
            created_ns=emu.clock.now_ns(),
            content=content,
        )
        tenant.files[file.id] = file
        return file

    def request_upload(self, tenant: Tenant, *, filename: str, purpose: str, file_type: str) -> tuple[StoredFile, str]:
        """Step 1: a file awaiting its bytes, and the token of its upload URL."""
        file = self.new(tenant, filename=filename, purpose=purpose, file_type=file_type)
        token = self.emulator.ids.token()
        self.emulator.state.uploads[token] = PendingUpload(tenant=tenant.key, file_id=file.id)
        return file, token

    def receive(self, token: str, content: bytes, part: int | None = None) -> None:
        """Step 2: the PUT of the bytes (or of one part) to the upload URL."""
        upload = self.emulator.state.uploads.get(token)
        if upload is None or (part is not None) != upload.multipart:
            raise NotFound("Unknown or expired upload URL. Ask POST /v1/files for a new one.")
        if part is not None:
            upload.parts[part] = content
            return
        file = self.emulator.state.tenant(upload.tenant).files.get(upload.file_id)
        if file is None:
            raise NotFound("Unknown or expired upload URL. Ask POST /v1/files for a new one.")
        file.content = content
        file.dataset = None

    def complete_multipart(self, tenant: Tenant, token: str, file_id: str, part_numbers: list[int]) -> StoredFile:
        upload = self.emulator.state.uploads.get(token)
        if upload is None or not upload.multipart or upload.tenant != tenant.key or upload.file_id != file_id:
            raise NotFound(f"Multipart upload '{token}' for file '{file_id}' not found.", param="upload_id")
        missing = [n for n in part_numbers if n not in upload.parts]
        if missing:
            raise InvalidRequest(
                f"Parts {missing} were never uploaded; PUT each part before completing.", param="parts"
            )
        file = self._get(tenant, file_id, ready=False)
        file.content = b"".join(upload.parts[n] for n in sorted(part_numbers))
        del self.emulator.state.uploads[token]
        return file

    def abort_multipart(self, tenant: Tenant, token: str, file_id: str) -> None:
        upload = self.emulator.state.uploads.get(token)
        if upload is None or upload.tenant != tenant.key or upload.file_id != file_id:
            raise NotFound(f"Multipart upload '{token}' for file '{file_id}' not found.", param="upload_id")
        del self.emulator.state.uploads[token]
        tenant.files.pop(file_id, None)

    # ------------------------------------------------------------ reading

    def find(self, tenant: Tenant, file_id: str) -> StoredFile | None:
        file = tenant.files.get(file_id)
        if file is None:  # a built-in dataset, with its rows parsed (once per process)
            return builtin_datasets.stored_file(file_id, tenant.key, parsed=True)
        return file if file.ready else None

    def _get(self, tenant: Tenant, file_id: str, *, ready: bool = True) -> StoredFile:
        file = tenant.files.get(file_id)
        if file is None or (ready and not file.ready):
            raise NotFound(f"File '{file_id}' not found.")
        return file

    def get(self, tenant: Tenant, file_id: str) -> StoredFile:
        self.emulator.jobs.settle_all(tenant)
        if file_id not in tenant.files and (builtin := builtin_datasets.stored_file(file_id, tenant.key)):
            return builtin
        return self._get(tenant, file_id)

    def get_pending(self, tenant: Tenant, file_id: str) -> StoredFile:
        return self._get(tenant, file_id, ready=False)

    def list(self, tenant: Tenant) -> list[StoredFile]:
        self.emulator.jobs.settle_all(tenant)
        # Built-in datasets first (their created_at predates every upload), then the tenant's own, oldest first.
        return builtin_datasets.stored_files(tenant.key) + [file for file in tenant.files.values() if file.ready]

    def content(self, file: StoredFile) -> bytes:
        """The file's bytes; a result file is generated from its job (a pure function of it)."""
        if file.content is not None:
            return file.content
        job = self.emulator.state.tenant(file.tenant).jobs[file.source_job or ""]
        assert job.dataset is not None
        if job.convenience is not None:  # documented-API jobs add their benchmark columns
            data = benchmark_result_file(job)
        else:
            data = result_file(job.judge, job.dataset)
        file.size = len(data)
        return data

    def size(self, file: StoredFile) -> int:
        if file.content is not None:
            return len(file.content)
        if file.size is None:
            self.content(file)
        return file.size or 0

    def delete(self, tenant: Tenant, file_id: str) -> StoredFile:
        if file_id not in tenant.files and builtin_datasets.get(file_id) is not None:
            raise builtin_datasets.read_only_error(file_id)
        file = self.get(tenant, file_id)
        del tenant.files[file_id]
        return file
