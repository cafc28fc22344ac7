"""The route table and the dispatcher every face calls: one synchronous core for all of them."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.routing import compile_path

from ..engine._errors import ApiError, InvalidRequest, MethodNotAllowed, NotFound, Unauthorized
from ..engine._first_error import first_error
from ._transport import ApiRequest, ApiResponse
from ._wire import ErrorBody, ErrorDetail

if TYPE_CHECKING:
    from ..engine._engine import Engine
    from ..engine._store import Tenant
    from ._view_cache import ViewCache

M = TypeVar("M", bound=BaseModel)


@dataclass
class Call:
    """What a handler receives: the engine, the cache of serialized views, the request, path
    parameters and the tenant."""

    engine: Engine
    views: ViewCache
    request: ApiRequest
    params: dict[str, str]
    route: Route
    _tenant: Tenant | None = None
    routes: tuple[Route, ...] = ()  # the table the request was dispatched on (the OpenAPI route serves it)

    @property
    def tenant(self) -> Tenant:
        assert self._tenant is not None, "the route does not take an API key"
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
            first = first_error(exc)
            name = first.field or None
            raise InvalidRequest(
                f"Invalid field '{name}': {first.message}." if name else first.message, param=name
            ) from None


Handler = Callable[[Call], ApiResponse]
# A route's long, pure part: given the request (under the emulator's lock, changing nothing), the
# work that computes what the handler will find cached, run outside the lock; None: nothing to do.
Prepare = Callable[[Call], Callable[[], object] | None]
Auth = Literal["api_key", "admin", "none"]
# What a body holds, for the OpenAPI document: a pydantic model or any type pydantic can describe
# (`list[FaultRule]`, `A | B`); None for bytes of any shape.
Schema = Any

PATH_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
AUTH_ERRORS = {
    "api_key": "No API key (`Authorization: Bearer <key>`), or a key this emulator does not know.",
    "admin": "The admin token is missing or wrong; only when the emulator has one (`--admin-token`).",
}


class AdminUnauthorized(ApiError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__(
            "This emulator's control plane requires its admin token: send 'Authorization: Bearer "
            "<token>' or 'X-Emulator-Token: <token>' (the value of --admin-token or "
            "TOGETHER_EMULATOR_ADMIN_TOKEN).",
            code="invalid_admin_token",
        )


@dataclass(frozen=True)
class Param:
    """A path or query parameter: its name, what it means and its JSON schema."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False  # query parameters; a path parameter is always required


@dataclass(frozen=True)
class Body:
    """What a route reads from the request body: a schema per media type it accepts."""

    content: Mapping[str, Schema]
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Reply:
    """One response a route gives: its meaning, its body's schema (None: no body) and headers."""

    description: str
    schema: Schema = None
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> meaning


def json_body(schema: Schema, *, required: bool = True, description: str = "") -> Body:
    return Body({"application/json": schema}, required, description)


@dataclass(frozen=True, eq=False)
class Route:
    """One operation: how it is matched and run, and everything the OpenAPI document says of it.

    `ok` holds the success answers (200, 201, 302), `errors` every error status the route itself
    answers with its meaning (the body is always the real error shape); the 401 of its `auth` is added
    here, so `responses` is the whole list. Fault rules installed by a test can answer anything."""

    method: str
    path: str
    handler: Handler
    name: str
    _: KW_ONLY
    summary: str = ""
    description: str = ""
    auth: Auth = "api_key"
    params: tuple[Param, ...] = ()  # path parameters, one per `{name}` of the path
    query: tuple[Param, ...] = ()
    body: Body | None = None
    ok: Mapping[int, Reply] = field(default_factory=lambda: {200: Reply("OK")})
    errors: Mapping[int, str] = field(default_factory=dict)
    # Work that grows with the stored data (a dataset, a result file, the whole state): the server
    # runs the route off its event loop, and the core runs `prepare`'s work outside its lock.
    slow: bool = False
    prepare: Prepare | None = None
    regex: re.Pattern[str] = field(init=False, repr=False)
    responses: Mapping[int, Reply] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.path)[0])
        in_path = PATH_PARAMETER.findall(self.path)
        if sorted(in_path) != sorted(param.name for param in self.params):
            raise ValueError(f"route {self.name}: path parameters {in_path} are not the ones declared")
        if any(status >= 400 for status in self.ok) or any(status < 400 for status in self.errors):
            raise ValueError(f"route {self.name}: success statuses go in `ok`, error statuses in `errors`")
        errors = dict(self.errors)
        if self.auth != "none":
            errors.setdefault(401, AUTH_ERRORS[self.auth])
        replies = {**self.ok, **{status: Reply(text, ErrorBody) for status, text in errors.items()}}
        object.__setattr__(self, "responses", dict(sorted(replies.items())))

    @property
    def template(self) -> str:
        """The path as OpenAPI writes it: `{part:int}` becomes `{part}`."""
        return PATH_PARAMETER.sub(r"{\1}", self.path)


def json_response(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(
        status_code=status_code, body=model.model_dump_json(by_alias=True).encode(), headers=headers or {}
    )


def error_response(error: ApiError) -> ApiResponse:
    body = ErrorBody(
        error=ErrorDetail(message=error.message, type=error.error_type, param=error.param, code=error.code)
    )
    return json_response(body, error.status_code, dict(error.headers))


def base_url_hint(path: str, base_url: str, routes: Sequence[Route]) -> str | None:
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


def resolve(routes: Sequence[Route], request: ApiRequest) -> tuple[Route, dict[str, str]]:
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


def check_admin_token(token: str | None, request: ApiRequest) -> None:
    """The control plane's guard: with an admin token configured, the request must carry it."""
    if not token:
        return
    auth = request.header("authorization") or ""
    given = request.header("x-emulator-token") or (auth[7:].strip() if auth[:7].lower() == "bearer " else "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise AdminUnauthorized()


def dispatch(
    engine: Engine, views: ViewCache, routes: Sequence[Route], request: ApiRequest
) -> tuple[ApiResponse, Call | None]:
    """Route, authenticate and run one request; every error becomes the real error shape."""
    call = None
    try:
        route, params = resolve(routes, request)
        call = Call(engine, views, request, params, route, routes=tuple(routes))
        if route.auth == "api_key":
            key = request.api_key
            if key is None:
                raise Unauthorized()
            call._tenant = engine.tenants.resolve(key)
        elif route.auth == "admin":
            check_admin_token(engine.config.admin_token, request)
        return route.handler(call), call
    except ApiError as error:
        return error_response(error), call
