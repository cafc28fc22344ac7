"""The journal entry of one answered request: what the HTTP layer hands the engine's journal."""

from __future__ import annotations

import json
import math

from ..engine._journal import POLL_ROUTES
from ..engine._redaction import has_secrets, is_secret_field, key_fingerprint, mask_secrets, masked
from ..engine._store import RecordedRequest
from ._routing import Call
from ._transport import ApiRequest, ApiResponse

UPLOAD_PREFIX = "/_emulator/uploads/"  # the upload URLs: API traffic under the control plane's prefix
# A body holding none of these has no secret field (`_redaction.is_secret_field`).
SECRET_WORDS = (b"token", b"api_key", b"apikey", b"api-key", b"upload_id", b"upload-id")

# Routes whose response names what they created (read only for those: a list body can be large).
CREATING_ROUTES = frozenset(
    {
        "evaluation.create",
        "files.upload",
        "files.direct_upload",
        "files.multipart.initiate",
        "files.multipart.complete",
        "files.preprocess",
    }
)


def recorded(request: ApiRequest) -> bool:
    """Whether a request goes into the journal: control-plane requests do not (the upload URLs do)."""
    return not request.path.startswith("/_emulator/") or request.path.startswith(UPLOAD_PREFIX)


def _ids(call: Call | None, response: ApiResponse) -> tuple[str | None, str | None]:
    """(job id, file id) a request concerns: from its path, else from what it created."""
    name = call.route.name if call else ""
    job_id = file_id = None
    if call and "id" in call.params:
        if name.startswith("evaluation"):
            job_id = call.params["id"]
        elif name.startswith("files"):
            file_id = call.params["id"]
    if name in CREATING_ROUTES and response.status_code < 400 and (job_id or file_id) is None:
        file_id = response.headers.get("x-together-file-id")
        if response.media_type == "application/json" and response.body[:1] == b"{":
            try:
                created = json.loads(response.body)
            except ValueError:
                created = {}
            if name.startswith("evaluation"):
                job_id = created.get("workflow_id")
            elif name.startswith("files"):
                file_id = file_id or created.get("file_id") or created.get("id")
    return job_id, file_id


def _shown_path(path: str) -> str:
    """The path as the journal shows it: an upload URL's token as its fingerprint."""
    if not path.startswith(UPLOAD_PREFIX):
        return path
    token, slash, rest = path[len(UPLOAD_PREFIX) :].partition("/")
    return f"{UPLOAD_PREFIX}{masked(token)}{slash}{rest}" if token else path


def _might_hold_secrets(body: bytes) -> bool:
    lowered = body.lower()
    # `\u`: a name may be written with escapes
    return b"\\u" in lowered or any(word in lowered for word in SECRET_WORDS)


def _kept_body(request: ApiRequest, limit: int) -> tuple[bytes, int | None, str | None]:
    """(the body as the journal keeps it, its size and SHA-256 when they are not those of what is kept).

    A body larger than `limit` is kept as its size and digest only (no prefix: a cut body could
    show part of a secret). A JSON body's secret fields are masked."""
    size = request.body_size
    if size > limit:
        return b"", size, request.body_sha256()
    body = request.body
    if not body or not _might_hold_secrets(body):
        return body, None, None
    try:
        parsed = json.loads(body)
        if not has_secrets(parsed):
            return body, None, None
        return json.dumps(mask_secrets(parsed), ensure_ascii=False).encode(), None, None
    except (ValueError, UnicodeDecodeError):  # not JSON: a form or a file's bytes, kept as sent
        return body, None, None
    except RecursionError:  # too deep to look into: its secrets cannot be masked, so it is not kept
        return b"", size, request.body_sha256()


def retry_after_ms(response: ApiResponse) -> int | None:
    """The wait an answer asks for, in milliseconds: `retry-after-ms` when it has one (what the SDKs
    read first), else `retry-after` in seconds (an HTTP date is not read); None when it asks none."""
    if not response.headers:
        return None
    headers = {name.lower(): value for name, value in response.headers.items()}
    for name, scale in (("retry-after-ms", 1.0), ("retry-after", 1000.0)):
        try:
            wait = float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
        if math.isfinite(wait) and wait >= 0:
            return math.ceil(wait)
    return None


def _job_status(call: Call | None, response: ApiResponse) -> str | None:
    """The status a read of one job showed its client: None unless a retrieve or status read was
    answered in full (an error, or a fault that broke or withheld the answer, showed none)."""
    if call is None or call.route.name not in POLL_ROUTES or response.status_code >= 300:
        return None
    if response.fault is not None and response.fault.kind != "latency":
        return None
    return call.job_status


def journal_entry(
    seq: int,
    request: ApiRequest,
    call: Call | None,
    response: ApiResponse,
    now_ns: int,
    *,
    tenant_name: str | None,
    body_limit: int,
    wall_ns: int | None = None,
) -> RecordedRequest:
    """The entry of an answered request, numbered `seq`: its tenant shown by name (`tenant_name`)
    or key fingerprint, its secrets masked, its body kept when at most `body_limit` bytes; the
    wall time (`wall_ns`), the Retry-After the answer carried and, for a read of one job, the
    status it showed (what the polling verdict grades, docs/polling.md)."""
    job_id, file_id = _ids(call, response)
    key = request.api_key
    fingerprint = key_fingerprint(key) if key is not None else None
    refused = response.status_code == 413  # a body too large is not kept (a face may not even have read it)
    body, body_size, body_sha256 = (b"", None, None) if refused else _kept_body(request, body_limit)
    return RecordedRequest(
        seq=seq,
        method=request.method,
        path=_shown_path(request.path),
        query={name: masked(value) if is_secret_field(name) else value for name, value in request.query.items()},
        body=body,
        tenant=tenant_name or fingerprint,
        route=call.route.name if call else None,
        route_path=call.route.path if call else None,
        job_id=job_id,
        file_id=file_id,
        status_code=response.status_code,
        time_ns=now_ns,
        key_fingerprint=fingerprint,
        body_size=body_size,
        body_sha256=body_sha256,
        wall_ns=wall_ns,
        retry_after_ms=retry_after_ms(response),
        job_status=_job_status(call, response),
    )
