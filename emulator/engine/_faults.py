"""Fault rules on the API itself, as data: which requests a rule matches, what triggers it (count,
seeded probability, quota) and what it does (an error, added latency, a hang, a dropped connection
or a broken body).

The rules and their counters live in the store (`_rulebooks.FaultRules` adds, removes and triggers
them). Turning a request into `RequestFacts` and a fired rule into a response is the HTTP layer's
job (`http/_fault_intercept.py`); what needs a socket is played by each face.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ._scenarios import lookup
from ._strict_json import MAX_SAFE_INTEGER

FaultKind = Literal["error", "latency", "hang", "drop", "truncate", "malformed"]

MAX_SECONDS = 31_622_400.0  # a year, longer than any test waits: a latency, a hang, a retry-after, a quota window
# What an HTTP header can carry: a name is a token; a value is printable Latin-1, no line breaks,
# no white space at either end.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


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
    retry_after: float | None = Field(None, gt=0, le=MAX_SECONDS)
    should_retry: bool | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    seconds: float | None = Field(None, gt=0, le=MAX_SECONDS, validate_default=True)
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
        for name, text in value.items():
            if not HEADER_NAME.fullmatch(name) or not HEADER_VALUE.fullmatch(text):
                raise ValueError(
                    f"header {name!r}: {text!r} cannot be sent: a name is letters, digits and !#$%&'*+-.^_`|~, a "
                    "value printable Latin-1 without line breaks"
                )
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
    window_seconds: float = Field(60.0, gt=0, le=MAX_SECONDS)


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
    seen: int = Field(0, ge=0, le=MAX_SAFE_INTEGER)  # matching requests so far
    fired: int = Field(0, ge=0, le=MAX_SAFE_INTEGER)  # times the fault was applied
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
class RequestFacts:
    """What a fault rule can look at in a request (the HTTP layer reads them off the request)."""

    method: str
    path: str
    route: str | None  # the matched route's name, None when no route matches
    params: dict[str, str]  # path parameters of the matched route
    tenant_key: str | None
    tenant_name: str | None
    body: Any  # the JSON body, else the query as a dict, else None

    @property
    def control(self) -> bool:
        """The control plane is never faulted (the upload URLs are API traffic, not control)."""
        return self.path.startswith("/_emulator/") and not (self.route or "").startswith("upload.")


def matches(match: FaultMatch, facts: RequestFacts) -> bool:
    """Whether every field the rule gives matches the request."""
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


def uniform(seed: int, rule_id: str, draw: int) -> float:
    """The seeded draw in [0, 1) that decides whether a rule with a probability fires on its `draw`-th match."""
    digest = hashlib.blake2b(f"{seed}\x1f{rule_id}\x1f{draw}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultBook(_Data):
    """The fault rules in force, in order (the first rule that fires wins), as listed and exported:
    each rule with its counters, and the number the next added rule gets."""

    rules: list[FaultRule] = Field(default_factory=list)
    next_id: int = Field(1, ge=1, le=MAX_SAFE_INTEGER)
