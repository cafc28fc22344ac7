"""Evaluation jobs: create, read on the clock, list, and the update hook (spec §3, §4, D2–D5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import lifecycle, preflight
from .clock import NS
from .datasets import DatasetError
from .errors import InvalidRequest, NotFound
from .ids import derived_uuid4
from .lifecycle import TERMINAL, Phase
from .results import Judge, is_job_failure, sorted_results, summarize
from .store import Job, StoredFile, Tenant
from .validation import validate_create
from .wire import EvaluationUpdateRequest

if TYPE_CHECKING:
    from .core import Emulator

TOO_MANY_FAILURES = ("{failed} of {total} rows failed generation or judging, more than 30%. "
                     "Check the models, templates and dataset, then run the evaluation again.")


class Jobs:
    def __init__(self, emulator: "Emulator") -> None:
        self.emulator = emulator

    # ------------------------------------------------------------ create

    def create(self, tenant: Tenant, body: Any) -> Job:
        emu = self.emulator
        eval_type, params = validate_create(body)
        now = emu.clock.now_ns()
        workflow_id = emu.ids.workflow_id(now // NS, emu.state.workflow_ids)
        emu.state.workflow_ids.add(workflow_id)
        judge = Judge(eval_type, params, emu.config.seed)
        file_id = params.input_data_file_path
        file = emu.files.find(tenant, file_id)
        dataset = results = error = None
        try:
            dataset = preflight.load(file, file_id, emu.files.content(file) if file else None)
            error = preflight.check(params, dataset, file.filename if file else file_id, emu.config)
        except DatasetError as exc:
            error = str(exc)
        terminal, result_file_id = "user_error", None
        if error is None and dataset is not None:
            results, failed = summarize(judge, dataset)
            terminal = "completed"
            if is_job_failure(failed, len(dataset.rows)):
                terminal, error, results = "error", TOO_MANY_FAILURES.format(
                    failed=failed, total=len(dataset.rows)), None
            else:
                result_file_id = "file-" + derived_uuid4(emu.config.seed, tenant.key, workflow_id, "result")
                results = sorted_results({**results, "result_file_id": result_file_id})
        rows = len(dataset.rows) if dataset else 0
        job = Job(workflow_id=workflow_id, tenant=tenant.key, type=eval_type, parameters=body["parameters"],
                  judge=judge, created_ns=now, phases=lifecycle.plan(emu.config, rows, terminal),
                  dataset=dataset, results=results, error=error, result_file_id=result_file_id)
        tenant.jobs[workflow_id] = job
        return job

    # ------------------------------------------------------------ read

    def get(self, tenant: Tenant, workflow_id: str) -> Job:
        job = tenant.jobs.get(workflow_id)
        if job is None:
            raise NotFound(f"Evaluation job '{workflow_id}' not found.")
        self.settle(tenant, job)
        return job

    def phases_reached(self, job: Job) -> list[Phase]:
        return lifecycle.reached(job.phases, self.emulator.clock.now_ns() - job.created_ns)

    def status(self, job: Job) -> str:
        return self.phases_reached(job)[-1].status

    def results(self, job: Job) -> dict[str, Any] | None:
        """The `results` object as served: null until terminal (§5.5), sorted keys (D7, sorted once)."""
        status = self.status(job)
        if status not in TERMINAL:
            return None
        if status != "completed":
            return {"error": job.error or "The evaluation job failed."}
        results = job.results or {}
        if job.result_file_id and "result_file_id" not in results:
            return sorted_results({**results, "result_file_id": job.result_file_id})
        return results

    def list(self, tenant: Tenant, *, status: str | None, limit: int) -> list[Job]:
        """Newest first, filtered on the exact status, at most `limit` (D2)."""
        found = []
        for job in reversed(tenant.jobs.values()):
            self.settle(tenant, job)
            if status is None or self.status(job) == status:
                found.append(job)
                if len(found) == limit:
                    break
        return found

    def settle(self, tenant: Tenant, job: Job) -> None:
        """Register the result file of a job that has completed by now (D8)."""
        if job.result_file_registered or not job.result_file_id or self.status(job) != "completed":
            return
        job.result_file_registered = True
        completed_ns = job.created_ns + job.terminal_phase.offset_ns
        tenant.files[job.result_file_id] = StoredFile(
            id=job.result_file_id, tenant=tenant.key, filename=f"{job.workflow_id}-results.jsonl",
            purpose="eval-output", file_type="jsonl", created_ns=completed_ns, source_job=job.workflow_id)

    def settle_all(self, tenant: Tenant) -> None:
        for job in tenant.jobs.values():
            self.settle(tenant, job)

    # ------------------------------------------------------------ update hook (D4)

    def update(self, tenant: Tenant, workflow_id: str, body: EvaluationUpdateRequest) -> Job:
        job = self.get(tenant, workflow_id)
        job.revision += 1
        now_offset = self.emulator.clock.now_ns() - job.created_ns
        if body.results is not None:
            job.results = sorted_results(dict(body.results))
            job.result_file_id = body.results.get("result_file_id", job.result_file_id)
        if body.error is not None:
            job.error = body.error
        if body.status is None:
            return job
        if body.status in ("error", "user_error") and body.error is None and job.error is None:
            raise InvalidRequest(f"Field 'error' is required to set status '{body.status}'.", param="error")
        kept = self.phases_reached(job)
        if body.status in TERMINAL:
            job.phases = kept + [Phase(body.status, now_offset)]
        else:
            terminal = job.terminal_phase.status
            rows = len(job.dataset.rows) if job.dataset else 0
            job.phases = kept + lifecycle.plan(self.emulator.config, rows, terminal, start=body.status,
                                               at_ns=now_offset)
        if body.status == "completed" and job.results is None:
            job.results = {}
        return job
