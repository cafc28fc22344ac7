"""The in-process fixture beside a user's own test doubles: requests through in-memory transports
(Starlette/FastAPI `TestClient`, `httpx.ASGITransport` / `WSGITransport` / `MockTransport`,
pytest-httpx) are never touched; only the emulator's own origin is served, and a request that
would reach another network host still fails clearly."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Annotated

import httpcore
import httpx
import pytest
import respx
from fastapi import Depends, FastAPI
from pytest_httpx import HTTPXMock
from together import Together
from together_eval_emulator.faces._controller import EmulatorController
from together_eval_emulator.faces._mock import EmulatorMock

with warnings.catch_warnings():  # Starlette 1.x would rather use httpx2 in its TestClient; httpx is what we have
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

JUDGE = {"model": "judge", "model_source": "serverless", "system_template": "{{question}} ({{category}})"}
PARAMETERS = {
    "input_data_file_path": "code-benchmark-v1",  # a built-in dataset: nothing to upload
    "judge": JUDGE,
    "labels": ["correct", "incorrect"],
    "pass_labels": ["correct"],
    "model_to_evaluate": "reference_answer",
}

app = FastAPI()


def together_client() -> Together:
    return Together()  # built per request: it reads TOGETHER_API_KEY / TOGETHER_BASE_URL set by the fixture


TogetherClient = Annotated[Together, Depends(together_client)]


@app.post("/gradings")
def start_grading(client: TogetherClient) -> dict[str, str]:
    return {"job": client.evals.create(type="classify", parameters=PARAMETERS).workflow_id}


@app.get("/gradings/{job_id}")
def grading(job_id: str, client: TogetherClient) -> dict[str, str]:
    return {"status": client.evals.status(job_id).status}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def grade(client: TestClient | httpx.Client, emulator: EmulatorController) -> None:
    job = client.post("/gradings").json()["job"]
    assert client.get(f"/gradings/{job}").json() == {"status": "pending"}
    emulator.run_until_complete(job)
    assert client.get(f"/gradings/{job}").json() == {"status": "completed"}
    emulator.assert_called("evaluation.create", times=1)
    emulator.assert_polled(job, times=2)


def test_testclient_set_up_before_the_emulator(client: TestClient, together_emulator: EmulatorController) -> None:
    grade(client, together_emulator)


def test_testclient_set_up_after_the_emulator(together_emulator: EmulatorController, client: TestClient) -> None:
    grade(client, together_emulator)


def test_testclient_built_inside_the_test(together_emulator: EmulatorController) -> None:
    with TestClient(app, base_url="http://app.test") as client:
        grade(client, together_emulator)


def test_pytest_httpx_in_the_same_test(together_emulator: EmulatorController, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://weather.example/today", json={"sky": "clear"})
    assert httpx.get("https://weather.example/today").json() == {"sky": "clear"}
    assert Together().evals.list() == []  # the SDK still reaches the emulator, not pytest-httpx
    assert len(together_emulator.journal) == 1


@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "elsewhere.test")
def test_pytest_httpx_unmocked_host_still_refused(together_emulator: EmulatorController, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(respx.models.AllMockedAssertionError, match="serves only http://together-emulator.test"):
        httpx.get("http://elsewhere.test/")


@pytest.mark.anyio
async def test_asgi_transport(together_emulator: EmulatorController) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        job = (await client.post("/gradings")).json()["job"]
        together_emulator.run_until_complete(job)
        assert (await client.get(f"/gradings/{job}")).json() == {"status": "completed"}


def test_wsgi_and_mock_transports_are_left_alone_even_for_the_emulator_host(
    together_emulator: EmulatorController,
) -> None:
    def wsgi_app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])  # type: ignore[operator]
        return [f"wsgi {environ['HTTP_HOST']}".encode()]

    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
        assert client.get("http://app.test/").text == "wsgi app.test"
        assert client.get(together_emulator.url + "/v1/evaluation").text == "wsgi together-emulator.test"
    with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(418))) as client:
        assert client.get(together_emulator.url + "/v1/evaluation").status_code == 418
    assert len(together_emulator.journal) == 0


def test_mounted_network_transport_is_served() -> None:
    mounts = {"http://": httpx.HTTPTransport(retries=2)}
    with EmulatorMock() as emu, httpx.Client(mounts=mounts) as client:
        assert client.get(emu.url + "/v1/evaluation", headers={"authorization": "Bearer k"}).json() == []


def test_hooks_are_removed_when_the_last_emulator_stops() -> None:
    originals = (
        httpx.Client.__dict__["_transport_for_url"],
        httpx.AsyncClient.__dict__["_transport_for_url"],
        httpcore.ConnectionPool.__dict__["handle_request"],
    )
    with EmulatorMock():
        with EmulatorMock(base_url="http://second.test"):
            assert httpx.Client.__dict__["_transport_for_url"] is not originals[0]
        assert httpx.Client.__dict__["_transport_for_url"] is not originals[0]
    assert (
        httpx.Client.__dict__["_transport_for_url"],
        httpx.AsyncClient.__dict__["_transport_for_url"],
        httpcore.ConnectionPool.__dict__["handle_request"],
    ) == originals


def test_the_most_recently_started_emulator_serves_a_shared_host() -> None:
    with EmulatorMock(seed=1) as outer:
        with EmulatorMock(seed=2) as inner:
            httpx.get(inner.url + "/v1/evaluation", headers={"authorization": "Bearer k"})
        httpx.get(outer.url + "/v1/evaluation", headers={"authorization": "Bearer k"})
    assert (len(outer.journal), len(inner.journal)) == (1, 1)


def test_respx_pass_through_route_of_the_user_goes_out(together_emulator_server: EmulatorController) -> None:
    # the user's own respx router decides for other hosts, as it would without the emulator
    with EmulatorMock() as emu, respx.mock(assert_all_called=False) as other:
        other.route(host="127.0.0.1").pass_through()
        assert httpx.get(together_emulator_server.url + "/_emulator/health").json()["status"] == "ok"
        assert httpx.get(emu.url + "/_emulator/health").status_code == 200
