"""The HTTP side of the extension point: what an add-on adds to the Together API.

`ApiExtension` extends the engine's `Extension` (verdicts, result-file columns, snapshot data) with
what the HTTP layer asks of an add-on: the create bodies it claims, the wire models it adds to the
route table (and so to `/openapi.json`), any routes of its own, and its extra fields on job views.
`route_table` (`_routes.py`) puts its models and routes in the table; the create handler offers it
each body; the views (`_views.py`) add its fields.
An `Emulator` is built with a list of them (`Emulator(extensions=[...])`); neither the engine nor
this layer ever names one. The package registers its own add-ons as the default list
(`_default_extensions.register_default`), so `Emulator()` is the whole product and
`Emulator(extensions=[])` the real contract alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from ..engine._extension import Extension

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..engine._engine import Engine
    from ..engine._store import Job, Tenant
    from ._routing import Route, Schema
    from ._wire import EvaluationJob, EvaluationStatusResponse

ViewKind = Literal["job", "status"]  # retrieve and list items; status


class ApiExtension(Extension):
    """An add-on to the Together API. Every hook has a neutral default; an add-on overrides what it
    adds. Its view hooks run only for jobs that carry its data (`Job.extensions[name]`)."""

    # Real wire model -> the add-on's alternative to it: wherever the route table declares the real
    # model (a request body, an answer, a list item), the alternative is declared beside it, so
    # `/openapi.json` describes the add-on's bodies and fields too.
    alternatives: Mapping[type[BaseModel], Schema] = MappingProxyType({})
    # A sentence added to the description of a route whose body the add-on may claim.
    create_description: str = ""

    def routes(self) -> Sequence[Route]:
        """Routes of its own, added to the route table (and the OpenAPI document) as declared."""
        return ()

    def claims(self, body: Any) -> bool:
        """Whether a `POST /v1/evaluation` body is the add-on's to create (the first add-on that
        claims a body creates it; an unclaimed body is the real contract's)."""
        return False

    def create(self, engine: Engine, tenant: Tenant, body: Any) -> BaseModel:
        """Create the job a claimed body asks for (through `engine.jobs.create`, passing the add-on's
        data) and return the answer's wire model."""
        raise NotImplementedError(f"extension {self.name!r} claims create bodies but does not create them")

    def job_view(self, engine: Engine, job: Job, data: Any, view: EvaluationJob) -> EvaluationJob:
        """The retrieve (and list item) view of a job carrying the add-on's `data`: the real view
        given, with the add-on's fields added after the real ones."""
        return view

    def status_view(
        self, engine: Engine, job: Job, data: Any, view: EvaluationStatusResponse
    ) -> EvaluationStatusResponse:
        """The status view of a job carrying the add-on's `data`, as `job_view`."""
        return view

    def view_key(self, engine: Engine, job: Job, data: Any, kind: ViewKind) -> Hashable:
        """What the add-on's fields of a `kind` view depend on beyond the job record and the phases
        it has reached (the clock, say); serialized views are cached under it. None: nothing more."""
        return None


def api_extensions(engine: Engine) -> tuple[ApiExtension, ...]:
    """The engine's add-ons that extend the Together API, in registration order."""
    return tuple(extension for extension in engine.extensions if isinstance(extension, ApiExtension))


def attached_api(engine: Engine, job: Job) -> list[tuple[ApiExtension, Any]]:
    """The API add-ons whose data `job` carries, with that data."""
    if not job.extensions:  # a real-contract job (most): no add-on to look for
        return []
    return [(ext, job.extensions[ext.name]) for ext in api_extensions(engine) if ext.name in job.extensions]
