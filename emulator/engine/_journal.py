"""The request journal: every API request the emulator answered, and assertions over it.

The HTTP layer records each request once, whatever face it came through (server or respx), so a
test can ask what its code sent: `journal.assert_called("evaluation.create", times=1)`. Entries
live in the store (`Store.append_request`); this module reads them. Control-plane requests
(`/_emulator/...`, except the upload URLs) are not recorded, so reading the journal over HTTP does
not change it.

The journal is discreet and bounded: an entry names its tenant by name or key fingerprint, never by
the key; secret fields of its body are masked (`_redaction.py`); a body larger than the configured
limit is kept as its size and SHA-256 only; and the oldest entries go when the journal holds more
than its limits in entries or in bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from pydantic import BaseModel

from ._redaction import key_fingerprint, mask_secrets
from ._store import JOURNAL_SEQ, RecordedRequest, Store

__all__ = ["Journal", "RecordedRequest", "RecordedRequestList", "RecordedRequestView", "RouteName"]

POLL_ROUTES = ("evaluation.retrieve", "evaluation.status")
DOCS = "see 'Asserting on the journal' in docs/testing.md"


class RouteName(Protocol):
    """What the journal knows of a route: its name, method and path template."""

    @property
    def name(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...


class RecordedRequestView(BaseModel):
    """A journal entry on the wire (GET /_emulator/requests)."""

    seq: int
    time: str
    method: str
    path: str
    query: dict[str, str]
    body: Any  # JSON as JSON, other bodies as text; None when empty or larger than the journal keeps
    body_size: int
    body_sha256: str
    body_truncated: bool  # larger than the journal keeps: only its size and SHA-256 are
    tenant: str | None  # the tenant's name, else its key's fingerprint
    route: str | None
    job_id: str | None
    file_id: str | None
    status_code: int

    @classmethod
    def of(cls, entry: RecordedRequest) -> RecordedRequestView:
        body: Any = entry.json()
        if body is None and entry.body:
            body = entry.body.decode("utf-8", errors="replace")
        return cls(
            seq=entry.seq,
            time=entry.time,
            method=entry.method,
            path=entry.path,
            query=entry.query,
            body=body,
            body_size=entry.size,
            body_sha256=entry.sha256,
            body_truncated=entry.truncated,
            tenant=entry.tenant,
            route=entry.route,
            job_id=entry.job_id,
            file_id=entry.file_id,
            status_code=entry.status_code,
        )


class RecordedRequestList(BaseModel):
    data: list[RecordedRequestView]


def _subset_mismatch(expected: Any, actual: Any, where: str = "body") -> str | None:
    """Where `actual` fails to contain `expected` (dicts match as subsets, all else by equality)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key}: missing"
            problem = _subset_mismatch(value, actual[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    return None if expected == actual else f"{where}: expected {expected!r}, got {actual!r}"


class Journal:
    """The recorded requests of a store, with filters and assertions.

    Routes are named by route name (`"evaluation.create"`), by method and template
    (`"POST /v1/evaluation"`, `"GET /v1/evaluation/{id}/status"`) or by method and concrete path
    (`"GET /v1/evaluation/eval-1a2b-1767225600"`).
    """

    def __init__(
        self,
        store: Store,
        routes: Callable[[], Sequence[RouteName]] = tuple,
        limit: int | None = None,
        *,
        byte_limit: int | None = None,
    ) -> None:
        self._store = store
        self._routes = routes  # the known routes, to check the names given to `filter`
        self.limit = limit or None  # the most recent `limit` requests are kept (all when None)
        self.byte_limit = byte_limit or None  # ... and only as many as fit in `byte_limit` bytes

    # ------------------------------------------------------------ recording

    def record(self, entry: Callable[[int], RecordedRequest]) -> RecordedRequest:
        """Append one answered request, given as the entry to make for its number; returns it."""
        made = entry(self._store.increment(JOURNAL_SEQ))
        self._store.append_request(made, self.limit, self.byte_limit)
        return made

    def clear(self) -> None:
        """Forget every recorded request (the journal-only reset)."""
        self._store.clear_requests()

    # ------------------------------------------------------------ reading

    @property
    def entries(self) -> list[RecordedRequest]:
        """A snapshot of every recorded request, oldest first."""
        return self._store.requests()

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> RecordedRequest:
        return self.entries[index]

    def _matcher(self, route: str) -> Callable[[RecordedRequest], bool]:
        __tracebackhide__ = True
        method, _, path = route.partition(" ") if " " in route else ("", "", route)
        method = method.upper()
        known = self._routes()
        if not path.startswith("/"):
            if not any(r.name == route for r in known):
                raise ValueError(
                    f"Unknown route name {route!r}. Known routes: {', '.join(sorted({r.name for r in known}))}."
                )
            return lambda e: e.route == route
        if "{" in path:
            if not any(r.path == path and (not method or r.method == method) for r in known):
                raise ValueError(
                    f"No route {route!r}. Known routes: {', '.join(f'{r.method} {r.path}' for r in known)}."
                )
            return lambda e: e.route_path == path and (not method or e.method == method)
        return lambda e: e.path == path and (not method or e.method == method)

    def filter(
        self,
        route: str | None = None,
        *,
        job_id: str | None = None,
        file_id: str | None = None,
        tenant: str | None = None,
        status_code: int | None = None,
    ) -> list[RecordedRequest]:
        """The recorded requests matching every given criterion. `tenant` is an API key, a
        tenant's name or a key fingerprint (`key_fingerprint`)."""
        __tracebackhide__ = True
        match = self._matcher(route) if route else (lambda e: True)
        tenants = None if tenant is None else {tenant, key_fingerprint(tenant)}
        return [
            e
            for e in self.entries
            if match(e)
            and (job_id is None or e.job_id == job_id)
            and (file_id is None or e.file_id == file_id)
            and (tenants is None or e.tenant in tenants or e.key_fingerprint in tenants)
            and (status_code is None or e.status_code == status_code)
        ]

    def count(self, route: str, **criteria: Any) -> int:
        """How many recorded requests match `route` (and the `filter` criteria)."""
        return len(self.filter(route, **criteria))

    def polls(self, job_id: str) -> int:
        """How many times a job was read (GET /v1/evaluation/{id} and /status)."""
        return sum(1 for e in self.entries if e.job_id == job_id and e.route in POLL_ROUTES)

    # ------------------------------------------------------------ assertions

    def _listing(self, calls: list[RecordedRequest], title: str) -> str:
        if not calls:
            everything = self.entries
            if not everything:
                return f"\n{title}: none (the journal is empty)."
            return f"\n{title}: none. All recorded requests:\n" + "\n".join(
                "  " + e.describe() for e in everything[-20:]
            )
        return f"\n{title}:\n" + "\n".join("  " + e.describe() for e in calls[-20:])

    def assert_called(self, route: str, *, times: int | None = None, **criteria: Any) -> list[RecordedRequest]:
        """Assert `route` was called (exactly `times` times when given); returns the calls."""
        __tracebackhide__ = True
        calls = self.filter(route, **criteria)
        where = f"{route}" + (f" with {criteria}" if criteria else "")
        if times is None and not calls:
            raise AssertionError(
                f"expected at least 1 call to {where}, got 0" + self._listing(calls, "Matching calls") + f"\n({DOCS})"
            )
        if times is not None and len(calls) != times:
            raise AssertionError(
                f"expected {times} call{'s' * (times != 1)} to {where}, got {len(calls)}"
                + self._listing(calls, "Matching calls")
                + f"\n({DOCS})"
            )
        return calls

    def assert_not_called(self, route: str, **criteria: Any) -> None:
        """Assert no recorded request matches `route`."""
        __tracebackhide__ = True
        self.assert_called(route, times=0, **criteria)

    def assert_called_with(
        self, route: str, *, body: dict[str, Any] | None = None, query: dict[str, str] | None = None, **criteria: Any
    ) -> RecordedRequest:
        """Assert some call to `route` had a JSON body containing `body` (a recursive subset) and
        the `query` parameters; returns the last such call. Secrets in `body` and `query` are
        compared masked, as the journal keeps them."""
        __tracebackhide__ = True
        calls = self.filter(route, **criteria)
        problems = []
        expected_body, expected_query = mask_secrets(body), mask_secrets(query)
        for entry in reversed(calls):
            problem = _subset_mismatch(expected_body, entry.json()) if body is not None else None
            if problem is None and query is not None:
                problem = _subset_mismatch(expected_query, entry.query, "query")
            if problem is None:
                return entry
            problems.append(f"  #{entry.seq}: {problem}")
        expected = " and ".join(
            p
            for p in (
                f"body matching {body!r}" if body is not None else "",
                f"query {query!r}" if query is not None else "",
            )
            if p
        )
        raise AssertionError(
            f"expected a call to {route} with {expected}, got {len(calls)} call(s), none matching"
            + ("\nMismatches (latest first):\n" + "\n".join(problems) if problems else "")
            + self._listing(calls, "Calls")
            + f"\n({DOCS})"
        )

    def assert_polled(
        self, job_id: str, *, times: int | None = None, min: int | None = None, max: int | None = None
    ) -> int:
        """Assert how many times a job was read (exactly `times`, or within `min`..`max`)."""
        __tracebackhide__ = True
        polls = [e for e in self.entries if e.job_id == job_id and e.route in POLL_ROUTES]
        count = len(polls)
        if times is not None and count != times:
            wanted = f"exactly {times}"
        elif min is not None and count < min:
            wanted = f"at least {min}"
        elif max is not None and count > max:
            wanted = f"at most {max}"
        elif times is None and min is None and max is None and count == 0:
            wanted = "at least 1"
        else:
            return count
        raise AssertionError(
            f"expected job {job_id} to be polled {wanted} time(s), got {count}"
            + self._listing(polls, "Polls")
            + f"\n({DOCS})"
        )
