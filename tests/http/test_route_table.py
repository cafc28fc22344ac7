"""The route table's memory of what paths matched (`_routing.RouteTable`): it answers exactly as a scan
of every route does, stays bounded whatever paths clients send, and hands out copies."""

from __future__ import annotations

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._errors import MethodNotAllowed, NotFound
from together_eval_emulator.http._routing import Route, RouteTable, resolve, route_method
from together_eval_emulator.http._transport import ApiRequest

BASE = "http://emulator.test"


def scanned(routes: tuple[Route, ...], method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
    """What a plain scan finds: the route serving `method`, its parameters, and every method the path takes."""
    wanted, found, params, methods = route_method(method), None, {}, []
    for route in routes:
        match = route.regex.match(path)
        if match:
            methods.append(route.method)
            if found is None and route.method == wanted:
                found, params = route, match.groupdict()
    return found, params, methods


def sample_path(route: Route) -> str:
    return route.path.replace("{part:int}", "3").replace("{", "x-").replace("}", "")


@pytest.fixture(scope="module")
def routes() -> tuple[Route, ...]:
    return tuple(Emulator().routes)


PROBES = [
    ("GET", "/v1/evaluation/model-list"),  # a literal route listed before the parametrized one
    ("GET", "/v1/evaluation/eval-1/status"),
    ("HEAD", "/v1/evaluation/eval-1"),
    ("DELETE", "/v1/evaluation/eval-1"),  # 405
    ("GET", "/v1/nothing-here"),  # 404
    ("GET", "/evaluation/eval-1"),  # 404 with the base-URL hint
    ("PUT", "/_emulator/uploads/tok/parts/2"),
    ("PUT", "/_emulator/uploads/tok/parts/two"),  # not an int: no route
]


@pytest.mark.parametrize("twice", [False, True], ids=["first", "remembered"])
def test_resolution_is_what_a_scan_of_every_route_finds(routes: tuple[Route, ...], twice: bool) -> None:
    table = RouteTable(routes)
    probes = PROBES + [(route.method, sample_path(route)) for route in routes]
    for method, path in probes * (2 if twice else 1):
        expected, params, methods = scanned(routes, method, path)
        assert table.find(method, path) is expected
        request = ApiRequest(method, path, BASE)
        if expected is not None:
            assert resolve(table, request) == (expected, params)
        elif methods:
            with pytest.raises(MethodNotAllowed) as refused:
                resolve(table, request)
            assert set(refused.value.headers["allow"].split(", ")) >= set(methods)
        else:
            with pytest.raises(NotFound):
                resolve(table, request)


def test_the_memory_is_bounded_whatever_paths_are_sent(routes: tuple[Route, ...]) -> None:
    table = RouteTable(routes)
    for index in range(RouteTable.CACHED_PATHS * 2 + 7):
        assert table.find("GET", f"/v1/evaluation/eval-{index}/status") is not None
        assert len(table._matches) <= RouteTable.CACHED_PATHS
    long_path = "/v1/evaluation/" + "x" * RouteTable.CACHED_PATH_CHARS
    assert table.find("GET", long_path) is not None  # answered, not kept
    assert long_path not in table._matches


def test_parameters_handed_out_are_copies(routes: tuple[Route, ...]) -> None:
    table = RouteTable(routes)
    request = ApiRequest("GET", "/v1/evaluation/eval-7/status", BASE)
    route, params = resolve(table, request)
    params["id"] = "changed by a handler"
    assert resolve(table, request) == (route, {"id": "eval-7"})
