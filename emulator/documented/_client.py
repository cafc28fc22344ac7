"""A client for the documented API only: `Together().evaluation.create / retrieve / status / list`.

No real `together` SDK has these methods or types; they come from a widely circulated description
of the evaluation API that the real service never had. This client speaks the emulator's
documented routes over HTTP (httpx), so code written from that description runs against the
emulator with only its import line changed:

    from together_eval_emulator.documented import Together

    client = Together()  # TOGETHER_API_KEY, TOGETHER_BASE_URL (with or without /v1)
    job = client.evaluation.create(model="...", evaluation_type="classify", dataset="qa-benchmark-v1")
    client.evaluation.retrieve(job.id).score

Requests are sent once (no retries). HTTP errors raise `APIStatusError`, transport failures
`APIConnectionError`; both are `DocumentedClientError`s.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import BaseModel

from .._version import __version__
from ._types import (
    DOCUMENTED_STATUS,
    EvaluationCreateResponse,
    EvaluationJob,
    EvaluationStatusResponse,
    EvaluationType,
    ModelRequest,
)

# `together-eval-emulator serve` with no options listens here.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0
DEFAULT_LIST_LIMIT = 100  # the emulator's largest page
# ModelRequest.parameters keys with a real counterpart; the others have no effect.
_MODEL_SETTINGS = ("temperature", "max_tokens")


# ---------------------------------------------------------------- errors


class DocumentedClientError(Exception):
    """Every error the documented client raises."""


class APIConnectionError(DocumentedClientError):
    """The request got no HTTP answer (refused, dropped, timed out); `__cause__` is the httpx error."""


class APIStatusError(DocumentedClientError):
    """An HTTP error answer. `body` is the parsed JSON body (the real shape is
    `{"error": {"message", "type", "param", "code"}}`), or its text when it is not JSON."""

    def __init__(self, status_code: int, body: Any, response: httpx.Response) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.status_code = status_code
        self.body = body
        self.response = response
        self.message: str = str(error.get("message") or body or response.reason_phrase)
        self.type: str | None = error.get("type")
        self.param: str | None = error.get("param")
        self.code: str | None = error.get("code")
        super().__init__(f"Error code: {status_code} - {self.message}")


class NotADocumentedJob(DocumentedClientError):
    """`retrieve` or `status` of a job created through the real contract: it has no documented fields
    (read it with a real `together` SDK)."""


# ---------------------------------------------------------------- requests and answers, shared by both clients


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _root_url(base_url: str | None) -> str:
    """The emulator's root: the argument, else TOGETHER_BASE_URL, else the default; a trailing
    `/v1` (the together 1.x form) is dropped, since the routes carry their own."""
    url = (base_url or os.environ.get("TOGETHER_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    return url.removesuffix("/v1").rstrip("/")


def _api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("TOGETHER_API_KEY")
    if not key:
        raise DocumentedClientError(
            "The api_key client option must be set either by passing api_key to the client or by setting "
            "the TOGETHER_API_KEY environment variable (any non-empty key works with the emulator)."
        )
    return key


def _headers(api_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": f"together-eval-emulator-documented/{__version__}",
    }


def _plain(value: Any) -> Any:
    """A parameter value as JSON data: documented types without their unset fields."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _create_request(
    model: str | ModelRequest,
    evaluation_type: str | EvaluationType,
    dataset: str,
    parameters: Mapping[str, Any] | BaseModel | None,
    extra: dict[str, Any],
) -> _Request:
    """`parameters` (a dict or a parameter type) and the keyword arguments make one `parameters`
    object, keyword arguments winning; a `ModelRequest` contributes its settings beneath both."""
    merged: dict[str, Any] = {}
    name: Any = model
    if isinstance(model, ModelRequest):
        name = model.model
        settings = model.parameters or {}
        merged.update({key: settings[key] for key in _MODEL_SETTINGS if settings.get(key) is not None})
        if model.system_prompt is not None:
            merged["system_prompt"] = model.system_prompt
    merged.update(_plain(parameters) or {})
    merged.update({key: _plain(value) for key, value in extra.items() if value is not None})
    body: dict[str, Any] = {"model": name, "evaluation_type": _plain(evaluation_type), "dataset": dataset}
    if merged:
        body["parameters"] = merged
    return _Request("POST", "/v1/evaluation", json=body)


def _epoch(stamp: str) -> int:
    """An RFC 3339 timestamp of the wire as integer epoch seconds."""
    return int(datetime.fromisoformat(stamp).timestamp())


def _epoch_or_none(stamp: str | None) -> int | None:
    return None if stamp is None else _epoch(stamp)


def _status(api_status: str) -> str:
    return DOCUMENTED_STATUS[api_status].value


def _documented(data: Any, job_id: str | None = None) -> dict[str, Any]:
    if not isinstance(data, dict) or "evaluation_type" not in data:
        shown = job_id or (data.get("workflow_id") if isinstance(data, dict) else None)
        raise NotADocumentedJob(
            f"Job {shown!r} was created through the real contract ({{'type', 'parameters'}}) and has no documented "
            "fields; read it with a real together SDK (client.evals / client.evaluation)."
        )
    return data


def _create_response(data: Any) -> EvaluationCreateResponse:
    data = _documented(data)
    return EvaluationCreateResponse(
        id=data["id"],
        object=data["object"],
        model=data["model"],
        evaluation_type=data["evaluation_type"],
        dataset=data["dataset"],
        status=_status(data["status"]),
        created_at=_epoch(data["created_at"]),
        api_status=data["status"],
    )


def _job(data: Any, job_id: str | None = None) -> EvaluationJob:
    data = _documented(data, job_id)
    return EvaluationJob(
        id=data["id"],
        object=data["object"],
        model=data["model"],
        evaluation_type=data["evaluation_type"],
        dataset=data["dataset"],
        status=_status(data["status"]),
        score=data["score"],
        metrics=data["metrics"],
        created_at=_epoch(data["created_at"]),
        completed_at=_epoch_or_none(data["completed_at"]),
        error=data["error"],
        api_status=data["status"],
        results=data.get("results"),
    )


def _status_response(data: Any, job_id: str) -> EvaluationStatusResponse:
    data = _documented(data, job_id)
    return EvaluationStatusResponse(
        id=data["id"],
        status=_status(data["status"]),
        progress=data["progress"],
        estimated_completion=_epoch_or_none(data["estimated_completion"]),
        api_status=data["status"],
    )


def _jobs(data: Any) -> list[EvaluationJob]:
    """The documented jobs of a list answer; real-contract jobs are left out."""
    return [_job(item) for item in data if isinstance(item, dict) and "evaluation_type" in item]


def _answer(response: httpx.Response) -> Any:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise APIStatusError(response.status_code, body, response)
    return body


def _job_path(job_id: str) -> str:
    if not isinstance(job_id, str) or not job_id:
        raise DocumentedClientError(f"Expected a non-empty job id, got {job_id!r}.")
    return f"/v1/evaluation/{job_id}"


# ---------------------------------------------------------------- sync


class Evaluation:
    """`client.evaluation` of `Together`."""

    def __init__(self, client: Together) -> None:
        self._client = client

    def create(
        self,
        model: str | ModelRequest,
        evaluation_type: str | EvaluationType,
        dataset: str,
        parameters: Mapping[str, Any] | BaseModel | None = None,
        **kwargs: Any,
    ) -> EvaluationCreateResponse:
        """Start a job of `model` on a built-in `dataset`. `parameters` (a dict, `ClassifyParameters`,
        `ScoreParameters` or `CompareParameters`) and keyword arguments (e.g. `baseline_model=...`,
        `threshold=7`, `judge=JudgeModelConfig(...)`) become the body's `parameters`."""
        request = _create_request(model, evaluation_type, dataset, parameters, kwargs)
        return _create_response(self._client._send(request))

    def retrieve(self, id: str) -> EvaluationJob:
        """The job with its `score` and `metrics` (both None until it is completed)."""
        return _job(self._client._send(_Request("GET", _job_path(id))), id)

    def status(self, id: str) -> EvaluationStatusResponse:
        """The job's status, `progress` (percent) and `estimated_completion`."""
        return _status_response(self._client._send(_Request("GET", f"{_job_path(id)}/status")), id)

    def list(self, *, limit: int = DEFAULT_LIST_LIMIT) -> builtins.list[EvaluationJob]:
        """The newest `limit` jobs of this API key (at most 100), newest first; jobs created
        through the real contract are left out."""
        return _jobs(self._client._send(_Request("GET", "/v1/evaluation", params={"limit": limit})))


class Together:
    """Synchronous client of the documented API (the emulator's documented routes).

    `api_key` defaults to TOGETHER_API_KEY, `base_url` to TOGETHER_BASE_URL, else the address
    `together-eval-emulator serve` listens on; both `http://host` and `http://host/v1` work. Pass
    `http_client` to use your own `httpx.Client` (it is then yours to close)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.api_key = _api_key(api_key)
        self.base_url = _root_url(base_url)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self.evaluation = Evaluation(self)

    def _send(self, request: _Request) -> Any:
        try:
            response = self._http.request(
                request.method,
                self.base_url + request.path,
                json=request.json,
                params=request.params,
                headers=_headers(self.api_key),
            )
        except httpx.TransportError as exc:
            raise APIConnectionError(f"{request.method} {request.path} got no answer: {exc!r}") from exc
        return _answer(response)

    def close(self) -> None:
        """Close the HTTP client this client made (not one passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ---------------------------------------------------------------- async


class AsyncEvaluation:
    """`client.evaluation` of `AsyncTogether`: the same methods, awaited."""

    def __init__(self, client: AsyncTogether) -> None:
        self._client = client

    async def create(
        self,
        model: str | ModelRequest,
        evaluation_type: str | EvaluationType,
        dataset: str,
        parameters: Mapping[str, Any] | BaseModel | None = None,
        **kwargs: Any,
    ) -> EvaluationCreateResponse:
        """See `Evaluation.create`."""
        request = _create_request(model, evaluation_type, dataset, parameters, kwargs)
        return _create_response(await self._client._send(request))

    async def retrieve(self, id: str) -> EvaluationJob:
        """See `Evaluation.retrieve`."""
        return _job(await self._client._send(_Request("GET", _job_path(id))), id)

    async def status(self, id: str) -> EvaluationStatusResponse:
        """See `Evaluation.status`."""
        return _status_response(await self._client._send(_Request("GET", f"{_job_path(id)}/status")), id)

    async def list(self, *, limit: int = DEFAULT_LIST_LIMIT) -> builtins.list[EvaluationJob]:
        """See `Evaluation.list`."""
        return _jobs(await self._client._send(_Request("GET", "/v1/evaluation", params={"limit": limit})))


class AsyncTogether:
    """Asynchronous client of the documented API; arguments as `Together`, with an
    `httpx.AsyncClient` as `http_client`."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.api_key = _api_key(api_key)
        self.base_url = _root_url(base_url)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        self.evaluation = AsyncEvaluation(self)

    async def _send(self, request: _Request) -> Any:
        try:
            response = await self._http.request(
                request.method,
                self.base_url + request.path,
                json=request.json,
                params=request.params,
                headers=_headers(self.api_key),
            )
        except httpx.TransportError as exc:
            raise APIConnectionError(f"{request.method} {request.path} got no answer: {exc!r}") from exc
        return _answer(response)

    async def close(self) -> None:
        """Close the HTTP client this client made (not one passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
