"""The plugin as a user meets it: small test files run by pytester, with no conftest."""

from __future__ import annotations

import pytest
import together  # noqa: F401  imported once here, so in-process sub-runs do not import it again

pytest_plugins = ["pytester"]

# Plugins of this environment that are not ours; pytester re-imports them on every in-process run.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*QUIET, *args)


DATASET = """
import json

def dataset(tmp_path, rows=3):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"q{i}", "response": f"a{i}"}) + "\\n" for i in range(rows)))
    return path

PARAMS = {"judge": {"model": "m", "model_source": "serverless", "system_template": "Judge {{prompt}}"},
          "labels": ["good", "bad"], "pass_labels": ["good"], "model_to_evaluate": "response"}

def create_job(client, tmp_path):
    file_id = client.files.upload(dataset(tmp_path), purpose="eval", check=False).id
    return client.evals.create(type="classify", parameters={**PARAMS, "input_data_file_path": file_id}).workflow_id
"""


def test_fixtures_work_with_no_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DATASET
        + """
import httpx
from together import Together

def test_sdk_with_no_arguments(together_emulator, tmp_path):
    client = Together()
    job_id = create_job(client, tmp_path)
    assert client.evals.status(job_id).status == "pending"
    assert together_emulator.run_until_complete(job_id) == "completed"
    assert client.evals.status(job_id).results.result_file_id

def test_plain_httpx(together_emulator):
    response = httpx.get(together_emulator.url + "/v1/evaluation",
                         headers={"Authorization": f"Bearer {together_emulator.api_key}"})
    assert response.json() == []

def test_live_server(together_emulator_server):
    response = httpx.get(together_emulator_server.url + "/_emulator/health")
    assert response.json()["status"] == "ok"
"""
    )
    run(pytester).assert_outcomes(passed=3)


def test_plugin_is_registered_by_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_it(together_emulator): assert together_emulator.url")
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=1)


def test_state_does_not_leak_between_tests_or_parametrized_cases(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DATASET
        + """
import pytest
from together import Together

@pytest.mark.parametrize("case", range(3))
def test_in_process(together_emulator, tmp_path, case):
    client = Together()
    job_id = create_job(client, tmp_path)
    assert job_id == "eval-43ca-1767225600"  # same seed, same clock, fresh state: same id every time
    assert [j.workflow_id for j in client.evals.list()] == [job_id]
    assert len(together_emulator.journal) == 5  # upload (3 requests), create, list

@pytest.mark.parametrize("case", range(3))
def test_live_server(together_emulator_server, tmp_path, case):
    client = Together()
    assert client.evals.list() == []
    create_job(client, tmp_path)
    together_emulator_server.advance(10)
    assert len(together_emulator_server.jobs()) == 1
    assert together_emulator_server.now().second == 10  # the clock was reset too
"""
    )
    run(pytester).assert_outcomes(passed=6)


def test_two_runs_give_identical_ids_and_results(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DATASET
        + """
from together import Together

def test_print(together_emulator, tmp_path):
    client = Together()
    job_id = create_job(client, tmp_path)
    together_emulator.run_until_complete(job_id)
    print("RESULT", job_id, client.evals.status(job_id).to_json(indent=None))
"""
    )
    outputs = [
        [line[line.index("RESULT") :] for line in run(pytester, "-s").outlines if "RESULT" in line] for _ in range(2)
    ]
    assert len(outputs[0]) == 1 and outputs[0] == outputs[1]


def test_markers_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

pytestmark = pytest.mark.together_emulator(seed=1, running_seconds=50)

def test_module(together_emulator):
    assert together_emulator.emulator.config.seed == 1

@pytest.mark.together_emulator(seed=2)
class TestClass:
    def test_class(self, together_emulator):
        assert together_emulator.emulator.config.seed == 2
        assert together_emulator.emulator.config.running_seconds == 50

    @pytest.mark.together_emulator(seed=3, column_use_rule=False, api_key="k-3")
    def test_function(self, together_emulator_server, monkeypatch):
        import os
        config = together_emulator_server.emulator.config
        assert (config.seed, config.running_seconds, config.column_use_rule) == (3, 50, False)
        assert os.environ["TOGETHER_API_KEY"] == "k-3"

def test_defaults_are_back(together_emulator_server):
    config = together_emulator_server.emulator.config
    assert (config.seed, config.running_seconds, config.clock) == (1, 50, "manual")
""")
    run(pytester).assert_outcomes(passed=4)


def test_marker_changes_the_lifecycle(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DATASET
        + """
import pytest
from together import Together

@pytest.mark.together_emulator(pending_seconds=10, queued_seconds=20, running_seconds=30,
                               running_seconds_per_row=0, start_time="2030-05-01T00:00:00Z")
def test_durations(together_emulator, tmp_path):
    client = Together()
    job_id = create_job(client, tmp_path)
    together_emulator.advance(29.9)
    assert client.evals.status(job_id).status == "queued"
    together_emulator.run_until_complete(job_id)
    assert together_emulator.now().isoformat() == "2030-05-01T00:01:00+00:00"

@pytest.mark.together_emulator(seed=42)
def test_seed(together_emulator, tmp_path):
    assert create_job(Together(), tmp_path) != "eval-43ca-1767225600"
"""
    )
    run(pytester).assert_outcomes(passed=2)


def test_command_line_and_ini_set_session_defaults(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntogether_emulator_running_seconds = 40\ntogether_emulator_seed = 5\n")
    pytester.makepyfile("""
import pytest

def test_defaults(together_emulator):
    config = together_emulator.emulator.config
    assert (config.seed, config.running_seconds, config.clock) == (9, 40, "real")

@pytest.mark.together_emulator(seed=1)
def test_marker_beats_command_line(together_emulator):
    assert together_emulator.emulator.config.seed == 1
""")
    result = run(pytester, "--together-emulator-seed=9", "--together-emulator-clock=real")
    result.assert_outcomes(passed=2)


def test_bad_settings_are_reported_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.together_emulator(sede=3)
def test_typo(together_emulator):
    pass

@pytest.mark.together_emulator(clock="fast")
def test_bad_value(together_emulator):
    pass
""")
    result = run(pytester)
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert "@pytest.mark.together_emulator got unknown option(s) ['sede']. Valid options: seed, clock, " in output
    assert (
        "@pytest.mark.together_emulator: invalid setting clock='fast': Input should be 'real' or 'manual' "
        "(see docs/testing.md)." in output
    )
    assert "During handling" not in output
    usage = run(pytester, "--together-emulator-time-scale=-1")
    assert usage.ret == pytest.ExitCode.USAGE_ERROR
    usage.stderr.fnmatch_lines(["*together emulator: invalid setting time_scale='-1': Input should be greater than 0*"])


def test_assertion_helpers_fail_with_readable_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DATASET
        + """
from together import Together

def test_called_twice(together_emulator, tmp_path):
    client = Together()
    create_job(client, tmp_path)
    create_job(client, tmp_path)
    together_emulator.assert_called("evaluation.create", times=1)

def test_not_called(together_emulator):
    together_emulator.assert_called("POST /v1/evaluation")

def test_body(together_emulator, tmp_path):
    create_job(Together(), tmp_path)
    together_emulator.assert_called_with("evaluation.create", body={"parameters": {"labels": ["yes", "no"]}})

def test_polls(together_emulator, tmp_path):
    client = Together()
    job_id = create_job(client, tmp_path)
    client.evals.status(job_id)
    together_emulator.assert_polled(job_id, max=0)

def test_unknown_route(together_emulator):
    together_emulator.assert_not_called("evaluations.creat")

def test_passing_helpers(together_emulator, tmp_path):
    client = Together()
    job_id = create_job(client, tmp_path)
    client.evals.retrieve(job_id)
    client.evals.status(job_id)
    together_emulator.assert_called("evaluation.create", times=1)
    together_emulator.assert_called("GET /v1/evaluation/{id}/status", times=1, job_id=job_id)
    together_emulator.assert_not_called("evaluations.list")
    together_emulator.assert_called_with("POST /v1/evaluation", body={"type": "classify",
                                                                      "parameters": {"labels": ["good", "bad"]}})
    assert together_emulator.assert_polled(job_id, times=2) == 2
    assert together_emulator.polls(job_id) == 2
"""
    )
    result = run(pytester)
    result.assert_outcomes(failed=5, passed=1)
    output = result.stdout.str()
    for expected in [
        "AssertionError: expected 1 call to evaluation.create, got 2\nE       Matching calls:\n"
        "E         #4 POST /v1/evaluation -> 200 [evaluation.create] body={",
        "E         #8 POST /v1/evaluation -> 200 [evaluation.create] body={",
        "AssertionError: expected at least 1 call to POST /v1/evaluation, got 0\n"
        "E       Matching calls: none (the journal is empty).",
        "AssertionError: expected a call to evaluation.create with body matching "
        "{'parameters': {'labels': ['yes', 'no']}}, got 1 call(s), none matching",
        "E         #4: body.parameters.labels: expected ['yes', 'no'], got ['good', 'bad']",
        "AssertionError: expected job eval-43ca-1767225600 to be polled at most 0 time(s), got 1\nE       Polls:\n"
        "E         #5 GET /v1/evaluation/eval-43ca-1767225600/status -> 200 [evaluation.status]",
        "(see 'Asserting on the journal' in docs/testing.md)",
        "ValueError: Unknown route name 'evaluations.creat'. Known routes: control.clock, ",
    ]:
        assert expected in output, expected
    assert "journal.py" not in output  # the helpers hide their own frames


def test_other_hosts_fail_or_pass_through(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import httpx
import pytest
import respx

def test_fail(together_emulator):
    with pytest.raises(respx.models.AllMockedAssertionError, match="serves only http://together-emulator.test"):
        httpx.get("http://elsewhere.test/")

def test_own_host_never_a_connection_error(together_emulator):
    response = httpx.get(together_emulator.url + "/v2/unknown")
    assert response.status_code == 404
    assert "not emulated" in response.json()["error"]["message"]

@pytest.mark.together_emulator(other_hosts="pass_through")
def test_pass_through(together_emulator, together_emulator_server):
    # the live server is "another host" for the in-process router: the request really goes out
    assert httpx.get(together_emulator_server.url + "/_emulator/health").status_code == 200
    assert len(together_emulator.journal) == 0

def test_other_respx_routers_still_work(together_emulator, respx_mock):
    respx_mock.get("http://elsewhere.test/").respond(204)
    assert httpx.get("http://elsewhere.test/").status_code == 204
    assert httpx.get(together_emulator.url + "/_emulator/health").status_code == 200
""")
    run(pytester).assert_outcomes(passed=4)


def test_waiting_for_a_job_takes_well_under_a_second(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DATASET
        + """
import asyncio
import time
import pytest
from together import AsyncTogether, Together

TERMINAL = ("completed", "error", "user_error")

def wait(client, job_id):
    for _ in range(5):  # bounded: with a real sleep and a frozen clock this fails instead of hanging
        if (status := client.evals.status(job_id).status) in TERMINAL:
            break
        time.sleep(5)  # production-style polling
    return status

def test_run_until_complete(together_emulator, tmp_path):
    client = Together()
    job_id = create_job(client, tmp_path)
    together_emulator.run_until_complete(job_id)
    assert client.evals.status(job_id).status == "completed"

@pytest.mark.together_emulator(advance_on_sleep=True)
def test_polling_loop_with_sleep(together_emulator, tmp_path):
    client = Together()
    assert wait(client, create_job(client, tmp_path)) == "completed"  # the clock is manual: needs patched sleeps
    assert together_emulator.now().second == 10  # two sleeps of 5 emulated seconds

@pytest.mark.together_emulator(advance_on_sleep=True)
def test_async_polling_loop(together_emulator, tmp_path):
    file_id = Together().files.upload(dataset(tmp_path), purpose="eval", check=False).id

    async def main():
        client = AsyncTogether()
        job = await client.evals.create(type="classify", parameters={**PARAMS, "input_data_file_path": file_id})
        for _ in range(10):  # bounded, as above
            if (await client.evals.status(job.workflow_id)).status in TERMINAL:
                break
            await asyncio.sleep(2)
        return job.workflow_id

    job_id = asyncio.run(main())  # a real sleep would never end: the clock is manual
    together_emulator.assert_polled(job_id, times=5)  # 0, 2, 4, 6 s and the terminal read at 8 s
"""
    )
    result = run(pytester, "--durations=0", "-vv")
    result.assert_outcomes(passed=3)
