"""Emulator state: tenants, their jobs and files. Plain objects; no wire shapes here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._datasets import Dataset
from ._errors import Unauthorized
from ._faults import FaultBook
from ._ids import stable_hex
from ._lifecycle import Phase
from ._results import Judge
from ._scenarios import Outcome, Progression, ScenarioBook

if TYPE_CHECKING:
    from ..documented._api import ConvenienceRequest


@dataclass
class StoredFile:
    id: str
    tenant: str
    filename: str
    purpose: str
    file_type: str
    created_ns: int
    content: bytes | None = None  # None until the bytes arrive (or generated, for result files)
    source_job: str | None = None  # result files are generated from their job on demand
    size: int | None = None
    dataset: Dataset | None = None  # parsed once, shared by every job that reads the file

    @property
    def ready(self) -> bool:
        return self.content is not None or self.source_job is not None


@dataclass
class Job:
    workflow_id: str
    tenant: str
    type: str
    parameters: dict[str, Any]  # as submitted, echoed back on retrieve
    judge: Judge
    created_ns: int
    phases: list[Phase]
    dataset: Dataset | None
    results: dict[str, Any] | None = None  # completed results, without result_file_id
    error: str | None = None  # results.error of a failed job
    result_file_id: str | None = None
    result_file_registered: bool = False
    progression: Progression = field(default_factory=Progression)
    outcome: Outcome = field(default_factory=Outcome)
    source: dict[str, str] = field(default_factory=dict)  # which scenario level set each field
    problem: str | None = None  # the dataset problem that ends the job in user_error at running
    failed_rows: int = 0
    reads: int = 0  # GET /v1/evaluation/{id}, /status and list appearances (after_polls)
    revision: int = 0  # bumped whenever phases or results change outside the clock (update hook)
    views: dict[tuple[str, int, int], bytes] = field(default_factory=dict)  # serialized views, see views.py
    # Set only for jobs made through the documented convenience API (emulator/convenience.py).
    convenience: ConvenienceRequest | None = None

    @property
    def terminal_phase(self) -> Phase:
        """The last planned phase (it may be a stall, or not yet have an offset: see lifecycle.py)."""
        return self.phases[-1]


@dataclass
class Tenant:
    """Everything one API key owns."""

    key: str
    name: str | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)

    @property
    def owner_id(self) -> str:
        return stable_hex(f"owner:{self.key}", 24)

    @property
    def organization_id(self) -> str:
        return f"org_{stable_hex(f'org:{self.key}', 24)}"

    @property
    def project_id(self) -> str:
        return f"proj_{stable_hex(f'project:{self.key}', 24)}"


@dataclass
class PendingUpload:
    tenant: str
    file_id: str
    parts: dict[int, bytes] = field(default_factory=dict)
    multipart: bool = False


@dataclass
class State:
    """The whole store; `reset` replaces it with a new one."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    uploads: dict[str, PendingUpload] = field(default_factory=dict)  # token -> upload
    workflow_ids: set[str] = field(default_factory=set)
    scenarios: ScenarioBook = field(default_factory=ScenarioBook)
    faults: FaultBook = field(default_factory=FaultBook)
    known_keys: set[str] | None = None  # None: any key is a tenant (auth "any")

    def tenant(self, key: str) -> Tenant:
        tenant = self.tenants.get(key)
        if tenant is None:
            if self.known_keys is not None and key not in self.known_keys:
                raise Unauthorized()
            tenant = self.tenants[key] = Tenant(key)
        return tenant
