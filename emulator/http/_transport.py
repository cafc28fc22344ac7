"""Transport-neutral request and response values shared by every face (server, respx)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass
class ApiRequest:
    """One HTTP request as the core sees it: no sockets, no event loop."""

    method: str
    path: str
    base_url: str  # scheme://host[:port] the client used, for URLs handed back
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    api_key: str | None = field(init=False, repr=False)  # the bearer key, None when absent or empty

    def __post_init__(self) -> None:
        self.api_key = self._bearer_key()
        self._query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:  # parsed on first use (functools.cached_property locks on 3.11)
            self._query = dict(parse_qsl(self.query_string, keep_blank_values=True)) if self.query_string else {}
        return self._query

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def _bearer_key(self) -> str | None:
        """The bearer key, or None when absent or empty."""
        auth = self.header("authorization") or ""
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return None
        return key


@dataclass(frozen=True)
class AppliedFault:
    """The transport part of a fault that fired, carried on `ApiResponse.fault`: each face plays it
    (the Starlette face on the real connection, the in-process faces by raising the httpx exception
    a real network would have produced)."""

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


@dataclass
class ApiResponse:
    """One HTTP response produced by the core."""

    status_code: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = "application/json"
    fault: AppliedFault | None = None  # set by a fault rule; faces play its transport part
    # Makes the body when it takes long (a result file): `Emulator.handle` calls it outside its
    # lock, through `finish()`, before any face sees the response.
    deferred: Callable[[], bytes] | None = field(default=None, repr=False)

    def finish(self) -> ApiResponse:
        """Make the deferred body, if there is one."""
        if self.deferred is not None:
            self.body, self.deferred = self.deferred(), None
        return self

    def all_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.media_type and "content-type" not in {k.lower() for k in headers}:
            headers["content-type"] = self.media_type
        return headers
