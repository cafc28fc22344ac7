"""The control plane called in-process, for `EmulatorController`: one request through
`Emulator.handle`, the error an error answer raises, and typed models of the answers that have no
model of their own in the core.

The control plane builds those answers as plain JSON; the models here read them back, so the
controller returns a typed value for every route (the other answers reuse the core's models:
`Scenario`, `ScenarioEntry`, `FaultRule`, `ClockState`, `Snapshot`, `RecordedRequestView`, `Health`,
`CapacityState`, `QueueState`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from ..engine._clock import NS
from ..engine._parameters import Status
from ..engine._scenarios import EvalType, Outcome, Progression, Scenario, ScenarioEntry
from ..http._core import Emulator
from ..http._transport import ApiRequest
from ..http._wire import QueuePlace


class ControlPlaneError(Exception):
    """A control-plane request answered with an error (a 4xx in the real error shape).

    `status_code` is the HTTP status, `body` the whole error body (`{"error": {...}}`), and
    `message`, `type`, `param`, `code` its fields.
    """

    def __init__(self, method: str, path: str, status_code: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.method = method
        self.path = path
        self.status_code = status_code
        self.body = body
        self.message: str = str(error.get("message") or body)
        self.type: str | None = error.get("type")
        self.param: str | None = error.get("param")
        self.code: str | None = error.get("code")
        param = f" (param: {self.param})" if self.param else ""
        super().__init__(f"{method} {path} answered {status_code}: {self.message}{param}")


class ScenarioListing(BaseModel):
    """`GET /_emulator/scenarios`: the server default, the per-type scenarios and the entries
    (rules and "next N" entries) in the order they apply."""

    default: Scenario = Field(default_factory=Scenario)
    types: dict[EvalType, Scenario] = Field(default_factory=dict)
    entries: list[ScenarioEntry] = Field(default_factory=list)


class TimelinePhase(BaseModel):
    """One planned phase of a job: whether it is reached, and when (RFC 3339, nanoseconds) or
    after how many reads it is entered (None: not planned on the clock yet)."""

    status: Status
    reached: bool
    at: str | None = None
    after_reads: int | None = None


class JobSummary(BaseModel):
    """A job as the control plane shows it (`GET /_emulator/jobs/{id}`): reading it never counts
    as a client read."""

    workflow_id: str
    tenant: str  # the tenant's name, else its API key's fingerprint (`key-abcd…1a2b3c4d`)
    type: EvalType
    status: Status
    reads: int
    progression: Progression
    outcome: Outcome
    source: dict[str, str] = Field(default_factory=dict)  # which scenario level set each part
    timeline: list[TimelinePhase]
    results: dict[str, Any] | None = None
    queue: QueuePlace | None = None  # where it stands while `queued` (position, planned start)
    recording: str | None = None  # the recording it replays (docs/recordings.md), if any


class StateImported(BaseModel):
    """`PUT /_emulator/state`: what the imported snapshot held."""

    imported: bool
    tenants: int
    jobs: int


def send(
    emulator: Emulator, base_url: str, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
) -> Any:
    """Send one `/_emulator/<path>` request through `Emulator.handle` (so under the emulator's lock,
    with the admin token when one is set); its JSON answer, or `ControlPlaneError` for an error."""
    headers = {}
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    token = emulator.config.admin_token
    if token:
        headers["x-emulator-token"] = token
    request = ApiRequest(method, "/_emulator/" + path, base_url, urlencode(query or {}), headers, raw)
    response = emulator.handle(request)
    data = json.loads(response.body) if response.body else None
    if response.status_code >= 400:
        raise ControlPlaneError(method, request.path, response.status_code, data)
    return data


def payload(value: BaseModel | Mapping[str, Any]) -> Any:
    """A request body from a model (only the fields that were set, so unset ones keep the server's
    defaults) or from a plain mapping (sent as is: the control plane validates it)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Expected a model or a dict, got {type(value).__name__}.")


def epoch_ns(stamp: str) -> int:
    """Epoch nanoseconds of a control-plane time (`2026-01-01T00:00:06.020000000Z`, any number of
    fraction digits), without the rounding a float or `datetime` would add."""
    whole, _, fraction = stamp.removesuffix("Z").partition(".")
    seconds = int(datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp())
    return seconds * NS + int((fraction + "000000000")[:9])
