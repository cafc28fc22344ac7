"""Transport-neutral request and response values shared by every face (server, respx)."""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol
from urllib.parse import parse_qsl

SPOOL_MEMORY = 1 << 20  # bytes of a streamed body held in memory; beyond, it goes to a temporary file


class SpooledBody:
    """A request body written, as it arrives, to a `tempfile.SpooledTemporaryFile` (in memory up to
    `max_memory` bytes, on disk beyond), its size and SHA-256 taken on the way. A face streams a
    body into one so that a large upload is never held whole in memory before a handler reads it,
    once (`ApiRequest.body_stream`)."""

    def __init__(self, max_memory: int = SPOOL_MEMORY) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=max_memory)
        self._max_memory = max_memory
        self._sha256 = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)

    @property
    def on_disk(self) -> bool:
        """Whether the body outgrew memory and went to a temporary file."""
        return self.size > self._max_memory

    def stream(self) -> BinaryIO:
        """The body from its start (one reader at a time)."""
        self._file.seek(0)
        return self._file  # type: ignore[return-value]

    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def close(self) -> None:
        self._file.close()


class ApiRequest:
    """One HTTP request as the core sees it: no sockets, no event loop.

    Its body is given in memory (`body`), or, by a face that streamed it, as a `SpooledBody`: then
    `body` reads it whole on first use, while the upload handlers read it as a stream
    (`body_stream`) and the journal keeps only its size, digest and (when small) its bytes. A face that
    stopped reading a body at its route's limit says so with `oversized` (the core answers 413).
    """

    def __init__(
        self,
        method: str,
        path: str,
        base_url: str,  # scheme://host[:port] the client used, for URLs handed back
        query_string: str = "",
        headers: dict[str, str] | None = None,  # lower-case names
        body: bytes = b"",
        *,
        spooled: SpooledBody | None = None,
        oversized: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.base_url = base_url
        self.query_string = query_string
        self.headers = headers if headers is not None else {}
        self.spooled = spooled
        self.oversized = oversized  # the face stopped reading the body at its limit: the body is larger
        self._body: bytes | None = body if spooled is None else None
        self._query: dict[str, str] | None = None
        self.api_key = self._bearer_key()  # the bearer key, None when absent or empty

    def __repr__(self) -> str:
        return f"ApiRequest({self.method} {self.path}{'?' if self.query_string else ''}{self.query_string})"

    @property
    def body(self) -> bytes:
        """The whole body (a streamed one is read from its spool on first use, then kept)."""
        if self._body is None:
            assert self.spooled is not None
            self._body = self.spooled.stream().read()
        return self._body

    @property
    def body_loaded(self) -> bool:
        """Whether the whole body is held in memory (always, unless it was streamed and not read whole)."""
        return self._body is not None

    @property
    def body_size(self) -> int:
        return self.spooled.size if self.spooled is not None else len(self.body)

    def body_stream(self) -> BinaryIO:
        """The body as a binary stream from its start, without holding it in memory if it was streamed."""
        return self.spooled.stream() if self.spooled is not None else io.BytesIO(self.body)

    def body_sha256(self) -> str:
        """Hex SHA-256 of the body."""
        return self.spooled.sha256() if self.spooled is not None else hashlib.sha256(self.body).hexdigest()

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:  # parsed on first use
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


class StreamedBody(Protocol):
    """A body too large to make whole (a result file, `engine._files.GeneratedFile`): its size, known
    before its first byte (the `Content-Length`), and its chunks, made one by one as they are sent.
    Every check a chunk could fail was made before the response was answered, so none fails half-way."""

    @property
    def size(self) -> int: ...

    @property
    def chunks(self) -> Iterator[bytes]: ...


class ApiResponse:
    """One HTTP response produced by the core.

    Its body is bytes, or (a result file) a `StreamedBody` in `stream`, which the faces send chunk by
    chunk. Reading `body` joins a streamed body whole (for callers that want the bytes: in-process
    clients, faults that cut a body in half)."""

    def __init__(
        self,
        status_code: int = 200,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        media_type: str | None = "application/json",
        fault: AppliedFault | None = None,  # set by a fault rule; faces play its transport part
        # Makes the body when it takes long (a result file): `Emulator.handle` calls it outside its
        # lock, through `finish()`, before any face sees the response.
        deferred: Callable[[], bytes | StreamedBody] | None = None,
    ) -> None:
        self.status_code = status_code
        self._body = body
        self.stream: StreamedBody | None = None
        self.headers = headers if headers is not None else {}
        self.media_type = media_type
        self.fault = fault
        self.deferred = deferred

    def __repr__(self) -> str:
        body = f"stream of {self.stream.size} bytes" if self.stream is not None else f"{len(self._body)} bytes"
        return f"ApiResponse({self.status_code}, {body})"

    @property
    def body(self) -> bytes:
        """The whole body (a streamed one is joined, once: then it is no longer streamed)."""
        if self.stream is not None:
            self._body, self.stream = b"".join(self.stream.chunks), None
        return self._body

    @body.setter
    def body(self, value: bytes) -> None:
        self._body, self.stream = value, None

    @property
    def size(self) -> int:
        """The body's length in bytes, streamed or not (its `Content-Length`)."""
        return self.stream.size if self.stream is not None else len(self._body)

    def finish(self, *, whole: bool = False) -> ApiResponse:
        """Make the deferred body, if there is one: bytes, or a stream whose chunks are made as it is
        read (`whole`: joined now)."""
        if self.deferred is not None:
            made, self.deferred = self.deferred(), None
            if isinstance(made, bytes):
                self.body = made
            else:
                self._body, self.stream = b"", made
        if whole and self.stream is not None:
            self.body = b"".join(self.stream.chunks)
        return self

    def all_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.media_type and "content-type" not in {k.lower() for k in headers}:
            headers["content-type"] = self.media_type
        return headers
