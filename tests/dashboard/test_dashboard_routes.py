"""The dashboard's routes without a browser: statuses, the admin token and its session cookie, the
form guard, HTML escaping of what clients sent, and reads that never count as a client's read."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import markupsafe
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces._mock import EmulatorMock
from together_eval_emulator.http import _dashboard_views as dashboard_views
from together_eval_emulator.http._dashboard_auth import COOKIE, csrf_token, session_value
from together_eval_emulator.http._routing import Route, resolve
from together_eval_emulator.http._transport import ApiRequest
from together_eval_emulator.stores._factory import open_store

from tests.support import BASE, Api, CoreFace, Reply, ServerFace, classify_params, jsonl, qa_rows

UI = "/_emulator/ui"
TOKEN = "s3cret"
ROUTES = {route.name: route for route in Emulator(clock="manual").routes if not route.openapi}
XSS = "<script>alert('x')</script>"
PAGES = ("", "/journal", "/clock", "/rules", "/files")


class Browserish:
    """What a browser sends the dashboard: its cookie, and `Origin` on every post."""

    def __init__(self, face: CoreFace | ServerFace, cookie: str | None = None) -> None:
        self.face = face
        self.api = Api(face)
        self.cookie = cookie
        self.last: tuple[str, str] = ("", "")

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, query: dict[str, Any] | None = None, **headers: str) -> Reply:
        self.last = ("GET", UI + path)
        return self.api.request("GET", UI + path, query=query, key=None, headers=self.headers(headers))

    def post(self, path: str, fields: dict[str, str], *, origin: str | None = BASE, csrf: str | None = None) -> Reply:
        """A form post; the page's form token unless `csrf` is given ("" for none)."""
        config = self.face.emulator.config
        token = csrf_token(config) if csrf is None else csrf
        body = urlencode({**({"csrf": token} if token else {}), **fields}).encode()
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if origin is not None:
            headers["origin"] = origin
        self.last = ("POST", UI + path)
        return self.api.request("POST", UI + path, body=body, key=None, headers=self.headers(headers))


def text(reply: Reply) -> str:
    return reply.body.decode()


def escaped(value: str) -> str:
    """`value` as the templates write it in HTML."""
    return str(markupsafe.escape(value))


def setup(emulator: Emulator) -> dict[str, str]:
    """A file, a job that completed (with a result file) and one that waits on reads."""
    api = Api(CoreFace(emulator))
    file_id = api.upload(jsonl(qa_rows(3)))
    done = api.create_id("classify", classify_params(file_id))
    api.control("POST", "clock/advance", {"seconds": 600})
    api.control("POST", "scenarios", {"progression": {"mode": "after_polls", "polls": 2}, "times": 1})
    waiting = api.create_id("classify", classify_params(file_id))
    result = api.control("GET", f"jobs/{done}")["results"]["result_file_id"]
    return {"file": file_id, "done": done, "waiting": waiting, "result": result}


@pytest.fixture
def open_ui() -> Browserish:
    return Browserish(CoreFace(Emulator(clock="manual")))


@pytest.fixture
def guarded_ui() -> Browserish:
    return Browserish(CoreFace(Emulator(clock="manual", admin_token=TOKEN)))


# ---------------------------------------------------------------- every route, every declared status


@dataclass
class Case:
    route: str
    status: int
    send: Callable[[Browserish], Reply]
    token: bool = False
    name: str = ""

    def emulator(self) -> Emulator:
        config: dict[str, Any] = {"admin_token": TOKEN} if self.token else {}
        if self.status == 413:
            config |= {"max_body_bytes": 64, "max_upload_bytes": 64}
        return Emulator(clock="manual", **config)


def fault_json(status: int = 503) -> str:
    return f'{{"match": {{"route": "whoami"}}, "action": {{"kind": "error", "status": {status}}}}}'


def added_fault(ui: Browserish) -> str:
    reply = ui.post("/rules", {"action": "add_fault", "rule": fault_json()})
    assert reply.status == 303, text(reply)
    return reply.headers["location"].rpartition("=")[2]


def too_large(route: Route) -> Case:
    path = route.path.replace("{id}", "x").replace("{name}", "x")

    def send(ui: Browserish) -> Reply:
        ui.last = (route.method, path)
        return ui.api.request(route.method, path, body=b"x" * 65, key=None)

    return Case(route.name, 413, send, name="too-large")


PAGE_ROUTES = {"dashboard.jobs": "", "dashboard.journal": "/journal", "dashboard.clock": "/clock"}
PAGE_ROUTES |= {"dashboard.rules": "/rules", "dashboard.files": "/files"}

CASES: list[Case] = [
    *[Case(name, 200, lambda ui, p=path: ui.get(p)) for name, path in PAGE_ROUTES.items()],
    *[Case(name, 401, lambda ui, p=path: ui.get(p), token=True) for name, path in PAGE_ROUTES.items()],
    Case("dashboard.clock.move", 303, lambda ui: ui.post("/clock", {"action": "advance", "seconds": "5"})),
    Case("dashboard.clock.move", 400, lambda ui: ui.post("/clock", {"action": "advance", "seconds": "-1"})),
    Case("dashboard.clock.move", 401, lambda ui: ui.post("/clock", {"action": "freeze"}), token=True),
    Case("dashboard.clock.move", 403, lambda ui: ui.post("/clock", {"action": "freeze"}, csrf="")),
    Case("dashboard.rules.change", 303, lambda ui: ui.post("/rules", {"action": "add_fault", "rule": fault_json()})),
    Case("dashboard.rules.change", 400, lambda ui: ui.post("/rules", {"action": "add_fault", "rule": fault_json(700)})),
    Case("dashboard.rules.change", 401, lambda ui: ui.post("/rules", {"action": "add_fault"}), token=True),
    Case(
        "dashboard.rules.change", 403, lambda ui: ui.post("/rules", {"action": "add_fault"}, origin="http://evil.test")
    ),
    Case("dashboard.rules.change", 404, lambda ui: ui.post("/rules", {"action": "remove_fault", "id": "fault-9"})),
    Case("dashboard.login", 303, lambda ui: ui.post("/login", {"token": TOKEN, "next": UI + "/clock"}), token=True),
    Case("dashboard.login", 401, lambda ui: ui.post("/login", {"token": "wrong"}), token=True),
    Case("dashboard.login", 403, lambda ui: ui.post("/login", {"token": TOKEN}, origin="http://evil.test"), token=True),
    Case("dashboard.logout", 303, lambda ui: ui.post("/logout", {})),
    Case("dashboard.logout", 403, lambda ui: ui.post("/logout", {}, origin="http://evil.test")),
    Case("dashboard.files.content", 200, lambda ui: ui.get(f"/files/{setup(ui.face.emulator)['file']}/content")),
    Case("dashboard.files.content", 401, lambda ui: ui.get("/files/file-x/content"), token=True),
    Case("dashboard.files.content", 404, lambda ui: ui.get("/files/file-x/content")),
    Case("dashboard.static", 200, lambda ui: ui.get("/static/dashboard.css"), token=True),
    Case("dashboard.static", 404, lambda ui: ui.get("/static/nothing.css")),
    *[too_large(route) for route in ROUTES.values()],
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(filter(None, [c.route, str(c.status), c.name])))
def test_every_answer_is_declared(case: Case) -> None:
    emulator = case.emulator()
    ui = Browserish(CoreFace(emulator))
    reply = case.send(ui)
    route = ROUTES[case.route]
    method, path = ui.last
    assert resolve(emulator.routes, ApiRequest(method, path, BASE))[0] is route  # the request reached the route meant
    assert reply.status == case.status, text(reply)[:2000]
    assert case.status in route.responses
    if case.status == 413:  # the dispatcher's, before any handler: the real error shape
        assert reply.json()["error"]["code"] == "request_too_large"
    elif case.status == 303:
        assert reply.headers["location"].startswith(UI) and reply.body == b""
    else:
        assert reply.headers["content-type"].startswith("text/"), reply.headers


def test_every_declared_status_is_exercised() -> None:
    exercised = {(case.route, case.status) for case in CASES}
    for route in ROUTES.values():
        assert {(route.name, status) for status in route.responses} == {p for p in exercised if p[0] == route.name}


def test_the_dashboard_is_not_in_the_openapi_document() -> None:
    document = Api(CoreFace(Emulator(clock="manual"))).request("GET", "/openapi.json", key=None).json()
    assert not [path for path in document["paths"] if path.startswith(UI)]
    assert ROUTES and all(route.path.startswith(UI) for route in ROUTES.values())


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_html_with_a_strict_content_security_policy(open_ui: Browserish, path: str) -> None:
    setup(open_ui.face.emulator)
    reply = open_ui.get(path)
    assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert reply.headers["x-content-type-options"] == "nosniff" and reply.headers["cache-control"] == "no-store"
    page = text(reply)
    assert page.startswith("<!doctype html>") and "<script>" not in page  # no inline script
    assert re.search(r'<section id="live" data-live', page)


@pytest.mark.parametrize("path", PAGES)
def test_the_live_fragment_is_the_live_part_only(open_ui: Browserish, path: str) -> None:
    setup(open_ui.face.emulator)
    fragment = text(open_ui.get(path, {"fragment": "live"}))
    assert "<html" not in fragment and "data-clock-line" in fragment or path == "/clock"
    assert "<form" not in fragment or path == "/rules"  # the rules' remove buttons live in it


def test_the_jobs_page_shows_each_job_its_timeline_results_and_links(open_ui: Browserish) -> None:
    ids = setup(open_ui.face.emulator)
    page = text(open_ui.get(""))
    done = page[page.index(f'data-job="{ids["done"]}"') :]
    assert 'data-status="completed"' in page and "<strong>completed</strong>" in done
    assert f"/journal?job_id={ids['done']}" in done and f"/files/{ids['result']}/content" in done
    assert re.findall(r'<g class="segment [^"]*" data-phase="(\w+)"', done)[:4] == [
        "pending",
        "queued",
        "running",
        "completed",
    ]
    assert "data-now=" in done and "data-queue-position>—<" in done
    waiting = page[page.index(f'data-job="{ids["waiting"]}"') :]
    assert 'data-state="waiting"><strong>queued</strong> after read 3 of the job' in waiting


def test_the_jobs_page_filters_by_tenant_status_and_type(open_ui: Browserish) -> None:
    ids = setup(open_ui.face.emulator)
    completed = text(open_ui.get("", {"status": "completed"}))
    assert ids["done"] in completed and f'data-job="{ids["waiting"]}"' not in completed
    assert "1 of 2 jobs" in completed
    assert "0 of 2 jobs" in text(open_ui.get("", {"type": "score"}))
    assert "0 of 2 jobs" in text(open_ui.get("", {"tenant": "nobody"}))


def test_the_jobs_page_shows_a_queued_jobs_place_under_a_capacity() -> None:
    emulator = Emulator(clock="manual", max_running_per_tenant=1)
    api = Api(CoreFace(emulator))
    file_id = api.upload(jsonl(qa_rows(3)))
    first, second = (api.create_id("classify", classify_params(file_id)) for _ in range(2))
    api.advance(4)  # the first one runs; the second waits in line for its slot
    summary = api.control("GET", f"jobs/{second}")
    assert summary["status"] == "queued" and summary["queue"]["position"] == 1
    page = text(Browserish(CoreFace(emulator)).get(""))
    waiting = page[page.index(f'data-job="{second}"') :]
    assert "data-queue-position>1<" in waiting.split("</article>")[0]
    running = page[page.index(f'data-job="{first}"') :]
    assert "data-queue-position>—<" in running.split("</article>")[0]


def test_the_jobs_page_draws_the_newest_jobs_only(open_ui: Browserish, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = setup(open_ui.face.emulator)
    monkeypatch.setattr(dashboard_views, "JOBS_SHOWN", 1)
    page = text(open_ui.get(""))
    assert "2 of 2 jobs, newest first; the newest 1 shown" in page
    assert f'data-job="{ids["waiting"]}"' in page and f'data-job="{ids["done"]}"' not in page


def test_the_journal_page_filters_and_shows_a_request_body(open_ui: Browserish) -> None:
    setup(open_ui.face.emulator)
    page = text(open_ui.get("/journal", {"route": "evaluation.create"}))
    assert "2 shown of 2 matching" in page
    seq = re.search(r'data-seq="(\d+)" data-route="evaluation.create"', page)
    assert seq is not None
    body = text(open_ui.get("/journal", {"seq": seq[1]}))
    assert "&#34;type&#34;: &#34;classify&#34;" in body  # the create body, as JSON text
    assert "is not a number" in text(open_ui.get("/journal", {"status_code": "abc"}))
    assert "Unknown route name" in text(open_ui.get("/journal", {"route": "nope"}))


def test_the_rules_page_lists_the_books_with_their_counters(open_ui: Browserish) -> None:
    added_fault(open_ui)
    Api(CoreFace(open_ui.face.emulator)).request("GET", "/v3/whoami")
    page = text(open_ui.get("/rules"))
    assert 'data-rule="fault-1"' in page and "seen: <strong>1</strong> · fired: <strong>1</strong>" in page


# ---------------------------------------------------------------- forms: the control plane's models and messages


def test_a_clock_form_moves_the_clock_as_the_control_plane_does(open_ui: Browserish) -> None:
    api = Api(CoreFace(open_ui.face.emulator))
    before = api.control("GET", "clock")["epoch"]
    reply = open_ui.post("/clock", {"action": "advance", "seconds": "90"})
    assert reply.status == 303 and reply.headers["location"] == UI + "/clock?done=advanced"
    assert api.control("GET", "clock")["epoch"] == before + 90
    assert open_ui.post("/clock", {"action": "set", "now": "2026-03-01T00:00:00Z"}).status == 303
    assert api.control("GET", "clock")["now"] == "2026-03-01T00:00:00.000000Z"
    assert open_ui.post("/clock", {"action": "run", "time_scale": "60"}).status == 303
    assert api.control("GET", "clock")["mode"] == "real" and api.control("GET", "clock")["time_scale"] == 60
    assert open_ui.post("/clock", {"action": "freeze"}).status == 303
    assert api.control("GET", "clock")["mode"] == "manual"


@pytest.mark.parametrize(
    ("fields", "control_path", "body"),
    [
        ({"action": "advance", "seconds": "soon"}, "clock/advance", {"seconds": "soon"}),
        ({"action": "advance", "seconds": "-5"}, "clock/advance", {"seconds": -5}),
        ({"action": "set", "now": "yesterday"}, "clock/set", {"now": "yesterday"}),
        ({"action": "run", "time_scale": "0"}, "clock/run", {"time_scale": 0}),
    ],
)
def test_a_refused_clock_form_shows_the_control_planes_message(
    open_ui: Browserish, fields: dict[str, str], control_path: str, body: dict[str, Any]
) -> None:
    reply = open_ui.post("/clock", fields)
    expected = Api(CoreFace(open_ui.face.emulator)).control("POST", control_path, body, expect=400)
    assert reply.status == 400
    assert escaped(expected["error"]["message"]) in text(reply)


@pytest.mark.parametrize(
    ("action", "rule", "control_path"),
    [
        ("add_fault", '{"action": {"kind": "error", "status": 700}}', "faults"),
        ("add_fault", '{"action": {"kind": "explode"}}', "faults"),
        ("add_fault", "{not json", "faults"),
        ("add_fault", "", "faults"),
        ("add_scenario", '{"outcome": {"kind": "completed", "pass_percentage": 120}}', "scenarios"),
        ("add_scenario", '{"bogus": 1}', "scenarios"),
    ],
)
def test_a_refused_rule_shows_the_models_message_and_keeps_the_json(
    open_ui: Browserish, action: str, rule: str, control_path: str
) -> None:
    reply = open_ui.post("/rules", {"action": action, "rule": rule})
    expected = Api(CoreFace(open_ui.face.emulator)).request(
        "POST", f"/_emulator/{control_path}", body=rule.encode(), key=None, headers={"content-type": "application/json"}
    )
    assert reply.status == expected.status == 400
    page = text(reply)
    assert escaped(expected.json()["error"]["message"]) in page
    assert f">{escaped(rule)}</textarea>" in page  # the JSON as typed, to fix
    assert open_ui.face.emulator.engine.faults.book().rules == []


def test_rules_are_added_and_removed_through_the_control_plane(open_ui: Browserish) -> None:
    fault = added_fault(open_ui)
    assert fault == "fault-1"
    scenario = open_ui.post("/rules", {"action": "add_scenario", "rule": '{"name": "slow", "times": 2}'})
    assert scenario.status == 303 and scenario.headers["location"] == UI + "/rules?added=scn-1"
    assert "Added scn-1." in text(open_ui.get("/rules", {"added": "scn-1"}))
    assert "Added" not in text(open_ui.get("/rules", {"added": "<b>anything</b>"}))
    api = Api(CoreFace(open_ui.face.emulator))
    assert [rule["id"] for rule in api.control("GET", "faults")["rules"]] == ["fault-1"]
    assert api.control("GET", "scenarios")["entries"][0]["name"] == "slow"
    assert open_ui.post("/rules", {"action": "remove_fault", "id": "fault-1"}).status == 303
    assert open_ui.post("/rules", {"action": "remove_scenario", "id": "scn-1"}).status == 303
    assert api.control("GET", "faults")["rules"] == [] and api.control("GET", "scenarios")["entries"] == []
    assert open_ui.post("/rules", {"action": "drop_all"}).status == 400


def test_a_form_from_another_origin_or_without_the_form_token_is_refused(open_ui: Browserish) -> None:
    fields = {"action": "add_fault", "rule": fault_json()}
    assert open_ui.post("/rules", fields, origin="http://localhost:3000").status == 403  # same site, other origin
    assert open_ui.post("/rules", fields, csrf="").status == 403
    assert open_ui.post("/rules", fields, csrf="forged").status == 403
    headers = {"content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site"}
    body = urlencode({"csrf": csrf_token(open_ui.face.emulator.config), **fields}).encode()
    assert open_ui.api.request("POST", UI + "/rules", body=body, key=None, headers=headers).status == 403
    assert open_ui.face.emulator.engine.faults.book().rules == []
    assert open_ui.post("/rules", fields, origin=None).status == 303  # not a browser: no page made it post


# ---------------------------------------------------------------- the admin token


def test_with_an_admin_token_every_page_asks_for_it(guarded_ui: Browserish) -> None:
    for path in PAGES:
        reply = guarded_ui.get(path)
        assert reply.status == 401 and 'action="/_emulator/ui/login"' in text(reply), path
        assert f'name="next" value="{UI}{path}"' in text(reply)
    assert guarded_ui.get("", {"fragment": "live"}).status == 401
    assert guarded_ui.get("", **{"x-emulator-token": TOKEN}).status == 200
    assert guarded_ui.get("", authorization=f"Bearer {TOKEN}").status == 200
    assert guarded_ui.get("", **{"x-emulator-token": "wrong"}).status == 401
    assert Browserish(guarded_ui.face, cookie="forged").get("").status == 401
    assert Browserish(guarded_ui.face, cookie=session_value("other-token")).get("").status == 401
    assert guarded_ui.get("/static/dashboard.js").status == 200  # no secret in it


def test_the_token_form_opens_a_strict_session(guarded_ui: Browserish) -> None:
    wrong = guarded_ui.post("/login", {"token": "nope", "next": UI + "/clock"})
    assert wrong.status == 401 and "not this emulator&#39;s admin token" in text(wrong)
    assert "set-cookie" not in wrong.headers
    right = guarded_ui.post("/login", {"token": TOKEN, "next": UI + "/clock?done=set"})
    assert right.status == 303 and right.headers["location"] == UI + "/clock?done=set"
    cookie = right.headers["set-cookie"]
    assert cookie == f"{COOKIE}={session_value(TOKEN)}; Path={UI}; HttpOnly; SameSite=Strict"
    assert TOKEN not in cookie
    signed_in = Browserish(guarded_ui.face, cookie=session_value(TOKEN))
    assert signed_in.get("/clock").status == 200 and "Sign out" in text(signed_in.get("/clock"))
    # The cookie opens the dashboard only: the JSON control plane still wants the token in a header.
    control = guarded_ui.api.request("GET", "/_emulator/jobs", key=None, headers=signed_in.headers())
    assert control.status == 401
    out = signed_in.post("/logout", {})
    assert out.status == 303 and "Max-Age=0" in out.headers["set-cookie"]


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/v1/files", "/_emulator/ui\r\nx: y", None])
def test_the_token_form_only_goes_back_to_the_dashboard(guarded_ui: Browserish, target: str | None) -> None:
    fields = {"token": TOKEN} | ({"next": target} if target is not None else {})
    assert guarded_ui.post("/login", fields).headers["location"] == UI


def test_a_session_of_another_token_is_refused_after_the_token_changes() -> None:
    emulator = Emulator(clock="manual", admin_token="first")
    ui = Browserish(CoreFace(emulator), cookie=session_value("first"))
    assert ui.get("").status == 200
    emulator.reconfigure(Emulator(clock="manual", admin_token="second").config)
    assert ui.get("").status == 401
    assert ui.post("/clock", {"action": "freeze"}, csrf=csrf_token(Emulator(admin_token="first").config)).status == 401


# ---------------------------------------------------------------- what clients sent is shown as text


def test_strings_clients_sent_are_escaped_on_every_page() -> None:
    emulator = Emulator(clock="manual", tenants=[{"key": "key-x", "name": XSS}])
    api = Api(CoreFace(emulator), key="key-x")
    file_id = api.upload(jsonl(qa_rows(2)), filename=f"{XSS}.jsonl")
    api.control("POST", "scenarios", {"name": XSS, "match": {"filename": XSS}, "outcome": {"kind": "error"}})
    api.control("POST", "faults", {"name": XSS, "match": {"route": "whoami", "path": XSS}})
    api.create_id(
        "classify", classify_params(file_id, judge={"model": XSS, "model_source": "serverless", "system_template": XSS})
    )
    api.request("GET", f"/v1/files/{XSS}", query={XSS: XSS})
    ui = Browserish(CoreFace(emulator))
    seen = []
    for path in PAGES:
        for query in ({}, {"seq": "1"}, {"seq": "6"}, {"tenant": XSS}, {"route": XSS}):
            page = text(ui.get(path, query))
            assert "<script>alert" not in page, (path, query)
            seen.append(page.count("&lt;script&gt;alert("))
    assert sum(seen) > 10  # the strings are there, as text
    content = ui.get(f"/files/{file_id}/content")
    assert content.headers["content-type"] == "text/plain; charset=utf-8"
    assert (
        content.headers["x-content-type-options"] == "nosniff"
        and "sandbox" in content.headers["content-security-policy"]
    )


def test_a_file_is_served_as_plain_text_whichever_tenant_owns_it(open_ui: Browserish) -> None:
    ids = setup(open_ui.face.emulator)
    upload = open_ui.get(f"/files/{ids['file']}/content")
    assert upload.status == 200 and upload.body == jsonl(qa_rows(3)).encode()
    result = open_ui.get(f"/files/{ids['result']}/content")
    assert result.status == 200 and result.body.count(b"\n") == 3
    assert open_ui.get("/files/qa-benchmark-v1/content").status == 200
    assert open_ui.get(f"/files/{escaped(XSS)}/content").status == 404


# ---------------------------------------------------------------- never a client read


def test_dashboard_reads_leave_read_counters_journal_and_verdicts_unchanged(open_ui: Browserish) -> None:
    ids = setup(open_ui.face.emulator)
    api = Api(CoreFace(open_ui.face.emulator))
    api.status(ids["waiting"])
    before = (
        api.control("GET", f"jobs/{ids['waiting']}"),
        api.control("GET", f"jobs/{ids['waiting']}/polling"),
        api.control("GET", "requests"),
    )
    for path in PAGES:
        for query in ({}, {"fragment": "live"}):
            assert open_ui.get(path, query).status == 200
    assert open_ui.get(f"/files/{ids['result']}/content").status == 200
    after = (
        api.control("GET", f"jobs/{ids['waiting']}"),
        api.control("GET", f"jobs/{ids['waiting']}/polling"),
        api.control("GET", "requests"),
    )
    assert after == before
    assert before[0]["reads"] == 1 and before[0]["status"] == "pending"


# ---------------------------------------------------------------- faces


def test_the_server_face_and_the_respx_face_serve_it_too() -> None:
    emulator = Emulator(clock="manual")
    server = ServerFace(emulator).send("GET", UI, {}, b"", "")
    assert server.status == 200 and server.headers["content-type"] == "text/html; charset=utf-8"
    with EmulatorMock(emulator=emulator) as mock, httpx.Client(base_url=mock.base_url) as client:
        mocked = client.get(UI)
    assert mocked.status_code == 200 and mocked.content == server.body


def test_the_pages_read_a_persistent_store(tmp_path: Path) -> None:
    emulator = Emulator(clock="manual", store=open_store(f"sqlite:{tmp_path / 'state.db'}"))
    ids = setup(emulator)
    ui = Browserish(CoreFace(emulator))
    for path in PAGES:
        assert ui.get(path).status == 200, path
    assert ids["done"] in text(ui.get(""))
    emulator.store.close()
