"""The polling verdict (`engine/_polling.py`): each job graded from the journal and its timeline.

Clients here are plain request sequences through `Emulator.handle` on a frozen clock, the clock moved
between reads as a client's sleeps would move it: every interval is exact, so every figure is too."""

from __future__ import annotations

from typing import Any

import pytest
from together_eval_emulator import Emulator, PollingReport, key_fingerprint
from together_eval_emulator.engine._polling import CITED

from tests.support import CoreClient, classify_params, jsonl, qa_rows

ROWS = 3  # a job of 3 rows ends 1 + 2 + 3 + 0.03 s after its create, on the default durations
END = 6.03


def client(**config: Any) -> CoreClient:
    return CoreClient(Emulator(clock="manual", **config))


def new_job(api: CoreClient, key: str = "default") -> str:
    return api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(ROWS)), key=key)), key=key)


def poll(api: CoreClient, job_id: str, every: float, *, extra: int = 0, key: str = "default") -> list[str]:
    """Read the job's status every `every` seconds until it ends, then `extra` more times; the statuses seen."""
    seen = []
    while True:
        seen.append(api.status(job_id, key=key)["status"])
        if seen[-1] in ("completed", "error", "user_error"):
            break
        api.advance(every)
    for _ in range(extra):
        api.advance(every)
        seen.append(api.status(job_id, key=key)["status"])
    return seen


def report(api: CoreClient, job_id: str, **query: Any) -> PollingReport:
    return api.emulator.engine.polling.report(job_id, api.emulator.engine.polling.thresholds(**query))


def names(found: PollingReport) -> list[str]:
    return [finding.name for finding in found.findings]


# ---------------------------------------------------------------- the journal keeps what the verdict needs


def test_a_read_records_the_status_it_showed_and_its_wall_time() -> None:
    api = client()
    job_id = new_job(api)
    api.status(job_id)
    api.advance(1.5)
    api.job(job_id)
    create, status, retrieve = api.emulator.journal.entries[-3:]
    assert (create.job_status, status.job_status, retrieve.job_status) == (None, "pending", "queued")
    assert all(entry.wall_ns is not None and entry.retry_after_ms is None for entry in (create, status, retrieve))


def test_an_error_answer_shows_no_status_and_keeps_its_retry_after() -> None:
    api = client()
    job_id = new_job(api)
    api.control(
        "POST",
        "faults",
        {"match": {"route": "evaluation.status"}, "action": {"kind": "error", "status": 429, "retry_after": 2.5}},
    )
    assert api.request("GET", f"/v1/evaluation/{job_id}/status").status == 429
    entry = api.emulator.journal.entries[-1]
    assert (entry.status_code, entry.job_status, entry.retry_after_ms) == (429, None, 2500)


# ---------------------------------------------------------------- clients, and their verdicts


def test_a_client_that_sleeps_between_reads_and_stops_at_the_end_is_ok() -> None:
    api = client()
    job_id = new_job(api)
    assert poll(api, job_id, every=1.0)[-1] == "completed"
    found = report(api, job_id)
    assert (found.verdict, found.findings, found.complete) == ("ok", [], True)
    assert found.reads.model_dump() == {
        "total": 8,
        "by_status": {"pending": 1, "queued": 2, "running": 4, "completed": 1},
        "failed": 0,
        "after_terminal": 0,
        "needed": 8,  # right after the create, then every second until 6.03 s
    }
    assert found.intervals.model_dump() == {"count": 7, "min_seconds": 1.0, "median_seconds": 1.0, "max_seconds": 1.0}
    assert (found.status, found.terminal_at, found.created_at) == (
        "completed",
        "2026-01-01T00:00:06.030000Z",
        "2026-01-01T00:00:00.000000Z",
    )
    assert found.wall_clock_intervals is None  # only on request: it differs from run to run


def test_a_busy_poller_polls_too_often_and_the_finding_names_the_reads() -> None:
    api = client()
    job_id = new_job(api)
    poll(api, job_id, every=0.25)
    found = report(api, job_id)
    assert (found.verdict, names(found)) == ("bad", ["polls_too_often"])
    (finding,) = found.findings
    assert finding.count == found.reads.total - 1 == 25  # every read but the first came 0.25 s after the one before
    assert len(finding.requests) == CITED
    first = finding.requests[0]
    assert (first.time, first.route, first.saw, first.status_code) == (
        "2026-01-01T00:00:00.250000Z",
        "evaluation.status",
        "pending",
        200,
    )
    assert first.path == f"/v1/evaluation/{job_id}/status" and first.why == f"0.25 s after #{first.seq - 1}"
    assert "25 reads came less than 1 s after the read before (shortest 0.25 s)" in finding.message
    assert found.intervals.min_seconds == found.intervals.median_seconds == 0.25


def test_a_client_that_reads_on_after_the_end_is_caught_beyond_the_read_that_saw_it() -> None:
    api = client()
    job_id = new_job(api)
    poll(api, job_id, every=2.0, extra=3)
    found = report(api, job_id)
    assert names(found) == ["reads_after_terminal"]
    (finding,) = found.findings
    assert found.reads.after_terminal == finding.count == 3
    saw_it = api.emulator.journal.filter("evaluation.status", job_id=job_id)[-4]
    assert [cited.why for cited in finding.requests] == [f"after #{saw_it.seq} showed 'completed'"] * 3
    assert report(api, job_id, reads_after_terminal=3).verdict == "ok"
    assert report(api, job_id, stops_after_terminal=False).verdict == "ok"
    assert report(api, job_id, stops_after_terminal=False).thresholds.reads_after_terminal is None


def test_a_read_before_the_retry_after_passed_ignores_it() -> None:
    api = client()
    job_id = new_job(api)
    rule = {"kind": "error", "status": 429, "retry_after": 2}
    api.control("POST", "faults", {"match": {"route": "evaluation.status"}, "action": rule, "times": 1})
    assert api.request("GET", f"/v1/evaluation/{job_id}/status").status == 429
    api.advance(0.5)  # the client waited half a second, not the 2 s it was told
    api.status(job_id)
    found = report(api, job_id)
    assert (names(found), found.retry_after.model_dump()) == (["ignored_retry_after"], {"asked": 1, "honoured": 0})
    assert found.findings[0].requests[0].why.endswith("whose answer asked for a 2 s wait")
    assert found.reads.failed == 1
    assert report(api, job_id, honours_retry_after=False).verdict == "ok"


def test_a_client_that_waits_the_retry_after_honours_it_whatever_its_minimum_interval() -> None:
    api = client()
    job_id = new_job(api)
    rule = {"kind": "error", "status": 503, "retry_after": 0.25}  # retry-after-ms: 250
    api.control("POST", "faults", {"match": {"route": "evaluation.status"}, "action": rule, "times": 1})
    api.request("GET", f"/v1/evaluation/{job_id}/status")
    api.advance(0.25)
    api.status(job_id)
    found = report(api, job_id)
    assert (found.verdict, found.retry_after.model_dump()) == ("ok", {"asked": 1, "honoured": 1})
    assert found.intervals.count == 0  # a wait asked for is not a polling interval


def test_a_retry_after_a_failed_read_is_not_a_polling_interval() -> None:
    api = client()
    job_id = new_job(api)
    rule = {"kind": "error", "status": 500}  # no Retry-After: the client's own backoff governs the retry
    api.control("POST", "faults", {"match": {"route": "evaluation.status"}, "action": rule, "times": 1})
    api.request("GET", f"/v1/evaluation/{job_id}/status")
    api.status(job_id)
    found = report(api, job_id)
    assert (found.verdict, found.reads.failed, found.intervals.count) == ("ok", 1, 0)


def test_listing_every_job_to_watch_one_is_caught() -> None:
    api = client()
    job_id = new_job(api)
    for _ in range(4):
        api.request("GET", "/v1/evaluation")
        api.advance(2)
    api.status(job_id)  # completed by now: the client reads the result
    found = report(api, job_id)
    assert (names(found), found.list_watches) == (["list_used_to_watch"], 3)
    assert [cited.why for cited in found.findings[0].requests] == [
        "the job was 'pending' and no read of it followed",
        "the job was 'queued' and no read of it followed",
        "the job was 'running' and no read of it followed",
    ]
    assert report(api, job_id, list_watches=3).verdict == "ok"


def test_a_list_followed_by_a_read_of_the_job_is_not_a_watch() -> None:
    api = client()
    job_id = new_job(api)
    api.request("GET", "/v1/evaluation")  # find the job, then watch it by its id
    while api.status(job_id)["status"] != "completed":
        api.advance(1)
    assert report(api, job_id).list_watches == 0
    assert report(api, job_id).verdict == "ok"


def test_reads_under_after_polls_show_each_phase_on_a_frozen_clock() -> None:
    api = client(progression="after_polls", polls_per_phase=2)
    job_id = new_job(api)
    seen = poll(api, job_id, every=1.0)
    found = report(api, job_id)
    assert found.reads.by_status == {status: seen.count(status) for status in dict.fromkeys(seen)}
    assert (found.verdict, found.reads.after_terminal) == ("ok", 0)
    assert report(api, job_id).terminal_at == found.terminal_at is not None


def test_a_status_forced_by_the_control_plane_ends_the_job_where_it_is_forced() -> None:
    api = client(progression="manual")
    job_id = new_job(api)
    api.status(job_id)
    api.advance(5)
    api.control("POST", f"jobs/{job_id}/status", {"status": "error", "message": "boom"})
    api.status(job_id)
    found = report(api, job_id)
    assert (found.verdict, found.status, found.terminal_at) == ("ok", "error", "2026-01-01T00:00:05.000000Z")
    assert found.reads.by_status == {"pending": 1, "error": 1}


def test_only_the_jobs_own_tenant_polls_it() -> None:
    api = client()
    job_id = new_job(api)
    for _ in range(3):
        api.request("GET", f"/v1/evaluation/{job_id}/status", key="key-b")  # another tenant: a 404 each
    found = report(api, job_id)
    assert (found.reads.total, found.verdict) == (0, "ok")
    assert found.tenant == key_fingerprint("key-a")


# ---------------------------------------------------------------- a journal that lost requests


def test_a_job_whose_create_was_dropped_is_incomplete_not_guessed() -> None:
    api = client(journal_limit=3)
    job_id = new_job(api)  # upload, put, preprocess, create: 4 entries, then 3 reads that push them out
    for _ in range(3):
        api.advance(1)
        api.status(job_id)
    found = report(api, job_id)
    assert (found.verdict, found.complete, found.findings) == ("incomplete", False, [])
    assert "cannot be graded: the journal no longer holds the request that created it" in found.explain()
    assert "journal_limit" in found.explain()


def test_findings_proven_by_the_requests_kept_make_an_incomplete_report_bad() -> None:
    api = client(journal_limit=3)
    job_id = new_job(api)
    for _ in range(4):
        api.status(job_id)  # no sleep: the kept reads already prove it
    found = report(api, job_id)
    assert (found.verdict, found.complete, names(found)) == ("bad", False, ["polls_too_often"])
    assert "there may be more" in found.explain()


def test_a_journal_reset_after_the_create_leaves_the_job_incomplete() -> None:
    api = client()
    job_id = new_job(api)
    api.control("POST", "reset/journal")
    api.status(job_id)
    assert report(api, job_id).verdict == "incomplete"


# ---------------------------------------------------------------- thresholds, determinism, listing


def test_thresholds_come_from_the_settings_and_each_call_may_change_them() -> None:
    api = client(polling_min_interval_seconds=0.2, polling_reads_after_terminal=2, polling_list_watches=1)
    job_id = new_job(api)
    poll(api, job_id, every=0.25, extra=2)
    found = report(api, job_id)
    assert found.verdict == "ok"
    assert found.thresholds.model_dump() == {
        "min_interval_seconds": 0.2,
        "reads_after_terminal": 2,
        "honours_retry_after": True,
        "list_watches": 1,
    }
    assert names(report(api, job_id, min_interval=0.5, reads_after_terminal=1)) == [
        "polls_too_often",
        "reads_after_terminal",
    ]
    assert report(api, job_id, min_interval=0).reads.needed is None  # no minimum: no reads "needed"


def test_the_report_is_the_same_on_every_run_but_for_the_wall_clock() -> None:
    texts = []
    for _ in range(2):
        api = client()
        job_id = new_job(api)
        poll(api, job_id, every=0.5, extra=1)
        api.request("GET", "/v1/evaluation")
        texts.append(report(api, job_id).model_dump_json())
        wall = api.emulator.engine.polling.report(job_id, wall_clock=True).wall_clock_intervals
        assert wall is not None and wall.count == report(api, job_id).intervals.count
    assert texts[0] == texts[1]


def test_every_job_of_every_tenant_filtered_by_tenant_and_verdict() -> None:
    api = client(tenants=[{"key": "key-b", "name": "team-b"}])
    good = new_job(api)
    poll(api, good, every=1)
    busy = new_job(api, key="key-b")
    poll(api, busy, every=0.1, key="key-b")
    polling = api.emulator.engine.polling
    # tenant by tenant, in the order they appeared: team-b comes from the settings, key-a later
    assert [(found.job_id, found.verdict) for found in polling.reports()] == [(busy, "bad"), (good, "ok")]
    assert [found.job_id for found in polling.reports(tenant="team-b")] == [busy]
    assert [found.job_id for found in polling.reports(tenant="key-a")] == [good]
    assert [found.job_id for found in polling.reports(tenant=key_fingerprint("key-a"))] == [good]
    assert [found.job_id for found in polling.reports(verdict="bad")] == [busy]
    assert polling.reports()[0].tenant == "team-b"


def test_an_unknown_job_is_a_404() -> None:
    from together_eval_emulator.engine._errors import NotFound

    with pytest.raises(NotFound, match="eval-0000-0"):
        client().emulator.engine.polling.report("eval-0000-0")
