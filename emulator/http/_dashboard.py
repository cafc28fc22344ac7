"""The dashboard: HTML pages under `/_emulator/ui` to see and steer a running emulator (docs/dashboard.md).

Server-rendered with Jinja2 (autoescaped: every string a client sent, a file name, a scenario name, a
request body, is shown as text), with a small script that refreshes each page's live part while it
is open. Its templates, stylesheet and script ship inside the package; nothing is fetched from
elsewhere. The routes are declared in the route table like every other (`_routes.py`), left out of
the OpenAPI document; each handler checks the admin token itself (`_dashboard_auth.py`), because a
browser needs the token form back, not a JSON error.

Every change a page makes goes through the control plane's own handlers (`_control.py`), with the
same models, the same checks and the same error messages as `POST /_emulator/faults` and the
others; a refused form is shown again with the model's message.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import jinja2

from .._version import __version__
from ..engine._errors import ApiError, InvalidRequest
from . import _control as control, _dashboard_views as views
from ._dashboard_auth import (
    CSRF_FIELD,
    UI_PREFIX,
    authorized,
    csrf_ok,
    csrf_token,
    expired_cookie,
    safe_next,
    session_cookie,
    token_matches,
)
from ._forms import parse_form
from ._routing import Call, Handler, same_origin
from ._transport import ApiRequest, ApiResponse

HTML = "text/html; charset=utf-8"
REFRESH_MS = 1000  # how often an open page refreshes its live part
FRAGMENT = "fragment"  # `?fragment=live`: only the page's live part (what the script fetches)
# Scripts and styles from this server only (no inline ones: the template has none), no frames.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
PAGES = (  # the navigation: (template, path under the prefix, label)
    ("jobs", "", "Jobs"),
    ("journal", "/journal", "Journal"),
    ("clock", "/clock", "Clock"),
    ("rules", "/rules", "Scenarios and faults"),
    ("files", "/files", "Files"),
)
RULE_ID = re.compile(r"(?:fault|scn)-\d+")
DONE = {  # what a `?done=` after a form says; anything else says nothing
    "advanced": "The clock moved forward.",
    "set": "The clock was set.",
    "frozen": "The clock is frozen (manual mode).",
    "running": "The clock runs on wall time.",
}


def _dashboard_files() -> Any:
    return files(__package__ or "together_eval_emulator.http") / "dashboard"


@cache
def _environment() -> jinja2.Environment:
    """The template environment, made on first use (importing the route table stays cheap)."""
    root = _dashboard_files() / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(prefix=UI_PREFIX, version=__version__, pages=PAGES)
    environment.filters["seconds"] = _seconds
    environment.filters["json"] = _json
    return environment


def _json(value: Any, indent: int | None = None) -> str:
    """A value as JSON text, non-ASCII kept (escaped for HTML like every other string)."""
    return json.dumps(value, indent=indent, ensure_ascii=False)


def _seconds(value: float) -> str:
    """`12.5 s`, `3 min 20 s`, `2 h 5 min`: a duration as a person reads it."""
    if value < 60:
        return f"{value:g} s"
    minutes, seconds = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, body.encode(), {**SECURITY_HEADERS, **(headers or {})}, HTML)


def _render(call: Call, template: str, status: int = 200, **values: Any) -> ApiResponse:
    """A page, or only its live part when the script asks for it (`?fragment=live`)."""
    page = _environment().get_template(template)
    config = call.engine.config
    context = {
        "page": template.removesuffix(".html"),
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(config),
        "signed_in": bool(config.admin_token),
        "refresh_ms": REFRESH_MS,
        "clock": views.clock_page(call),
        "notice": None,
        "error": None,
        **values,
    }
    if call.request.query.get(FRAGMENT) == "live" and "live" in page.blocks:
        body = "".join(page.blocks["live"](page.new_context(context)))
        return _html(body, status)
    return _html(page.render(context), status)


def _redirect(location: str, cookie: str | None = None) -> ApiResponse:
    headers = {"location": location, "cache-control": "no-store"}
    if cookie is not None:
        headers["set-cookie"] = cookie
    return ApiResponse(303, b"", headers, None)


def _form(call: Call) -> dict[str, str]:
    request = call.request
    fields, _ = parse_form(request.header("content-type"), request.body_stream(), request.body_size)
    return fields


def _token_form(call: Call, problem: str | None = None, target: str | None = None) -> ApiResponse:
    """The page that asks for the admin token (a 401); it comes back to the page asked for."""
    request = call.request
    if target is None:
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        if request.query.get(FRAGMENT):
            target = UI_PREFIX  # the script's request: the person comes back to the dashboard's first page
    template = _environment().get_template("token.html")
    return _html(template.render(next=safe_next(target), problem=problem, page="token"), 401)


def _refused(status: int, message: str) -> ApiResponse:
    template = _environment().get_template("refused.html")
    return _html(template.render(status=status, message=message, page="refused"), status)


def guarded(handler: Handler) -> Handler:
    """`handler` for a request that may see the dashboard; the token form for any other."""

    def run(call: Call) -> ApiResponse:
        if not authorized(call.engine.config, call.request):
            return _token_form(call)
        return handler(call)

    run.__name__ = run.__qualname__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def posted(handler: Callable[[Call, dict[str, str]], ApiResponse]) -> Handler:
    """A form post that changes the state: guarded, from the dashboard's own page, with its form token."""

    def run(call: Call) -> ApiResponse:
        fields = _form(call)
        if not csrf_ok(call.engine.config, call.request, fields.get(CSRF_FIELD)):
            return _refused(
                403,
                "This form did not come from this dashboard (another site's page, or a page opened before "
                "the admin token changed). Reload the dashboard and send it again.",
            )
        return handler(call, fields)

    run.__name__ = run.__qualname__ = handler.__name__
    run.__doc__ = handler.__doc__
    return guarded(run)


def _through_control(
    call: Call, handler: Handler, body: Any = None, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a control-plane handler for the dashboard: its models, checks and errors, unchanged.
    `body` is the JSON text to send (a str as it was typed) or a value to encode."""
    raw = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = ApiRequest(
        "POST", call.request.path, call.request.base_url, headers={"content-type": "application/json"}, body=raw
    )
    answer = handler(dataclasses.replace(call, request=request, params=params or {}))
    data: dict[str, Any] = json.loads(answer.body) if answer.body else {}
    return data


def _number(text: str) -> Any:
    """A form field as the JSON value the control plane's model reads: a number when it spells one,
    else the text itself (the model then names what is wrong with it)."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float) and not isinstance(value, bool) else text


# ---------------------------------------------------------------- pages


@guarded
def jobs(call: Call) -> ApiResponse:
    """Every tenant's jobs, newest first, with their timelines."""
    return _render(call, "jobs.html", data=views.jobs_page(call))


@guarded
def journal(call: Call) -> ApiResponse:
    """The request journal, newest first, filtered; one request's body."""
    return _render(call, "journal.html", data=views.journal_page(call))


@guarded
def clock(call: Call) -> ApiResponse:
    """The clock, and forms that move it."""
    return _render(call, "clock.html", notice=DONE.get(call.request.query.get("done", "")), form={})


CLOCK_MOVES: dict[str, tuple[Handler, str]] = {
    "advance": (control.advance_clock, "advanced"),
    "set": (control.set_clock, "set"),
    "freeze": (control.freeze_clock, "frozen"),
    "run": (control.run_clock, "running"),
}


@posted
def move_clock(call: Call, fields: dict[str, str]) -> ApiResponse:
    """Advance, set, freeze or run the clock, as the control plane's clock routes do."""
    action = fields.get("action", "")
    if action not in CLOCK_MOVES:
        return _render(call, "clock.html", 400, error=f"Unknown clock action '{action}'.", form=fields)
    handler, done = CLOCK_MOVES[action]
    body: dict[str, Any] | None = None
    if action == "advance":
        body = {"seconds": _number(fields.get("seconds", ""))}
    elif action == "set":
        body = {"now": _number(fields.get("now", ""))}
    elif action == "run" and fields.get("time_scale", "").strip():
        body = {"time_scale": _number(fields["time_scale"])}
    try:
        _through_control(call, handler, body)
    except ApiError as error:
        return _render(call, "clock.html", error.status_code, error=error.message, form=fields)
    return _redirect(f"{UI_PREFIX}/clock?done={done}")


@guarded
def rules(call: Call) -> ApiResponse:
    """The scenario rules and the fault rules, with their counters, and the JSON editors."""
    added = call.request.query.get("added", "")
    removed = call.request.query.get("removed", "")
    notice = None
    if RULE_ID.fullmatch(added):
        notice = f"Added {added}."
    elif RULE_ID.fullmatch(removed):
        notice = f"Removed {removed}."
    return _render(call, "rules.html", data=views.rules_page(call), notice=notice, form={})


RULE_MOVES: dict[str, Handler] = {
    "add_fault": control.add_fault,
    "add_scenario": control.add_scenario,
    "remove_fault": control.remove_fault,
    "remove_scenario": control.remove_scenario,
}


@posted
def change_rules(call: Call, fields: dict[str, str]) -> ApiResponse:
    """Add a rule from the JSON editor, or remove one, as the control plane's routes do."""
    action = fields.get("action", "")
    try:
        if action not in RULE_MOVES:
            raise InvalidRequest(f"Unknown action '{action}'.")
        if action.startswith("add_"):
            added = _through_control(call, RULE_MOVES[action], fields.get("rule", ""))
            return _redirect(f"{UI_PREFIX}/rules?{urlencode({'added': added['id']})}")
        rule_id = fields.get("id", "")
        _through_control(call, RULE_MOVES[action], params={"id": rule_id})
        return _redirect(f"{UI_PREFIX}/rules?{urlencode({'removed': rule_id})}")
    except ApiError as error:
        data = views.rules_page(call)
        return _render(call, "rules.html", error.status_code, data=data, error=error.message, form=fields)


@guarded
def files_list(call: Call) -> ApiResponse:
    """Every tenant's files and the built-in datasets."""
    return _render(call, "files.html", data=views.files_page(call))


@guarded
def file_content(call: Call) -> ApiResponse:
    """A file's bytes as plain text (never as a page of this site: no script in a file runs)."""
    file = views.find_file(call, call.params["id"])
    if file is None:
        return _refused(404, f"No file '{call.params['id']}' (yet): it was deleted, or its job has not completed.")
    headers = {
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "no-store",
    }
    return ApiResponse(
        200, headers=headers, media_type="text/plain; charset=utf-8", deferred=(call.engine.files.content_loader(file))
    )


# ---------------------------------------------------------------- the admin token


def sign_in(call: Call) -> ApiResponse:
    """The token form's post: a session cookie when the token is right, then the page asked for."""
    fields = _form(call)
    config = call.engine.config
    if not same_origin(call.request):
        return _refused(403, "The token form was posted from another site's page.")
    target = safe_next(fields.get("next"))
    if not config.admin_token:
        return _redirect(target)
    if not token_matches(config, fields.get("token", "")):
        return _token_form(call, "That is not this emulator's admin token.", target)
    return _redirect(target, session_cookie(config, call.request))


def sign_out(call: Call) -> ApiResponse:
    """End the browser's session (the admin token itself stays as it is)."""
    if not same_origin(call.request):
        return _refused(403, "The sign-out form was posted from another site's page.")
    return _redirect(UI_PREFIX, expired_cookie(call.request))


# ---------------------------------------------------------------- assets


@cache
def _asset(name: str) -> bytes | None:
    path = _dashboard_files() / "static" / name
    return path.read_bytes() if path.is_file() else None


def static(call: Call) -> ApiResponse:
    """The stylesheet and the script (no secret in them: served without the token, so the token
    form is styled too)."""
    name = call.params["name"]
    kind = next((media for suffix, media in STATIC_TYPES.items() if name.endswith(suffix)), None)
    content = _asset(name) if kind is not None and "/" not in name and not name.startswith(".") else None
    if content is None or kind is None:
        return ApiResponse(404, b"Not found.\n", {"x-content-type-options": "nosniff"}, "text/plain; charset=utf-8")
    return ApiResponse(200, content, {"x-content-type-options": "nosniff", "cache-control": "no-cache"}, kind)
