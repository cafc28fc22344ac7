"""The journal entry of one answered request: what the HTTP layer hands the engine's journal."""

from __future__ import annotations

import json

from ..engine._store import RecordedRequest
from ._routing import Call
from ._transport import ApiRequest, ApiResponse

UPLOAD_PREFIX = "/_emulator/uploads/"  # the upload URLs: API traffic under the control plane's prefix

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


def journal_entry(
    seq: int, request: ApiRequest, call: Call | None, response: ApiResponse, now_ns: int
) -> RecordedRequest:
    """The entry of an answered request, numbered `seq`."""
    job_id, file_id = _ids(call, response)
    return RecordedRequest(
        seq=seq,
        method=request.method,
        path=request.path,
        query=request.query,
        body=b"" if response.status_code == 413 else request.body,  # a body too large is not kept
        tenant=request.api_key,
        route=call.route.name if call else None,
        route_path=call.route.path if call else None,
        job_id=job_id,
        file_id=file_id,
        status_code=response.status_code,
        time_ns=now_ns,
    )
