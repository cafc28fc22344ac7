"""No web page can use the control plane of an emulator a developer runs: neither by making the
browser post to it from another site (a plain-text or form body needs no permission from the
server), nor by pointing a name of its own at this machine (DNS rebinding), whose requests the
browser then takes for the page's own. Clients that are not browser pages are not affected.
(docs/server.md#browsers)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces._server import EmulatorServer

from tests.support import CoreClient, running


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with running(Emulator(clock="manual")) as live:
        yield live


def now(client: CoreClient) -> str:
    return str(client.control("GET", "clock")["now"])


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example", "content-type": "text/plain"},
        {"origin": "http://127.0.0.1:9", "content-type": "application/x-www-form-urlencoded"},  # another port
        {"origin": "null", "content-type": "application/json"},  # a sandboxed page
        {"sec-fetch-site": "cross-site", "content-type": "text/plain"},
        {"sec-fetch-site": "same-site", "content-type": "text/plain"},
    ],
    ids=["other site", "other port", "sandboxed page", "cross-site fetch", "same-site fetch"],
)
def test_a_page_of_another_origin_cannot_change_the_state(headers: dict[str, str]) -> None:
    client = CoreClient(Emulator(clock="manual"))
    before = now(client)
    for method, path, body in [
        ("POST", "/_emulator/clock/advance", b'{"seconds": 5}'),
        ("POST", "/_emulator/reset", b"x=1"),
        ("PUT", "/_emulator/faults", b"[]"),
    ]:
        reply = client.request(method, path, body=body, headers=headers, key=None)
        assert reply.status == 403, reply.body
        assert reply.json()["error"]["code"] == "cross_origin_request"
    assert now(client) == before
    assert client.request("GET", "/_emulator/clock", headers=headers, key=None).status == 200  # reads stay open


def test_the_pages_own_origin_and_clients_that_are_not_browsers_change_the_state() -> None:
    client = CoreClient(Emulator(clock="manual"))
    before = now(client)
    own = {"origin": "http://emulator.test", "content-type": "application/json"}
    assert (
        client.request("POST", "/_emulator/clock/advance", body=b'{"seconds": 5}', headers=own, key=None).status == 200
    )
    assert client.request("POST", "/_emulator/clock/advance", json_body={"seconds": 5}, key=None).status == 200
    assert now(client) != before


def test_a_server_without_admin_token_answers_its_control_plane_only_at_loopback_names(server: EmulatorServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    with httpx.Client(base_url=server.url) as http:
        for host in (f"evil.example:{port}", f"192.168.1.5:{port}", "evil.example", f"localhost.evil.example:{port}"):
            for path in ("/_emulator/state", "/_emulator/ui", "/_emulator/clock"):
                refused = http.get(path, headers={"host": host})
                assert refused.status_code == 403, (host, path)
                assert refused.json()["error"]["code"] == "host_not_allowed"
            assert http.post("/_emulator/clock/advance", json={"seconds": 1}, headers={"host": host}).status_code == 403
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"app.localhost:{port}", f"127.0.0.2:{port}"):
            assert http.get("/_emulator/clock", headers={"host": host}).status_code == 200, host
        # The API and the upload URLs answer at any name: they need an API key, or an unguessable URL.
        assert http.get("/v1/evaluation", headers={"host": "evil.example", "authorization": "Bearer k"}).json() == []
        assert http.put("/_emulator/uploads/nope", content=b"x", headers={"host": "evil.example"}).status_code == 404
        assert http.get("/_emulator/health", headers={"host": "evil.example"}).status_code == 200


def test_a_server_with_an_admin_token_answers_its_control_plane_at_any_name() -> None:
    with running(Emulator(clock="manual", admin_token="s3cret")) as live, httpx.Client(base_url=live.url) as http:
        token = {"host": "emulator.internal", "x-emulator-token": "s3cret"}
        assert http.get("/_emulator/clock", headers=token).status_code == 200
        assert http.get("/_emulator/clock", headers={"host": "emulator.internal"}).status_code == 401
