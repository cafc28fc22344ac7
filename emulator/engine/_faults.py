"""Faults on the API itself: rules matched on the request, triggered by count, seeded probability
or quota, answered with an error, added latency, a hang, a dropped connection or a broken body.

The core decides (`intercept`, called from `Emulator.handle`); what needs a socket travels on
`ApiResponse.fault` as an `AppliedFault`, which each face plays: the Starlette face on the real
connection (`fault_responses.py`), the in-process faces by raising the httpx exception a real
network would have produced (`httpx_effect`, `raise_for_fault`, `araise_for_fault`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..http._routing import Call, Route, error_response, resolve
from ..http._transport import ApiRequest, ApiResponse
from ._errors import ApiError
from ._scenarios import lookup

if TYPE_CHECKING:
    from ..http._core import Emulator

FaultKind = Literal["error", "latency", "hang", "drop", "truncate", "malformed"]
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


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _only_for(info: ValidationInfo, kinds: tuple[str, ...]) -> None:
    kind = info.data.get("kind")
    if kind not in kinds:
        raise ValueError(f"'{info.field_name}' only applies to kind {' or '.join(map(repr, kinds))} (got {kind!r})")


class FaultMatch(_Data):
    """Which requests a rule applies to; every given field must match. Globs are shell-style."""

    route: str | None = None  # route name or glob: "evaluation.status", "files.*"
    method: str | None = None
    path: str | None = None  # path glob: "/v1/evaluation/*/status"
    tenant: str | None = None  # API key or tenant name
    job_id: str | None = None  # the {id} of /v1/evaluation/{id}...
    fields: dict[str, Any] = Field(default_factory=dict)  # JSON body (or query) dotted path -> value


class FaultAction(_Data):
    """What a firing rule does.

    * `error`: answer `status` with the real error body; `retry_after` (seconds) sends
      `retry-after` and `retry-after-ms`, `should_retry` sends `x-should-retry`.
    * `latency`: answer normally after `seconds`.
    * `hang`: never answer; the connection closes after `seconds` (default 300) if the client waits.
    * `drop`: close the connection without an answer (`stage`: `response`, or `connect` which
      in-process faces raise as `httpx.ConnectError`).
    * `truncate`: send the headers and half of the body, then close the connection.
    * `malformed`: answer with half of the JSON body (complete HTTP, invalid JSON).
    """

    kind: FaultKind
    status: int | None = Field(None, ge=400, le=599, validate_default=True)
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    retry_after: float | None = Field(None, gt=0)
    should_retry: bool | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    seconds: float | None = Field(None, gt=0, validate_default=True)
    stage: Literal["response", "connect"] | None = None

    @field_validator("status", "message", "type", "code", "param", "retry_after", "should_retry")
    @classmethod
    def _error_fields(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            _only_for(info, ("error",))
        elif info.field_name == "status" and info.data.get("kind") == "error":
            raise ValueError("kind 'error' needs 'status' (an HTTP status from 400 to 599)")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if value:
            _only_for(info, ("error",))
        return value

    @field_validator("seconds")
    @classmethod
    def _seconds(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None:
            _only_for(info, ("latency", "hang"))
        elif info.data.get("kind") == "latency":
            raise ValueError("kind 'latency' needs 'seconds' (> 0)")
        return value

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _only_for(info, ("drop",))
        return value


class Quota(_Data):
    """At most `limit` requests per `window_seconds` (emulator clock) for each tenant."""

    limit: int = Field(ge=1)
    window_seconds: float = Field(60.0, gt=0)


class FaultRule(_Data):
    """One fault: when (match and trigger) and what (action). Triggers combine: the rule fires on
    a matching request once `after` matches have passed, while fewer than `times` have fired, with
    `probability` (seeded), and, with a quota, only when the tenant is over it."""

    id: str | None = None  # assigned when added
    name: str | None = None
    match: FaultMatch = Field(default_factory=FaultMatch)
    action: FaultAction = Field(default_factory=lambda: FaultAction(kind="error", status=429))
    times: int | None = Field(None, ge=1)
    after: int = Field(0, ge=0)
    probability: float = Field(1.0, ge=0, le=1)
    quota: Quota | None = None
    process: bool = False  # error/hang/drop: let the request take effect before the fault
    seen: int = Field(0, ge=0)  # matching requests so far
    fired: int = Field(0, ge=0)  # times the fault was applied
    window: dict[str, list[int]] = Field(default_factory=dict)  # quota: tenant -> admitted at (ns)

    @field_validator("process")
    @classmethod
    def _process(cls, value: bool, info: ValidationInfo) -> bool:
        action = info.data.get("action")
        if value and action is not None and action.kind not in ("error", "hang", "drop"):
            raise ValueError(
                f"'process' only applies to error, hang and drop faults (kind is {action.kind!r}); "
                "the other kinds always process the request"
            )
        return value


@dataclass(frozen=True)
class AppliedFault:
    """The transport-neutral part of a fault, carried on `ApiResponse.fault`."""

    rule_id: str
    kind: str
    latency: float = 0.0  # wait this long before answering
    hang_seconds: float | None = None  # never answer (close after this long)
    drop: str | None = None  # "response" or "connect": close without answering
    truncate: bool = False  # send headers and part of the body, then close

    @property
    def transport(self) -> bool:
        """True when the face must do something beyond sending the response as is."""
        return bool(self.latency or self.hang_seconds is not None or self.drop or self.truncate)


@dataclass(frozen=True)
class RequestFacts:
    method: str
    path: str
    route: str | None
    params: dict[str, str]
    tenant_key: str | None
    tenant_name: str | None
    body: Any
    resolved: Route | None = None

    @classmethod
    def of(cls, emulator: Emulator, request: ApiRequest) -> RequestFacts:
        route: Route | None
        try:
            route, params = resolve(emulator.routes, request)
        except ApiError:
            route, params = None, {}
        key = request.api_key
        tenant = emulator.state.tenants.get(key) if key else None
        try:
            body: Any = json.loads(request.body) if request.body.strip() else dict(request.query)
        except (ValueError, UnicodeDecodeError):
            body = None
        return cls(
            request.method.upper(),
            request.path,
            route.name if route else None,
            params,
            key,
            tenant.name if tenant else None,
            body,
            route,
        )

    def call(self, emulator: Emulator, request: ApiRequest) -> Call | None:
        """What the journal sees of a request a fault answered without running it."""
        return Call(emulator, request, self.params, self.resolved) if self.resolved else None

    @property
    def control(self) -> bool:
        """The control plane is never faulted (the upload URLs are API traffic, not control)."""
        return self.path.startswith("/_emulator/") and not (self.route or "").startswith("upload.")


def _matches(match: FaultMatch, facts: RequestFacts) -> bool:
    return all(
        [
            match.route is None or (facts.route is not None and fnmatch.fnmatchcase(facts.route, match.route)),
            match.method is None or match.method.upper() == facts.method,
            match.path is None or fnmatch.fnmatchcase(facts.path, match.path),
            match.tenant is None or match.tenant in (facts.tenant_key, facts.tenant_name),
            match.job_id is None
            or (facts.route or "").startswith("evaluation.")
            and facts.params.get("id") == match.job_id,
            all(lookup(facts.body, path) == (True, value) for path, value in match.fields.items()),
        ]
    )


def _uniform(seed: int, rule_id: str, draw: int) -> float:
    digest = hashlib.blake2b(f"{seed}\x1f{rule_id}\x1f{draw}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultBook(_Data):
    """The fault rules in force, in order; the first rule that fires wins."""

    rules: list[FaultRule] = Field(default_factory=list)
    next_id: int = 1

    def add(self, rule: FaultRule) -> FaultRule:
        rule = rule.model_copy(update={"id": f"fault-{self.next_id}", "seen": 0, "fired": 0, "window": {}})
        self.next_id += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> FaultRule | None:
        for index, rule in enumerate(self.rules):
            if rule.id == rule_id:
                return self.rules.pop(index)
        return None

    def trigger(self, facts: RequestFacts, now_ns: int, seed: int) -> tuple[FaultRule, float | None] | None:
        """The rule that fires for this request and, for a quota, the honest wait in seconds."""
        for rule in self.rules:
            if not _matches(rule.match, facts):
                continue
            rule.seen += 1
            if rule.seen <= rule.after or (rule.times is not None and rule.fired >= rule.times):
                continue
            if rule.probability < 1 and _uniform(seed, rule.id or "", rule.seen) >= rule.probability:
                continue
            wait = None
            if rule.quota is not None:
                wait = self._over_quota(rule, rule.quota, facts.tenant_key or "", now_ns)
                if wait is None:
                    continue
            rule.fired += 1
            return rule, wait
        return None

    @staticmethod
    def _over_quota(rule: FaultRule, quota: Quota, tenant: str, now_ns: int) -> float | None:
        """Seconds until the tenant may send again, or None (the request is admitted and counted)."""
        window_ns = int(quota.window_seconds * 1e9)
        admitted = [t for t in rule.window.get(tenant, []) if t > now_ns - window_ns]
        if len(admitted) < quota.limit:
            rule.window[tenant] = admitted + [now_ns]
            return None
        rule.window[tenant] = admitted
        return (admitted[-quota.limit] + window_ns - now_ns) / 1e9


# ---------------------------------------------------------------- the core's side


def intercept(
    emulator: Emulator, request: ApiRequest, run: Callable[[], tuple[ApiResponse, Call | None]]
) -> tuple[ApiResponse, Call | None]:
    """Run `request` through the fault rules: `run()` dispatches it for real."""
    book = emulator.state.faults
    if not book.rules:
        return run()
    facts = RequestFacts.of(emulator, request)
    if facts.control:
        return run()
    fired = book.trigger(facts, emulator.clock.now_ns(), emulator.config.seed)
    if fired is None:
        return run()
    rule, wait = fired
    action = rule.action
    rule_id = rule.id or "fault"
    if action.kind == "error":
        call = run()[1] if rule.process else facts.call(emulator, request)
        response = error_response(_error(rule_id, action, rule.quota, wait))
        response.fault = AppliedFault(rule_id, "error")
        return response, call
    if action.kind in ("hang", "drop"):
        response, call = run() if rule.process else (ApiResponse(body=b""), facts.call(emulator, request))
        response.fault = AppliedFault(
            rule_id,
            action.kind,
            hang_seconds=(action.seconds or DEFAULT_HANG_SECONDS) if action.kind == "hang" else None,
            drop=(action.stage or "response") if action.kind == "drop" else None,
        )
        return response, call
    response, call = run()
    if action.kind == "malformed":
        response.body = response.body[: len(response.body) // 2] or b"{"
    latency = action.seconds if action.kind == "latency" and action.seconds else 0.0
    response.fault = AppliedFault(rule_id, action.kind, latency=latency, truncate=action.kind == "truncate")
    return response, call


def _error(rule_id: str, action: FaultAction, quota: Quota | None, wait: float | None) -> ApiError:
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
