"""Evaluation jobs: create, read on the clock, list, the update hook (docs/reference/evaluations.md), and the
control plane's moves (advance one job, force a status, attach a scenario to one job).

A job's status is derived when it is read, from its phases and the clock (and, under
`after_polls`, its read counter): nothing moves a job in the background, and nothing has to be
called for a completed job's results or result file to appear.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any

from . import _ids as ids, _lifecycle as lifecycle, _magic as magic, _preflight as preflight, _replays as replays
from ._clock import NS, Clock
from ._config import EmulatorConfig
from ._datasets import Dataset, DatasetError, canonical
from ._errors import ApiError, Conflict, InvalidRequest, NotFound
from ._extension import Extension, attached
from ._files import Files
from ._ids import derived_uuid4
from ._lifecycle import DEFAULT_ERRORS, TERMINAL, Phase
from ._parameters import ClassifyParameters, CompareParameters, ScoreParameters, Status
from ._replays import Recordings
from ._results import Judge, is_job_failure, sorted_results, summarize
from ._rulebooks import ScenarioRules
from ._scenarios import CreateContext, Outcome, Progression, Resolved, Scenario, verdict_weights
from ._schedule import Schedule
from ._store import (
    JOBS_IN_LINE,
    Job,
    Store,
    StoredFile,
    Tenant,
    id_scan_counter,
    id_space_full_counter,
    reads_counter,
)
from ._validation import validate_create

Params = ClassifyParameters | ScoreParameters | CompareParameters

TOO_MANY_FAILURES = (
    "{failed} of {total} rows failed generation or judging, more than 30%. "
    "Check the models, templates and dataset, then run the evaluation again."
)
LONG_DATASET_BYTES = 64 * 1024  # a larger dataset takes long to parse and judge: see `Jobs.prepare`
ID_DRAWS = 8  # seeded draws of a job id before its second's space counts as crowded
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


def make_judge(
    eval_type: str,
    params: Params,
    seed: int,
    outcome: Outcome,
    job_data: Mapping[str, Any],
    extensions: Sequence[Extension],
) -> Judge:
    """The judge of a job: its configuration under the verdict distribution its outcome gives,
    as adjusted by the extensions whose data it carries. Shared by identical jobs."""
    weights = verdict_weights(outcome, params)
    for extension, data in attached(extensions, job_data):
        weights = extension.verdict_weights(eval_type, params, seed, data, weights)
    key = f"{seed}\x1f{eval_type}\x1f{params!r}\x1f{weights!r}"
    return shared("judge\x1f" + key, lambda: Judge(eval_type, params, seed, weights, cache_key=key))  # type: ignore[no-any-return]


def settings_scenario(config: EmulatorConfig) -> Scenario:
    """The bottom level of scenario resolution: what the server settings say."""
    polls = config.polls_per_phase if config.progression == "after_polls" else None
    return Scenario(progression=Progression(mode=config.progression, polls=polls), outcome=Outcome())


def _rows(dataset: Dataset | None) -> int:
    return dataset.row_count if dataset else 0


def path_of(outcome: Outcome, problem: str | None, failed_rows: int, rows: int) -> tuple[list[Status], str | None]:
    """The statuses a job goes through from pending, given its outcome and its dataset, and the
    `results.error` it ends with (None when it completes or stalls)."""
    path = lifecycle.statuses(outcome)
    if problem is not None and "running" in path:  # dataset checks happen on reaching running
        return path[: path.index("running") + 1] + ["user_error"], problem
    if outcome.kind == "completed" and is_job_failure(failed_rows, rows):
        return path[:-1] + ["error"], TOO_MANY_FAILURES.format(failed=failed_rows, total=rows)
    if outcome.kind in DEFAULT_ERRORS:
        return path, outcome.message or DEFAULT_ERRORS[outcome.kind]
    return path, None


class Jobs:
    """The jobs of every tenant. Each change is a new `Job` record handed to the store."""

    id_bits = ids.JOB_ID_BITS  # the size of a second's id space (tests use a smaller one)

    def __init__(
        self,
        store: Store,
        clock: Clock,
        files: Files,
        scenarios: ScenarioRules,
        config: EmulatorConfig,
        schedule: Schedule,
        recordings: Recordings,
        extensions: Sequence[Extension] = (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.files = files
        self.scenarios = scenarios
        self.config = config
        self.schedule = schedule
        self.recordings = recordings
        self.extensions = tuple(extensions)
        # Values every job of these settings shares rather than holds its own copy of (see `_shared_plan`).
        self._settings: tuple[EmulatorConfig, Scenario] | None = None
        self._plans: dict[
            tuple[int, tuple[Status, ...], int], tuple[Progression, EmulatorConfig, tuple[Phase, ...]]
        ] = {}

    def _save(self, job: Job) -> None:
        """Store a new or changed job; under a capacity, the schedule of every job follows it."""
        self.store.put_job(job)
        if self.schedule.active:
            self.schedule.changed()

    # ------------------------------------------------------------ create

    def create(self, tenant: Tenant, body: Any, extensions: Mapping[str, Any] | None = None) -> Job:
        """A new job from a real-contract create body. An add-on that creates the job passes its
        data (`{extension name: JSON-ready data}`); the job keeps it and the add-on's hooks apply."""
        job_data = dict(extensions or {})
        unknown = set(job_data) - {extension.name for extension in self.extensions}
        if unknown:
            raise ValueError(f"no extension named {sorted(unknown)} is registered")
        eval_type, params = validate_create(body)
        magic_recording = magic.recording_of(params)
        magic_scenario = magic.scenario_of(params)
        now = self.clock.now_ns()
        file = self.files.find(tenant.key, params.input_data_file_path)
        chosen = self._scenario(
            tenant,
            eval_type,
            body,
            file,
            magic_scenario,
            magic_recording,
            consume=False,  # once the job is made: a refused replay changes nothing
        )
        echoed = body["parameters"]
        echoed = shared("parameters\x1f" + canonical(echoed), lambda: echoed)
        magic_model = magic_scenario is not None or magic_recording is not None
        dataset, problem = self._load(params, file, magic_model=magic_model)
        replayed = None
        if chosen.recording is not None:  # checked before anything changes: a refused create changes nothing
            param = magic.FIELD if chosen.source["recording"] == "magic" else None
            recording = self.recordings.find(chosen.recording)
            if recording is None:
                raise InvalidRequest(self.recordings.unknown(chosen.recording), param=param)
            replayed = replays.replay(
                recording,
                eval_type=eval_type,
                judge=self.judge(eval_type, params, chosen.outcome, job_data),
                dataset=dataset,
                problem=problem,
                param=param,
            )
        workflow_id = self._new_id(now // NS)
        result_file_id = None
        if (dataset is not None and problem is None) or (replayed is not None and replayed.results is not None):
            result_file_id = "file-" + derived_uuid4(self.config.seed, tenant.key, workflow_id, "result")
        judge, results, failed_rows = self._verdicts(
            eval_type, params, chosen.outcome, job_data, dataset, problem, result_file_id
        )
        path, error = path_of(chosen.outcome, problem, failed_rows, _rows(dataset))
        phases = self._shared_plan(chosen.progression, path, _rows(dataset))
        if replayed is not None:
            phases, error = replayed.phases, replayed.error
            if replayed.results is not None:
                results = sorted_results({**replayed.results, "result_file_id": result_file_id})
            # Else the recording does not complete: the job keeps the verdicts of its own rows, which a
            # move that completes it (leaving the recording, docs/recordings.md) shows, as for any job.
        self.scenarios.consume(chosen)
        job = Job(
            workflow_id=workflow_id,
            tenant=tenant.key,
            type=eval_type,
            parameters=echoed,
            judge=judge,
            created_ns=now,
            phases=phases,
            dataset=dataset,
            results=results,
            error=error,
            result_file_id=result_file_id,
            progression=chosen.progression,
            outcome=chosen.outcome,
            source=shared("source\x1f" + canonical(chosen.source), lambda: chosen.source),
            problem=problem,
            failed_rows=failed_rows,
            line=self.store.increment(JOBS_IN_LINE) if self.schedule.active else None,
            recording=chosen.recording,
            extensions=job_data,
        )
        self._save(job)
        return job

    def prepare(self, tenant: Tenant, body: Any) -> Callable[[], object] | None:
        """The long part of `create(tenant, body)` (parsing the dataset, judging its rows), as work
        that changes nothing and reads nothing from the store. Called under the emulator's lock,
        which the work then runs without: the values it computes are cached where `create` looks
        for them, so a large dataset holds up no other request. (When the state changes in between,
        `create` finds no cached value and computes it as usual.) None when there is nothing long to
        do: no such file, or a dataset small enough for `create` to handle at once."""
        parameters = body.get("parameters") if isinstance(body, dict) else None
        file_id = parameters.get("input_data_file_path") if isinstance(parameters, dict) else None
        file = self.files.find(tenant.key, file_id) if isinstance(file_id, str) else None
        if file is None or (file.size or 0) <= LONG_DATASET_BYTES:
            return None
        try:
            eval_type, params = validate_create(body)
        except ApiError:
            return None  # `create` answers the 400
        magic_scenario = magic.scenario_of(params)
        magic_recording = magic.recording_of(params)
        chosen = self._scenario(tenant, eval_type, body, file, magic_scenario, magic_recording, consume=False)
        outcome = chosen.outcome
        magic_model = magic_scenario is not None or magic_recording is not None
        load = self.files.dataset_loader(file)

        def work() -> None:
            dataset, problem = self._checked(params, file, load, magic_model=magic_model)
            self._verdicts(eval_type, params, outcome, {}, dataset, problem, None)  # no add-on data

        return work

    def _scenario(
        self,
        tenant: Tenant,
        eval_type: str,
        body: Any,
        file: StoredFile | None,
        magic_scenario: Scenario | None,
        magic_recording: str | None,
        *,
        consume: bool = True,
    ) -> Resolved:
        file_id = body["parameters"]["input_data_file_path"]
        context = CreateContext(
            tenant.key, tenant.name, eval_type, body["parameters"], file_id, file.filename if file else None
        )
        return self.scenarios.resolve(
            context,
            magic=magic_scenario,
            base=self._settings_scenario(),
            magic_recording=magic_recording,
            consume=consume,
        )

    def _settings_scenario(self) -> Scenario:
        """`settings_scenario` of the settings in force, made once: the jobs it applies to share it."""
        if self._settings is None or self._settings[0] is not self.config:
            self._settings = (self.config, settings_scenario(self.config))
        return self._settings[1]

    def _shared_plan(self, progression: Progression, path: list[Status], rows: int) -> tuple[Phase, ...]:
        """A new job's phases (`lifecycle.plan`), shared by the jobs created with the same progression
        object, path and row count: phases are immutable, so identical jobs need one copy."""
        key = (id(progression), tuple(path), rows)
        found = self._plans.get(key)
        if found is None or found[0] is not progression or found[1] is not self.config:
            if len(self._plans) >= SHARED_LIMIT:
                self._plans.clear()
            phases = lifecycle.plan(progression, path, self.config, rows=rows)
            found = self._plans[key] = (progression, self.config, phases)
        return found[2]

    def _new_id(self, created_s: int) -> str:
        """A job id no job has, drawn from the seeded generator in the space of the creation second.
        A space that is used up lends the following second's, so ids stay unique, deterministic and
        of the real form, and a create never loops however many jobs share a second."""
        second = created_s
        while True:  # ends: a second whose space is full is marked so and never searched again
            if not self.store.counter(id_space_full_counter(second)):
                found = self._free_id(second)
                if found is not None:
                    return found
                self.store.set_counter(id_space_full_counter(second), 1)
            second += 1

    def _free_id(self, second: int) -> str | None:
        """A free id of `second`'s space: a few seeded draws, then (a crowded space) the next free
        number in order from where the last such search stopped, so each number is looked at once
        over the space's life. None when the space is full."""
        space = 1 << self.id_bits
        draw = ids.workflow_id(second, self.id_bits)
        for _ in range(ID_DRAWS):
            candidate = self.store.draw(draw)
            if self.store.find_job(candidate) is None:
                return candidate
        cursor = id_scan_counter(second)
        for number in range(self.store.counter(cursor), space):
            candidate = ids.job_id(number, second)
            if self.store.find_job(candidate) is None:
                self.store.set_counter(cursor, number + 1)
                return candidate
        return None

    def _load(self, params: Params, file: StoredFile | None, *, magic_model: bool) -> tuple[Dataset | None, str | None]:
        """The job's parsed dataset and its first dataset problem (each None when there is none)."""
        if file is None:
            return None, preflight.unknown_file_message(params.input_data_file_path)
        return self._checked(params, file, self.files.dataset_loader(file), magic_model=magic_model)

    def _checked(
        self, params: Params, file: StoredFile, load: Callable[[], Dataset], *, magic_model: bool
    ) -> tuple[Dataset | None, str | None]:
        """The dataset `load` parses and its first problem for the job (each None when there is none)."""
        # A magic judge model is never checked against the strict-models allowlist.
        config = self.config.model_copy(update={"strict_models": False}) if magic_model else self.config
        try:
            dataset = load()
        except DatasetError as exc:
            return None, str(exc)
        return dataset, preflight.check(params, dataset, file.filename, config)

    def judge(self, eval_type: str, params: Any, outcome: Outcome, job_data: Mapping[str, Any]) -> Judge:
        """The judge of a job configuration under an outcome (`make_judge`, on this seed)."""
        return make_judge(eval_type, params, self.config.seed, outcome, job_data, self.extensions)

    def _verdicts(
        self,
        eval_type: str,
        params: Any,
        outcome: Outcome,
        job_data: Mapping[str, Any],
        dataset: Dataset | None,
        problem: str | None,
        result_file_id: str | None,
    ) -> tuple[Judge, dict[str, Any] | None, int]:
        """Judge, results (as served: sorted, with result_file_id) and failed rows under an outcome:
        a pure function of seed, configuration, add-on data and rows."""
        judge = self.judge(eval_type, params, outcome, job_data)
        if dataset is None or problem is not None:
            return judge, None, 0
        results, failed_rows = shared(
            f"summary\x1f{judge.cache_key}\x1f{dataset.fingerprint}", lambda: summarize(judge, dataset)
        )
        return judge, sorted_results({**results, "result_file_id": result_file_id}), failed_rows

    # ------------------------------------------------------------ read

    def _find(self, tenant: Tenant, workflow_id: str) -> Job:
        job = self.store.get_job(tenant.key, workflow_id)
        if job is None:
            raise NotFound(f"Evaluation job '{workflow_id}' not found.")
        return job

    def get(self, tenant: Tenant, workflow_id: str) -> Job:
        """A client's read of one job (retrieve or status): counts toward `after_polls`."""
        return self._read(self._find(tenant, workflow_id))

    def _elapsed(self, job: Job) -> int:
        return self.clock.now_ns() - job.created_ns

    def _read(self, job: Job) -> Job:
        """Count one client read of the job; returns the job as read (a read may enter a phase)."""
        reads = self.store.increment(reads_counter(job.workflow_id))
        # The record's phases: only after_polls phases wait on reads, and those never wait for a slot.
        phases = lifecycle.on_read(job.phases, self._elapsed(job), reads, pin=self.schedule.active)
        if phases is not job.phases:
            job = replace(job, phases=phases)
            self._save(job)
        return job

    def reads(self, job: Job) -> int:
        """Client reads of the job so far."""
        return self.store.counter(reads_counter(job.workflow_id))

    def timeline(self, job: Job) -> tuple[Phase, ...]:
        """The job's phases as scheduled (`_schedule.py`): its record's, moved on by the time it
        waits for a slot under a capacity."""
        return self.schedule.timeline(job)

    def phases_reached(self, job: Job) -> tuple[Phase, ...]:
        return lifecycle.reached(self.timeline(job), self._elapsed(job))

    def status(self, job: Job) -> Status:
        return self.phases_reached(job)[-1].status

    def results(self, job: Job) -> dict[str, Any] | None:
        """The `results` object as served: null until terminal, sorted keys, sorted once
        (docs/wire-contract.md#decision-results-format)."""
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
        """Newest first, filtered on the exact status, at most `limit`
        (docs/wire-contract.md#decision-list-routes). Each job listed counts as one read of it (`after_polls`); jobs
        the filter leaves out do not. A status filter is answered from the store's status index
        (`Store.find_jobs`): its cost does not grow with the tenant's jobs. Under a capacity the
        index does not hold the schedule (it keeps each record's own timeline), so the tenant's jobs
        are scanned instead, newest first (docs/capacity.md)."""
        if status is None:
            found = builtins.list(islice(reversed(self.store.jobs(tenant.key)), max(limit, 0)))
        elif self.schedule.active:
            return self._scan(tenant, status, limit)
        else:
            now = self.clock.now_ns()
            found = self.store.find_jobs(
                tenant.key, status, now, limit, lambda job: self._listed_status(job, now) == status
            )
        return [self._read(job) for job in found]  # each read changes its own job only

    def _scan(self, tenant: Tenant, status: str, limit: int) -> builtins.list[Job]:
        """A status-filtered list from every job of the tenant, newest first. Each job is read (one
        read: it may move it, and under a capacity the others with it) before the next one is looked
        at, so each is listed with the status it has once the jobs before it are read."""
        found: builtins.list[Job] = []
        if limit <= 0:
            return found
        now = self.clock.now_ns()
        for job in reversed(self.store.jobs(tenant.key)):
            if self._listed_status(job, now) == status:
                found.append(self._read(job))
                if len(found) == limit:
                    break
        return found

    def _listed_status(self, job: Job, now_ns: int) -> Status:
        """The status a job is listed with at `now_ns`: as the read that lists it leaves it."""
        elapsed = now_ns - job.created_ns
        would_be = lifecycle.on_read(self.timeline(job), elapsed, self.reads(job) + 1)
        return lifecycle.reached(would_be, elapsed)[-1].status

    def terminal_ns(self, job: Job) -> int | None:
        """The clock instant the job ends by itself, or None when it stalls or waits on reads or
        on the control plane (`after_polls`, `manual`), or waits for a slot that never frees."""
        last = self.timeline(job)[-1]
        if last.status not in TERMINAL or last.offset_ns is None:
            return None
        return job.created_ns + last.offset_ns

    # ------------------------------------------------------------ the control plane's view

    def locate(self, workflow_id: str) -> Job:
        """A job by id in whichever tenant owns it (the control plane has no tenant)."""
        job = self.store.find_job(workflow_id)
        if job is None:
            raise NotFound(f"Evaluation job '{workflow_id}' not found.", param="id")
        return job

    def all(self) -> builtins.list[Job]:
        """Every job, tenant by tenant (in the order tenants appeared), each tenant's oldest first."""
        return [job for tenant in self.store.tenants() for job in self.store.jobs(tenant.key)]

    # ------------------------------------------------------------ moving a job

    def _put(self, job: Job, status: Status) -> Job:
        """The job entering `status` now, then going on along its path under its progression."""
        kept = self.phases_reached(job)
        now = self._elapsed(job)
        error = job.error
        if status in TERMINAL:
            phases = kept + (Phase(status, now),)
        else:
            path, planned_error = path_of(job.outcome, job.problem, job.failed_rows, _rows(job.dataset))
            error = error or planned_error
            rest = lifecycle.remainder(path, status)
            phases = kept + lifecycle.plan(
                job.progression,
                rest,
                self.config,
                rows=_rows(job.dataset),
                at_ns=now,
                reads=self.reads(job),
                pin_first=self.schedule.active,
            )
        results = {} if status == "completed" and job.results is None else job.results
        return replace(job, phases=phases, error=error, results=results)

    def advance(self, workflow_id: str, steps: int = 1) -> Job:
        """Move a job on by `steps` phases now, whatever its progression. The steps it could take
        are kept when it runs out of phases (and the 409 says where it stopped)."""
        job = self.locate(workflow_id)
        for _ in range(steps):
            kept = self.phases_reached(job)
            if len(kept) >= len(job.phases):
                self._save(job)
                raise Conflict(
                    f"Job '{workflow_id}' is '{kept[-1].status}' and has no further phase to advance to. "
                    "Force a status instead (POST /_emulator/jobs/{id}/status).",
                    param="steps",
                )
            job = self._enter_next(job, kept)
        self._save(job)
        return job

    def _enter_next(self, job: Job, kept: tuple[Phase, ...]) -> Job:
        """The job entering the phase after the `kept` ones now; the rest planned from there."""
        rest = [phase.status for phase in job.phases[len(kept) :]]
        phases = kept + lifecycle.plan(
            job.progression,
            rest,
            self.config,
            rows=_rows(job.dataset),
            at_ns=self._elapsed(job),
            reads=self.reads(job),
            pin_first=self.schedule.active,
        )
        return replace(job, phases=phases)

    def force(self, workflow_id: str, status: Status, message: str | None = None) -> Job:
        """Put a job in `status` now (a terminal status ends it; another one resumes its path). A job
        already in `status` stays as it is (no transition, no status update); only an error's
        `message` can change."""
        job = self.locate(workflow_id)
        if status in ("error", "user_error"):
            job = replace(job, error=message or job.error or DEFAULT_ERRORS[status])
        elif message is not None:
            raise InvalidRequest("Field 'message' only applies to status 'error' or 'user_error'.", param="message")
        if self.status(job) != status:
            job = self._put(job, status)
        self._save(job)
        return job

    def attach(self, workflow_id: str, scenario: Scenario) -> Job:
        """Give one existing job a progression and/or outcome; it goes on from its current phase."""
        job = self.locate(workflow_id)
        current = self.status(job)
        if current in TERMINAL:
            raise Conflict(
                f"Job '{workflow_id}' has already ended ('{current}'); attach scenarios before a job ends, "
                "or force a status (POST /_emulator/jobs/{id}/status).",
                param="id",
            )
        source = dict(job.source)
        if scenario.progression is not None:
            job = replace(job, progression=scenario.progression)
            source["progression"] = "job"
        if scenario.outcome is not None:
            judge, results, failed_rows = self._verdicts(
                job.type,
                job.judge.params,
                scenario.outcome,
                job.extensions,
                job.dataset,
                job.problem,
                job.result_file_id,
            )
            job = replace(job, outcome=scenario.outcome, judge=judge, failed_rows=failed_rows)
            if results is not None:
                job = replace(job, results=results)
            source["outcome"] = "job"
        kept = self.phases_reached(job)
        path, error = path_of(job.outcome, job.problem, job.failed_rows, _rows(job.dataset))
        rest = lifecycle.remainder(path, current)
        planned = lifecycle.plan(
            job.progression,
            rest,
            self.config,
            rows=_rows(job.dataset),
            at_ns=self._elapsed(job),
            reads=self.reads(job),
        )
        job = replace(job, source=source, error=error, phases=kept + planned[1:])
        self._save(job)
        return job

    # ------------------------------------------------------------ update hook

    def update(
        self,
        tenant: Tenant,
        workflow_id: str,
        *,
        status: Status | None,
        results: dict[str, Any] | None,
        error: str | None,
    ) -> Job:
        """Set a job's results, error and/or status as its owner reports them. Nothing changes on a 400."""
        job = self._find(tenant, workflow_id)
        if results is not None:
            job = replace(
                job,
                results=sorted_results(dict(results)),
                result_file_id=results.get("result_file_id", job.result_file_id),
            )
        if error is None and results is not None and isinstance(results.get("error"), str):
            error = results["error"]  # a failed job's results are {"error": <message>}: the same message
        if error is not None:
            job = replace(job, error=error)
        if status is not None:
            if status in ("error", "user_error") and job.error is None:
                job = replace(job, error=DEFAULT_ERRORS[status])
            job = self._put(job, status)
        self._save(job)
        return job
