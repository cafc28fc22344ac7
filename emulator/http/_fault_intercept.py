"""Fault rules applied to requests: the request's facts for matching, and a fired rule turned into
the response (an error body) or into the `AppliedFault` each face plays on its transport.

`intercept`, called from `Emulator.handle`, runs a request through the engine's fault rules
(`engine/_rulebooks.FaultRules.trigger`, which owns matching, triggers and counters).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..engine import _strict_json as strict_json
from ..engine._engine import Engine
from ..engine._errors import ApiError
from ..engine._faults import FaultAction, Quota, RequestFacts
from ._routing import Call, Route, error_response, resolve
from ._transport import ApiRequest, ApiResponse, AppliedFault
from ._view_cache import ViewCache

DEFAULT_HANG_SECONDS = 300.0

# Emulator defaults per status; the real service's wording for these is not public.
ERROR_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "The request was rejected."),
    401: ("invalid_request_error", "Invalid API key provided."),
    403: ("invalid_request_error", "You do not have access to this resource."),
    404: ("invalid_request_error", "The requested resource was not found."),
    408: ("invalid_request_error", "The request timed out."),
    409: ("invalid_request_error", "The request conflicts with the current state of the resource."),
    422: ("invalid_request_error", "The request could not be processed."),
    429: ("rate_limit_exceeded", "Rate limit exceeded. Please slow down and retry later."),
    500: ("server_error", "The server had an error while processing your request."),
    502: ("server_error", "Bad gateway."),
    503: ("server_error", "The server is overloaded or not ready yet."),
    504: ("server_error", "The server timed out while processing your request."),
}

Run = Callable[[], tuple[ApiResponse, Call | None]]


def request_facts(engine: Engine, routes: Sequence[Route], request: ApiRequest) -> tuple[RequestFacts, Route | None]:
    """What the fault rules can match in a request, and the route it resolves to (if any)."""
    route: Route | None
    try:
        route, params = resolve(routes, request)
    except ApiError:
        route, params = None, {}
    key = request.api_key
    tenant = engine.tenants.find(key) if key else None
    body: Any = None
    # A streamed body is parsed only for a route that takes JSON: the bytes of an upload are not
    # fields a rule can match, and reading them whole here would hold a large upload twice.
    takes_json = route is not None and route.body is not None and "application/json" in route.body.content
    if request.body_loaded or takes_json:
        try:
            limits = strict_json.JsonLimits(engine.config.max_json_depth)
            body = strict_json.loads(request.body, limits) if request.body.strip() else dict(request.query)
        except ValueError:  # not JSON the emulator takes: a rule cannot match its fields
            body = None
    facts = RequestFacts(
        request.method.upper(),
        request.path,
        route.name if route else None,
        params,
        key,
        tenant.name if tenant else None,
        body,
    )
    return facts, route


def intercept(
    engine: Engine, views: ViewCache, routes: Sequence[Route], request: ApiRequest, run: Run
) -> tuple[ApiResponse, Call | None]:
    """Run `request` through the fault rules: `run()` dispatches it for real."""
    if not engine.faults.active():
        return run()
    facts, route = request_facts(engine, routes, request)
    if facts.control:
        return run()
    fired = engine.faults.trigger(facts, engine.clock.now_ns(), engine.config.seed)
    if fired is None:
        return run()
    rule, wait = fired
    action = rule.action
    rule_id = rule.id or "fault"
    # What the journal sees of a request a fault answered without running it.
    unrun = Call(engine, views, request, facts.params, route) if route else None
    if action.kind == "error":
        call = run()[1] if rule.process else unrun
        response = error_response(fault_error(rule_id, action, rule.quota, wait))
        response.fault = AppliedFault(rule_id, "error")
        return response, call
    if action.kind in ("hang", "drop"):
        response, call = run() if rule.process else (ApiResponse(body=b""), unrun)
        response.fault = AppliedFault(
            rule_id,
            action.kind,
            hang_seconds=(action.seconds or DEFAULT_HANG_SECONDS) if action.kind == "hang" else None,
            drop=(action.stage or "response") if action.kind == "drop" else None,
        )
        return response, call
    response, call = run()
    if action.kind == "malformed":
        body = response.finish().body
        response.body = body[: len(body) // 2] or b"{"
    latency = action.seconds if action.kind == "latency" and action.seconds else 0.0
    response.fault = AppliedFault(rule_id, action.kind, latency=latency, truncate=action.kind == "truncate")
    return response, call


def fault_error(rule_id: str, action: FaultAction, quota: Quota | None, wait: float | None) -> ApiError:
    """The error an `error` fault answers with, in the real error shape."""
    status = action.status or 500
    error_type, message = ERROR_DEFAULTS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", f"Emulated HTTP {status}.")
    )
    if quota is not None and wait is not None and action.message is None:
        message = (
            f"Rate limit exceeded: at most {quota.limit} requests per {quota.window_seconds:g} s for this "
            f"API key. Retry after {wait:.3f} s."
        )
    headers: dict[str, str] = {}
    retry_after = wait if wait is not None else action.retry_after
    if retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(retry_after)))
        headers["retry-after-ms"] = str(max(1, math.ceil(retry_after * 1000)))
    if action.should_retry is not None:
        headers["x-should-retry"] = "true" if action.should_retry else "false"
    headers.update({name.lower(): value for name, value in action.headers.items()})
    error = ApiError(
        f"{action.message or message} (emulated fault '{rule_id}')",
        param=action.param,
        code=action.code,
        headers=headers,
    )
    error.status_code = status
    error.error_type = action.type or error_type
    return error
