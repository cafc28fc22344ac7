"""The documented API as an add-on: everything it adds to the emulator, through the one extension point.

`DocumentedApi` claims documented create bodies (`{model, evaluation_type, dataset}` and no
`type`) and creates a real job for each, keeping the request as the job's add-on data. From that
data alone it gives the job's verdicts the model's seeded skill, adds the benchmark columns to the
job's result file and the documented fields to its views, and declares its wire models beside the
real ones in the route table. The package registers it as a default add-on of every `Emulator`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from ..engine._errors import InvalidRequest
from ..engine._results import DEFAULT_OUTCOME
from ..engine._validation import json_type
from ..http._extension import ApiExtension, ViewKind
from ..http._wire import EvaluationCreateRequest, EvaluationCreateResponse, EvaluationJob, EvaluationStatusResponse
from . import _api as api
from ._metrics import Summaries, result_fields, row_checks, skill_outcome

if TYPE_CHECKING:
    from ..engine._engine import Engine
    from ..engine._parameters import ClassifyParameters, CompareParameters, ScoreParameters
    from ..engine._results import Outcome, RowVerdict
    from ..engine._store import Job, Tenant

NAME = "documented"


class DocumentedApi(ApiExtension):
    """The documented (not real) evaluation API, served beside the real contract."""

    name = NAME
    alternatives = {
        EvaluationCreateRequest: api.DocumentedCreateRequest,
        EvaluationCreateResponse: api.DocumentedCreateResponse,
        EvaluationJob: api.DocumentedEvaluationJob,
        EvaluationStatusResponse: api.DocumentedStatusResponse,
    }
    create_description = (
        "Or the documented one (`model`, `evaluation_type`, `dataset`), which answers with its extra fields."
    )

    def __init__(self) -> None:
        self.summaries = Summaries()

    # ------------------------------------------------------------ creating a job

    def claims(self, body: Any) -> bool:
        return api.is_documented(body)

    def create(self, engine: Engine, tenant: Tenant, body: Any) -> api.DocumentedCreateResponse:
        request = api.parse_request(body)
        job = engine.jobs.create(tenant, api.real_body(request), extensions={NAME: request.data()})
        return api.create_response(job, request)

    def verdict_weights(
        self,
        eval_type: str,
        params: ClassifyParameters | ScoreParameters | CompareParameters,
        seed: int,
        data: Any,
        weights: Outcome,
    ) -> Outcome:
        """The model's seeded skill sets the verdict distribution, unless a scenario already chose a
        non-default one for the job."""
        if weights != DEFAULT_OUTCOME:
            return weights
        request = api.JobRequest.of(data)
        return skill_outcome(eval_type, seed, request.model, request.dataset, request.baseline_model)

    # ------------------------------------------------------------ what a job shows

    def result_fields(self, job: Job, data: Any, verdicts: Sequence[RowVerdict]) -> list[dict[str, Any]]:
        """`judged_correct`, `model_answer` and `reference_match` on every row."""
        request = api.JobRequest.of(data)
        assert job.dataset is not None  # result files exist only for jobs with a dataset
        return result_fields(row_checks(job.judge, job.dataset, request.model, request.dataset, verdicts))

    def job_view(self, engine: Engine, job: Job, data: Any, view: EvaluationJob) -> EvaluationJob:
        return api.documented_job_view(engine, job, api.JobRequest.of(data), self.summaries, view)

    def status_view(
        self, engine: Engine, job: Job, data: Any, view: EvaluationStatusResponse
    ) -> EvaluationStatusResponse:
        return api.documented_status_view(engine, job, api.JobRequest.of(data), self.summaries, view)

    def view_key(self, engine: Engine, job: Job, data: Any, kind: ViewKind) -> Hashable:
        """The status view's `progress` moves with the clock; everything else follows the job record."""
        return api.progress(engine, job) if kind == "status" else None

    # ------------------------------------------------------------ snapshots

    def import_data(self, data: Any) -> dict[str, Any]:
        """A documented job's data from a snapshot, checked as its create body was."""
        if not isinstance(data, dict):
            raise InvalidRequest(f"must be an object (a documented create request), got {json_type(data)}.")
        return api.parse_request(data).data()
