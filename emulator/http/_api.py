"""The Together API handlers: evaluations, files, whoami (docs/wire-contract.md#routes). Each handler reads
the request, calls the core once and renders a wire model; `_routes.py` declares the routes they serve."""

from __future__ import annotations

from collections.abc import Callable

from ..engine._errors import InvalidRequest
from ..engine._files import file_type_of
from ..engine._ids import stable_hex
from ._extension import api_extensions
from ._forms import UploadedPart, parse_form
from ._recording import UPLOAD_PREFIX
from ._routing import Call, json_response, query_int
from ._transport import ApiResponse
from ._views import file_view, job_json, shown_job, shown_status
from ._wire import (
    STATUSES,
    EvaluationCreateResponse,
    EvaluationUpdateRequest,
    EvaluationUpdateResponse,
    FileDeleteResponse,
    FileListResponse,
    ModelListResponse,
    MultipartAbortRequest,
    MultipartCompleteRequest,
    MultipartInitiateRequest,
    MultipartInitiateResponse,
    UploadPart,
    UploadRequestForm,
    WhoamiAPIKey,
    WhoamiOrganization,
    WhoamiProject,
    WhoamiResponse,
)

DEFAULT_LIST_LIMIT = 10
MAX_LIST_LIMIT = 100

# ---------------------------------------------------------------- evaluations


def create_evaluation(call: Call) -> ApiResponse:
    body = call.json()
    for extension in api_extensions(call.engine):  # an add-on's own create body (the documented API's)
        if extension.claims(body):
            return json_response(extension.create(call.engine, call.tenant, body))
    job = call.engine.jobs.create(call.tenant, body)
    return json_response(EvaluationCreateResponse(workflow_id=job.workflow_id))


def prepare_create(call: Call) -> Callable[[], object] | None:
    """The dataset parse and the verdicts of a real-contract create, done before its lock."""
    body = call.json()
    if not isinstance(body, dict) or any(extension.claims(body) for extension in api_extensions(call.engine)):
        return None  # an add-on's create (the documented API's jobs run on the small built-in datasets)
    return call.engine.jobs.prepare(call.tenant, body)


def list_evaluations(call: Call) -> ApiResponse:
    query = call.request.query
    given = query_int(call.request, "limit", minimum=1)
    limit = DEFAULT_LIST_LIMIT if given is None else min(given, MAX_LIST_LIMIT)
    status = query.get("status") or None
    jobs = call.engine.jobs.list(call.tenant, status=status, limit=limit) if status in (None, *STATUSES) else []
    body = b"[" + b",".join(job_json(call.engine, call.views, call.tenant, job) for job in jobs) + b"]"
    return ApiResponse(body=body)


def get_evaluation(call: Call) -> ApiResponse:
    job = call.engine.jobs.get(call.tenant, call.params["id"])
    body, call.job_status = shown_job(call.engine, call.views, call.tenant, job)
    return ApiResponse(body=body)


def get_evaluation_status(call: Call) -> ApiResponse:
    job = call.engine.jobs.get(call.tenant, call.params["id"])
    body, call.job_status = shown_status(call.engine, call.views, job)
    return ApiResponse(body=body)


def update_evaluation(call: Call) -> ApiResponse:
    body = call.model(EvaluationUpdateRequest)
    job = call.engine.jobs.update(
        call.tenant, call.params["id"], status=body.status, results=body.results, error=body.error
    )
    return json_response(EvaluationUpdateResponse(workflow_id=job.workflow_id, status=call.engine.jobs.status(job)))


def model_list(call: Call) -> ApiResponse:
    source = call.request.query.get("model_source") or "all"
    config = call.engine.config
    models = config.model_allowlist if source in ("all", "serverless") else config.model_lists.get(source, [])
    return json_response(ModelListResponse(model_list=list(models)))


# ---------------------------------------------------------------- files


def request_upload(call: Call) -> ApiResponse:
    fields, parts = read_form(call)
    form = call.model(UploadRequestForm, fields)
    files = call.engine.files
    if "file" in parts:  # a client that sends the bytes right away
        file = files.new(
            call.tenant.key,
            filename=form.file_name,
            purpose=form.purpose,
            file_type=form.file_type,
            content=parts["file"].content,
        )
        return json_response(file_view(call.engine, call.tenant, file))
    file, token = files.request_upload(
        call.tenant.key, filename=form.file_name, purpose=form.purpose, file_type=form.file_type
    )
    return ApiResponse(
        status_code=302,
        media_type=None,
        headers={"location": f"{call.request.base_url}{UPLOAD_PREFIX}{token}", "x-together-file-id": file.id},
    )


def direct_upload(call: Call) -> ApiResponse:
    fields, parts = read_form(call)
    if "file" not in parts:
        raise InvalidRequest("Missing the multipart part 'file' with the file's bytes.", param="file")
    part = parts["file"]
    fields.setdefault("file_name", part.filename)
    fields.setdefault("file_type", file_type_of(fields["file_name"], None))
    form = call.model(UploadRequestForm, fields)
    file = call.engine.files.new(
        call.tenant.key, filename=form.file_name, purpose=form.purpose, file_type=form.file_type, content=part.content
    )
    return json_response(file_view(call.engine, call.tenant, file))


def read_form(call: Call) -> tuple[dict[str, str], dict[str, UploadedPart]]:
    """The request's form, its body read as a stream (a file part is held in memory once)."""
    request = call.request
    return parse_form(request.header("content-type"), request.body_stream(), request.body_size)


def _upload_body(call: Call, part: int | None = None) -> bytes:
    """The bytes PUT to an upload URL, read once the URL is known to take them."""
    request = call.request
    call.engine.files.pending_upload(call.params["token"], multipart=part is not None, key=request.api_key)
    return request.body_stream().read()


def receive_upload(call: Call) -> ApiResponse:
    content = _upload_body(call)
    call.engine.files.receive(call.params["token"], content, key=call.request.api_key)
    return ApiResponse(body=b"", media_type=None)


def receive_part(call: Call) -> ApiResponse:
    part = int(call.params["part"])
    content = _upload_body(call, part)
    call.engine.files.receive(call.params["token"], content, part=part, key=call.request.api_key)
    return ApiResponse(
        body=b"", media_type=None, headers={"etag": f'"{stable_hex(repr(len(content)) + content[:64].hex(), 32)}"'}
    )


def preprocess(call: Call) -> ApiResponse:
    files = call.engine.files
    file = files.get_pending(call.tenant.key, call.params["id"])
    if not file.ready:
        raise InvalidRequest(f"File '{file.id}' has no content yet: PUT its bytes to the upload URL first.", param="id")
    files.finish_upload(call.tenant.key, file.id)  # the upload URL dies: the file is final
    return json_response(file_view(call.engine, call.tenant, file))


def initiate_multipart(call: Call) -> ApiResponse:
    body = call.model(MultipartInitiateRequest)
    file, token = call.engine.files.request_upload(
        call.tenant.key, filename=body.file_name, purpose=body.purpose, file_type=body.file_type, multipart=True
    )
    base = f"{call.request.base_url}{UPLOAD_PREFIX}{token}/parts/"
    parts = [UploadPart(PartNumber=n, URL=f"{base}{n}") for n in range(1, body.num_parts + 1)]
    return json_response(MultipartInitiateResponse(upload_id=token, file_id=file.id, parts=parts))


def complete_multipart(call: Call) -> ApiResponse:
    body = call.model(MultipartCompleteRequest)
    file = call.engine.files.complete_multipart(
        call.tenant.key, body.upload_id, body.file_id, [part.part_number for part in body.parts]
    )
    return json_response(file_view(call.engine, call.tenant, file))


def abort_multipart(call: Call) -> ApiResponse:
    body = call.model(MultipartAbortRequest)
    call.engine.files.abort_multipart(call.tenant.key, body.upload_id, body.file_id)
    return ApiResponse(body=b"{}")


def prepare_sizes(call: Call) -> Callable[[], object] | None:
    """Measuring the result files a file list or retrieve shows (each is generated once), done
    before its lock."""
    files = call.engine.files
    if "id" in call.params:
        found = files.find(call.tenant.key, call.params["id"])
        shown = [found] if found is not None else []
    else:
        shown = files.owned(call.tenant.key)
    measures = [files.size_loader(file) for file in shown if not files.size_known(file)]
    return (lambda: [measure() for measure in measures]) if measures else None


def list_files(call: Call) -> ApiResponse:
    files = call.engine.files.list(call.tenant.key)
    return json_response(FileListResponse(data=[file_view(call.engine, call.tenant, f) for f in files]))


def get_file(call: Call) -> ApiResponse:
    file = call.engine.files.get(call.tenant.key, call.params["id"])
    return json_response(file_view(call.engine, call.tenant, file))


def file_content(call: Call) -> ApiResponse:
    files = call.engine.files
    make = files.content_loader(files.get(call.tenant.key, call.params["id"]))  # a result file streams
    return ApiResponse(media_type="application/octet-stream", deferred=make)


def delete_file(call: Call) -> ApiResponse:
    file = call.engine.files.delete(call.tenant.key, call.params["id"])
    return json_response(FileDeleteResponse(id=file.id))


# ---------------------------------------------------------------- whoami (docs/wire-contract.md#whoami)


def whoami(call: Call) -> ApiResponse:
    tenant = call.tenant
    key_hash = stable_hex(f"key:{tenant.key}", 24)
    return json_response(
        WhoamiResponse(
            api_key=WhoamiAPIKey(id=f"key_{key_hash}"),
            organization=WhoamiOrganization(id=tenant.organization_id, name="Emulator Organization"),
            project=WhoamiProject(id=tenant.project_id, name="Emulator Project", slug=f"emulator-{key_hash[:8]}"),
        )
    )
