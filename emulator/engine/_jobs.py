"""Evaluation jobs: create, read on the clock, list, the update hook (spec §3, §4, D2–D5), and the
control plane's moves (advance one job, force a status, attach a scenario to one job)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _lifecycle as lifecycle
from . import _magic as magic
from . import _preflight as preflight
from ._clock import NS
from ._datasets import DatasetError
from ._errors import Conflict, InvalidRequest, NotFound
from ._ids import derived_uuid4
from ._lifecycle import TERMINAL, Phase
from ._results import Judge, canonical, is_job_failure, sorted_results, summarize
from ._scenarios import CreateContext, Outcome, Progression, Scenario, verdict_weights
from ._store import Job, StoredFile, Tenant
from ._validation import validate_create

if TYPE_CHECKING:
    from ..http._core import Emulator

TOO_MANY_FAILURES = (
    "{failed} of {total} rows failed generation or judging, more than 30%. "
    "Check the models, templates and dataset, then run the evaluation again."
)
SHARED_LIMIT = 1024  # distinct job configurations whose immutable values are shared

# Immutable values that identical jobs share, across every emulator of the process: judges, echoed
# parameters and summaries are pure functions of their key, so a suite that creates the same job in
# many tests computes it once. Bounded; cleared when full.
_SHARED: dict[str, Any] = {}


def shared(key: str, make: Callable[[], Any]) -> Any:
    value = _SHARED.get(key)
    if value is None:
        if len(_SHARED) >= SHARED_LIMIT:
            _SHARED.clear()
        value = _SHARED[key] = make()
    return value


DEFAULT_ERRORS = {
    "error": "The evaluation job failed because of an internal error. Please run it again.",
    "user_error": "The evaluation job failed because of a problem with its request or dataset.",
}


def settings_scenario(emulator: Emulator) -> Scenario:
    """The bottom level of scenario resolution: what the server settings say."""
    config = emulator.config
    polls = config.polls_per_phase if config.progression == "after_polls" else None
    return Scenario(progression=Progression(mode=config.progression, polls=polls), outcome=Outcome())


class Jobs:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    # ------------------------------------------------------------ create

    def create(self, tenant: Tenant, body: Any) -> Job:
        emu = self.emulator
        eval_type, params = validate_create(body)
        magic_scenario = magic.scenario_of(params)
        now = emu.clock.now_ns()
        workflow_id = emu.ids.workflow_id(now // NS, emu.state.workflow_ids)
        emu.state.workflow_ids.add(workflow_id)
        file_id = params.input_data_file_path
        file = emu.files.find(tenant, file_id)
        context = CreateContext(
            tenant.key, tenant.name, eval_type, body["parameters"], file_id, file.filename if file else None
        )
        chosen = emu.state.scenarios.resolve(context, magic=magic_scenario, base=settings_scenario(emu))
        echoed = body["parameters"]
        echoed = shared("parameters\x1f" + canonical(echoed), lambda: echoed)
        job = Job(
            workflow_id=workflow_id,
            tenant=tenant.key,
            type=eval_type,
            parameters=echoed,
            judge=self.judge(eval_type, params, chosen.outcome),
            created_ns=now,
            phases=[],
            dataset=None,
            progression=chosen.progression,
            outcome=chosen.outcome,
            source=chosen.source,
        )
        self._load(job, file, magic_scenario is not None)
        self._judge(job)
        path, job.error = self.route(job)
        job.phases = lifecycle.plan(job.progression, path, emu.config, rows=self._rows(job))
        tenant.jobs[workflow_id] = job
        return job

    def _load(self, job: Job, file: StoredFile | None, magic_model: bool) -> None:
        emu, params = self.emulator, job.judge.params
        # A magic judge model is never checked against the strict-models allowlist.
        config = emu.config.model_copy(update={"strict_models": False}) if magic_model else emu.config
        try:
            job.dataset = preflight.load(file, params.input_data_file_path, emu.files.content(file) if file else None)
            job.problem = preflight.check(
                params, job.dataset, file.filename if file else params.input_data_file_path, config
            )
        except DatasetError as exc:
            job.problem = str(exc)
        if job.dataset is not None and job.problem is None:
            job.result_file_id = "file-" + derived_uuid4(emu.config.seed, job.tenant, job.workflow_id, "result")

    def judge(self, eval_type: str, params: Any, outcome: Outcome) -> Judge:
        """The judge of a job configuration under an outcome, shared by identical jobs."""
        weights = verdict_weights(outcome, params)
        seed = self.emulator.config.seed
        key = f"{seed}\x1f{eval_type}\x1f{params!r}\x1f{weights!r}"
        return shared("judge\x1f" + key, lambda: Judge(eval_type, params, seed, weights, cache_key=key))

    def _judge(self, job: Job) -> None:
        """Verdicts and aggregates under the job's outcome (a pure function of seed, config, rows)."""
        job.judge = self.judge(job.type, job.judge.params, job.outcome)
        if job.dataset is not None and job.problem is None:
            judge, dataset = job.judge, job.dataset
            results, job.failed_rows = shared(
                f"summary\x1f{judge.cache_key}\x1f{dataset.fingerprint}", lambda: summarize(judge, dataset)
            )
            # Stored as served (sorted, with result_file_id) so `results()` returns it as is.
            job.results = sorted_results({**results, "result_file_id": job.result_file_id})

    @staticmethod
    def _rows(job: Job) -> int:
        return len(job.dataset.rows) if job.dataset else 0

    def route(self, job: Job) -> tuple[list[str], str | None]:
        """The statuses the job goes through from pending, given its outcome and its dataset, and
        the `results.error` it ends with (None when it completes or stalls)."""
        path = lifecycle.statuses(job.outcome)
        if job.problem is not None and "running" in path:  # dataset checks happen on reaching running
            return path[: path.index("running") + 1] + ["user_error"], job.problem
        if job.outcome.kind == "completed" and is_job_failure(job.failed_rows, self._rows(job)):
            return path[:-1] + ["error"], TOO_MANY_FAILURES.format(failed=job.failed_rows, total=self._rows(job))
        if job.outcome.kind in DEFAULT_ERRORS:
            return path, job.outcome.message or DEFAULT_ERRORS[job.outcome.kind]
        return path, None

    # ------------------------------------------------------------ read

    def _find(self, tenant: Tenant, workflow_id: str) -> Job:
        job = tenant.jobs.get(workflow_id)
        if job is None:
            raise NotFound(f"Evaluation job '{workflow_id}' not found.")
        return job

    def get(self, tenant: Tenant, workflow_id: str) -> Job:
        """A client's read of one job (retrieve or status): counts toward `after_polls`."""
        job = self._find(tenant, workflow_id)
        self._read(job)
        self.settle(tenant, job)
        return job

    def _elapsed(self, job: Job) -> int:
        return self.emulator.clock.now_ns() - job.created_ns

    def _read(self, job: Job, commit: bool = True) -> list[Phase]:
        phases = lifecycle.on_read(job.phases, self._elapsed(job), job.reads + 1)
        if commit:
            job.reads += 1
            job.phases = phases
        return phases

    def phases_reached(self, job: Job) -> list[Phase]:
        return lifecycle.reached(job.phases, self._elapsed(job))

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
        """Newest first, filtered on the exact status, at most `limit` (D2). Each job listed counts
        as one read of it (`after_polls`); jobs the filter leaves out do not."""
        found = []
        for job in reversed(tenant.jobs.values()):
            seen = lifecycle.reached(self._read(job, commit=False), self._elapsed(job))[-1].status
            if status is None or seen == status:
                self._read(job)
                self.settle(tenant, job)
                found.append(job)
                if len(found) == limit:
                    break
        return found

    def terminal_ns(self, job: Job) -> int | None:
        """The clock instant the job ends by itself, or None when it stalls or waits on reads or
        on the control plane (`after_polls`, `manual`)."""
        last = job.phases[-1]
        if last.status not in TERMINAL or last.offset_ns is None:
            return None
        return job.created_ns + last.offset_ns

    def settle(self, tenant: Tenant, job: Job) -> None:
        """Register the result file of a job that has completed by now (D8)."""
        if job.result_file_registered or not job.result_file_id or self.status(job) != "completed":
            return
        job.result_file_registered = True
        completed_ns = job.created_ns + (self.phases_reached(job)[-1].offset_ns or 0)
        tenant.files[job.result_file_id] = StoredFile(
            id=job.result_file_id,
            tenant=tenant.key,
            filename=f"{job.workflow_id}-results.jsonl",
            purpose="eval-output",
            file_type="jsonl",
            created_ns=completed_ns,
            source_job=job.workflow_id,
        )

    def settle_all(self, tenant: Tenant) -> None:
        for job in tenant.jobs.values():
            self.settle(tenant, job)

    # ------------------------------------------------------------ moving a job

    def locate(self, workflow_id: str) -> tuple[Tenant, Job]:
        """A job by id in whichever tenant owns it (the control plane has no tenant)."""
        for tenant in self.emulator.state.tenants.values():
            if workflow_id in tenant.jobs:
                return tenant, tenant.jobs[workflow_id]
        raise NotFound(f"Evaluation job '{workflow_id}' not found.", param="id")

    def _put(self, job: Job, status: str) -> None:
        """Enter `status` now; then go on along the job's path under its progression."""
        kept = self.phases_reached(job)
        now = self._elapsed(job)
        job.revision += 1  # phases change outside the clock: cached views are stale
        if status in TERMINAL:
            job.phases = kept + [Phase(status, now)]
        else:
            path, error = self.route(job)
            job.error = job.error or error
            rest = lifecycle.remainder(path, status)
            job.phases = kept + lifecycle.plan(
                job.progression, rest, self.emulator.config, rows=self._rows(job), at_ns=now, reads=job.reads
            )
        if status == "completed" and job.results is None:
            job.results = {}

    def advance(self, workflow_id: str, steps: int = 1) -> Job:
        """Move a job on by `steps` phases now, whatever its progression."""
        tenant, job = self.locate(workflow_id)
        for _ in range(steps):
            kept = self.phases_reached(job)
            if len(kept) >= len(job.phases):
                raise Conflict(
                    f"Job '{workflow_id}' is '{kept[-1].status}' and has no further phase to advance to. "
                    "Force a status instead (POST /_emulator/jobs/{id}/status).",
                    param="steps",
                )
            self._enter_next(job, len(kept))
        self.settle(tenant, job)
        return job

    def _enter_next(self, job: Job, index: int) -> None:
        job.revision += 1
        rest = [phase.status for phase in job.phases[index:]]
        job.phases = job.phases[:index] + lifecycle.plan(
            job.progression, rest, self.emulator.config, rows=self._rows(job), at_ns=self._elapsed(job), reads=job.reads
        )

    def force(self, workflow_id: str, status: str, message: str | None = None) -> Job:
        """Put a job in `status` now (a terminal status ends it; another one resumes its path)."""
        tenant, job = self.locate(workflow_id)
        if status in ("error", "user_error"):
            job.error = message or job.error or DEFAULT_ERRORS[status]
        elif message is not None:
            raise InvalidRequest("Field 'message' only applies to status 'error' or 'user_error'.", param="message")
        self._put(job, status)
        self.settle(tenant, job)
        return job

    def attach(self, workflow_id: str, scenario: Scenario) -> Job:
        """Give one existing job a progression and/or outcome; it goes on from its current phase."""
        tenant, job = self.locate(workflow_id)
        current = self.status(job)
        if current in TERMINAL:
            raise Conflict(
                f"Job '{workflow_id}' has already ended ('{current}'); attach scenarios before a job ends, "
                "or force a status (POST /_emulator/jobs/{id}/status).",
                param="id",
            )
        job.revision += 1
        if scenario.progression is not None:
            job.progression, job.source["progression"] = scenario.progression, "job"
        if scenario.outcome is not None:
            job.outcome, job.source["outcome"] = scenario.outcome, "job"
            self._judge(job)
        kept = self.phases_reached(job)
        path, job.error = self.route(job)
        rest = lifecycle.remainder(path, current)
        job.phases = (
            kept
            + lifecycle.plan(
                job.progression,
                rest,
                self.emulator.config,
                rows=self._rows(job),
                at_ns=self._elapsed(job),
                reads=job.reads,
            )[1:]
        )
        return job

    # ------------------------------------------------------------ update hook (D4)

    def update(
        self, tenant: Tenant, workflow_id: str, *, status: str | None, results: dict[str, Any] | None, error: str | None
    ) -> Job:
        job = self._find(tenant, workflow_id)
        job.revision += 1
        if results is not None:
            job.results = sorted_results(dict(results))
            job.result_file_id = results.get("result_file_id", job.result_file_id)
        if error is not None:
            job.error = error
        if status is None:
            return job
        if status in ("error", "user_error") and error is None and job.error is None:
            raise InvalidRequest(f"Field 'error' is required to set status '{status}'.", param="error")
        self._put(job, status)
        self.settle(tenant, job)
        return job
