"""The route table and the dispatcher every face calls: one synchronous core for all of them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.routing import compile_path

from ..engine._errors import ApiError, InvalidRequest, MethodNotAllowed, NotFound, Unauthorized
from ._transport import ApiRequest, ApiResponse
from ._wire import ErrorBody, ErrorDetail

if TYPE_CHECKING:
    from ..engine._store import Tenant
    from ._core import Emulator

M = TypeVar("M", bound=BaseModel)


@dataclass
class Call:
    """What a handler receives: the emulator, the request, path parameters and the tenant."""

    emulator: Emulator
    request: ApiRequest
    params: dict[str, str]
    route: Route
    _tenant: Tenant | None = None

    @property
    def tenant(self) -> Tenant:
        assert self._tenant is not None, "route declared auth=False"
        return self._tenant

    def json(self) -> Any:
        if not self.request.body.strip():
            raise InvalidRequest("The request body is empty; send a JSON object.")
        try:
            return json.loads(self.request.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidRequest(f"The request body is not valid JSON ({exc}).") from None

    def model(self, model: type[M], data: Any = None) -> M:
        """Validate a body (or `data`) against a wire model; the first problem is a 400 naming its field."""
        data = self.json() if data is None else data
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(part) for part in first["loc"]) or None
            raise InvalidRequest(
                f"Invalid field '{name}': {first['msg']}." if name else first["msg"], param=name
            ) from None


Handler = Callable[[Call], ApiResponse]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    auth: bool = True
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.path)[0])


def json_response(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(
        status_code=status_code, body=model.model_dump_json(by_alias=True).encode(), headers=headers or {}
    )


def error_response(error: ApiError) -> ApiResponse:
    body = ErrorBody(
        error=ErrorDetail(message=error.message, type=error.error_type, param=error.param, code=error.code)
    )
    return json_response(body, error.status_code, dict(error.headers))


def base_url_hint(path: str, base_url: str, routes: list[Route]) -> str | None:
    """The D1 message for a path that looks like a base-URL mistake, else None."""
    if path.startswith("/v1/v1/") or path.startswith("/v1/v3/"):
        doubled = True
    elif any(route.regex.match("/v1" + path) for route in routes if route.path.startswith("/v1/")):
        doubled = False
    else:
        return None
    cause = (
        "The client's base_url probably ends in /v1 while the SDK adds /v1 itself."
        if doubled
        else "The client's base_url probably lacks the /v1 that this SDK generation expects in it."
    )
    return (
        f"No route for '{path}'. {cause} together 3.x: use base_url='{base_url}'. "
        f"together 1.x/2.x: use base_url='{base_url}/v1'. "
        f"together-ai (TypeScript): use baseURL='{base_url}/v1'."
    )


def resolve(routes: list[Route], request: ApiRequest) -> tuple[Route, dict[str, str]]:
    allowed = []
    for route in routes:
        match = route.regex.match(request.path)
        if match:
            if route.method == request.method:
                return route, match.groupdict()
            allowed.append(route.method)
    if allowed:
        raise MethodNotAllowed(
            f"Method {request.method} is not allowed for '{request.path}'; use {' or '.join(sorted(set(allowed)))}."
        )
    hint = base_url_hint(request.path, request.base_url, routes)
    raise NotFound(hint or f"No route for '{request.path}': the emulator does not serve this path (not emulated).")


def dispatch(emulator: Emulator, routes: list[Route], request: ApiRequest) -> tuple[ApiResponse, Call | None]:
    """Route, authenticate and run one request; every error becomes the real error shape."""
    call = None
    try:
        route, params = resolve(routes, request)
        call = Call(emulator, request, params, route)
        if route.auth:
            key = request.api_key
            if key is None:
                raise Unauthorized()
            call._tenant = emulator.state.tenant(key)
        return route.handler(call), call
    except ApiError as error:
        return error_response(error), call
