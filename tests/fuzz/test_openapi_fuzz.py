"""Fuzzing every operation of the served `/openapi.json` (the Together API, the upload URLs and the
control plane) on a live server with schemathesis.

Each operation gets requests generated from its schema, valid ones and, where its schema leaves
something to get wrong, invalid ones. Every answer must be documented (status, content type,
headers, body schema), never a 5xx, and the server must still be healthy afterwards. The state is
reset before each request, so that what one request installed (a fault rule dropping every
request, say) does not blind the next.

Derandomized and bounded: `EMULATOR_FUZZ_EXAMPLES` requests per operation and mode (default 8).
docs/fuzzing.md gives the longer run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (  # where they are defined, in every 4.x release
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from together_eval_emulator import Emulator
from together_eval_emulator.http._routing import Route

from tests.faces.serve_support import LiveServer, served

EXAMPLES = int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
API_KEY = {"Authorization": "Bearer fuzz"}  # API routes accept any key; the control plane has no admin token here
TIMEOUT = 10.0  # seconds; a request that takes longer is a hang


def operations() -> list[Any]:
    """One test parameter per route the served emulator's document describes (the documented API's
    included; the dashboard's HTML pages are not in it)."""
    return [pytest.param(route, id=f"{route.method} {route.template}") for route in Emulator().routes if route.openapi]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with served("--clock", "manual") as live:
        yield live


@pytest.fixture(scope="module")
def schema(server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(server.url + "/openapi.json")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def negatable(operation: Any) -> bool:
    """Whether invalid requests can be generated: a JSON body, or a parameter that is not any string."""
    definition = operation.definition.raw
    body = definition.get("requestBody", {}).get("content", {})
    typed = [p for p in definition.get("parameters", []) if p.get("schema", {}) != {"type": "string"}]
    return "application/json" in body or bool(typed)


def fuzz(server: LiveServer, session: requests.Session, operation: Any, mode: GenerationMode) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        assert session.post(server.url + "/_emulator/reset", timeout=TIMEOUT).status_code == 200
        # A redirect is the answer under test (the upload's 302), not a request to follow.
        response = case.call(
            base_url=server.url, session=session, headers=API_KEY, timeout=TIMEOUT, allow_redirects=False
        )
        case.validate_response(response, checks=CHECKS)
        assert session.get(server.url + "/_emulator/health", timeout=TIMEOUT).status_code == 200

    run()


@pytest.mark.parametrize("route", operations())
def test_generated_requests_get_documented_answers(
    server: LiveServer, schema: Any, session: requests.Session, route: Route
) -> None:
    operation = schema[route.template][route.method]
    fuzz(server, session, operation, GenerationMode.POSITIVE)
    if negatable(operation):
        try:
            fuzz(server, session, operation, GenerationMode.NEGATIVE)
        except Unsatisfiable:
            pass  # nothing in this schema can be made invalid (a string parameter accepts any string)
