"""The route table and the dispatcher every face calls: one synchronous core for all of them."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel, ValidationError
from starlette.routing import compile_path

from ..engine import _snapshot as snapshot, _strict_json as strict_json
from ..engine._config import EmulatorConfig, env_var
from ..engine._errors import (
    ApiError,
    Forbidden,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
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
    routes: Sequence[Route] = ()  # the table the request was dispatched on (the OpenAPI route serves it)
    job_status: str | None = None  # the status a read of one job showed (set by its handler, for the journal)

    @property
    def tenant(self) -> Tenant:
        assert self._tenant is not None, "the route does not take an API key"
        return self._tenant

    @property
    def resolved_tenant(self) -> Tenant | None:
        """The tenant of the request's key when its route took one and it was checked, else None."""
        return self._tenant

    def json(self) -> Any:
        """The body as standard JSON within the emulator's limits (`json_limits`); else a 400."""
        if not self.request.body.strip():
            raise InvalidRequest("The request body is empty; send a JSON object.")
        try:
            return strict_json.loads(self.request.body, json_limits(self.engine.config, self.route))
        except strict_json.JsonProblem as exc:
            raise json_error(exc) from None

    def model(self, model: type[M], data: Any = None, *, strict: bool = True) -> M:
        """Validate a body (or `data`) against a wire model; the first problem is a 400 naming its field.
        Strictly, as JSON types: a boolean is not a number, a string not a number. A query string's
        values are all strings: `strict=False` reads them as the numbers and booleans they spell."""
        data = self.json() if data is None else data
        try:
            return model.model_validate(data, strict=strict)
        except ValidationError as exc:
            first = first_error(exc)
            name = first.field or None
            raise InvalidRequest(
                f"Invalid field '{name}': {first.message}." if name else first.message, param=name
            ) from None


# The setting behind each bound of a JSON body.
BOUND_SETTINGS = {"depth": "max_json_depth", "items": "max_list_items", "chars": "max_string_chars"}


def json_limits(config: EmulatorConfig, route: Route) -> strict_json.JsonLimits:
    """The bounds of a route's JSON body. A bulk body (a state import) holds whole files and every
    job: only its nesting is bounded, with room for the levels a snapshot adds."""
    if route.bulk:
        return strict_json.JsonLimits(config.max_json_depth + snapshot.NESTING)
    return strict_json.JsonLimits(config.max_json_depth, config.max_list_items, config.max_string_chars)


def _setting(name: str) -> str:
    return f"setting `{name}`: --{name.replace('_', '-')}, {env_var(name)}"


def json_error(problem: strict_json.JsonProblem) -> InvalidRequest:
    """The 400 of a body that is not standard JSON, or breaks a bound (named with its setting)."""
    if problem.bound is None:
        return InvalidRequest(f"The request body is not valid JSON ({problem}).")
    where = f" at '{problem.path}'" if problem.path else ""
    return InvalidRequest(
        f"The request body is out of bounds{where}: {problem} ({_setting(BOUND_SETTINGS[problem.bound])}).",
        param=problem.path,
    )


MAX_QUERY_DIGITS = 18  # an integer in a query string is below 10**18 (and costs nothing to read)


def query_int(request: ApiRequest, name: str, *, minimum: int) -> int | None:
    """An integer query parameter (None when absent), parsed strictly: ASCII digits only (not `²`,
    not `1e3`, not `-1`), at least `minimum`; anything else is a 400 naming it."""
    raw = request.query.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text.lstrip("0")) <= MAX_QUERY_DIGITS) or int(text) < minimum:
        raise InvalidRequest(
            f"Query parameter '{name}' must be an integer >= {minimum}, got '{raw}'.",
            param=name,
        )
    return int(text)


def body_setting(route: Route | None) -> str:
    """The setting that bounds a request body: `max_upload_bytes` on a bulk route (file bytes, a state
    import), else `max_body_bytes` (also for a request no route takes)."""
    return "max_upload_bytes" if route is not None and route.bulk else "max_body_bytes"


def body_limit(config: EmulatorConfig, route: Route | None) -> int:
    """The most bytes a request body may hold on `route`."""
    limit: int = getattr(config, body_setting(route))
    return limit


def check_body_size(config: EmulatorConfig, route: Route, request: ApiRequest) -> None:
    """A 413 when the body is larger than its route takes (or the face stopped reading it there)."""
    limit = body_limit(config, route)
    if request.oversized or request.body_size > limit:
        name = body_setting(route)
        raise PayloadTooLarge(
            f"The request body is larger than {limit} bytes, the most {route.method} {route.path} takes on this "
            f"emulator. Send less, or raise the limit ({_setting(name)}).",
            code="request_too_large",
        )


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
    here, and the 413 of a body too large (every route has one: a face stops reading a body at its
    limit), so `responses` is the whole list. Fault rules installed by a test can answer anything.
    A `bulk` route takes file bytes or a state import: `max_upload_bytes` bounds its body."""

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
    bulk: bool = False
    # Work that grows with the stored data (a dataset, a result file, the whole state): the server
    # runs the route off its event loop, and the core runs `prepare`'s work outside its lock.
    slow: bool = False
    prepare: Prepare | None = None
    # False: served like any route, but left out of /openapi.json (the dashboard's HTML pages, made
    # for a browser, not for an API client).
    openapi: bool = True
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
        errors.setdefault(413, f"The body is larger than the `{body_setting(self)}` setting allows.")
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
    """The 404 message for a path that looks like a base-URL mistake, else None
    (docs/wire-contract.md#decision-base-url-hint)."""
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


def route_method(method: str) -> str:
    """The method of the route that serves `method`: a HEAD is answered as its GET (the faces send
    no body back)."""
    return "GET" if method == "HEAD" else method


class RouteTable(Sequence[Route]):
    """The routes in the order they are tried, with what recently requested paths matched.

    Resolving a path tries every route's pattern in turn; a server polled for a few jobs sees the
    same paths over and over, so the routes a path matched are kept (up to `CACHED_PATHS` paths of at
    most `CACHED_PATH_CHARS` characters; when full, the kept paths are forgotten and found again)."""

    CACHED_PATHS = 4096
    CACHED_PATH_CHARS = 512

    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = tuple(routes)
        self._matches: dict[str, tuple[tuple[Route, dict[str, str]], ...]] = {}

    @classmethod
    def of(cls, routes: Sequence[Route]) -> RouteTable:
        return routes if isinstance(routes, RouteTable) else cls(routes)

    @overload
    def __getitem__(self, index: int) -> Route: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Route, ...]: ...

    def __getitem__(self, index: int | slice) -> Route | tuple[Route, ...]:
        return self._routes[index]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def matching(self, path: str) -> tuple[tuple[Route, dict[str, str]], ...]:
        """Every route whose path `path` matches (whatever its method) with its path parameters, in order."""
        found = self._matches.get(path)
        if found is None:
            found = tuple((route, match.groupdict()) for route in self._routes if (match := route.regex.match(path)))
            if len(path) <= self.CACHED_PATH_CHARS:
                if len(self._matches) >= self.CACHED_PATHS:
                    self._matches = {}  # replaced whole: a thread reading the old one still reads a whole dict
                self._matches[path] = found
        return found

    def find(self, method: str, path: str) -> Route | None:
        """The route serving `method` on `path`, or None."""
        wanted = route_method(method)
        return next((route for route, _ in self.matching(path) if route.method == wanted), None)


def find_route(routes: Sequence[Route], method: str, path: str) -> Route | None:
    """The route serving `method` on `path`, or None."""
    return RouteTable.of(routes).find(method, path)


def resolve(routes: Sequence[Route], request: ApiRequest) -> tuple[Route, dict[str, str]]:
    """The route of a request and its path parameters; a 404 or a 405 (with `Allow`) when none."""
    wanted = route_method(request.method)
    matching = RouteTable.of(routes).matching(request.path)
    for route, params in matching:
        if route.method == wanted:
            return route, dict(params)  # a copy: the kept one stays as found
    if matching:
        allowed = {route.method for route, _ in matching}
        methods = allowed | ({"HEAD"} if "GET" in allowed else set())
        raise MethodNotAllowed(
            f"Method {request.method} is not allowed for '{request.path}'; use {' or '.join(sorted(allowed))}.",
            headers={"allow": ", ".join(sorted(methods))},
        )
    hint = base_url_hint(request.path, request.base_url, routes)
    raise NotFound(hint or f"No route for '{request.path}': the emulator does not serve this path (not emulated).")


def same_origin(request: ApiRequest) -> bool:
    """Whether a request that changes the state comes from a page of this server, if from a page at
    all. A browser sends `Origin` with every post; a client that sends neither it nor
    `Sec-Fetch-Site` is not a browser, so no other page can have made it post."""
    origin = request.header("origin")
    if origin is not None:
        return origin == request.base_url
    site = request.header("sec-fetch-site")
    return site is None or site in ("same-origin", "none")


def check_same_origin(request: ApiRequest) -> None:
    """The control plane's guard against other sites: a page of another origin may make a browser post
    to it (a plain-text or form body needs no permission), so a change from one is refused, with or
    without an admin token. Reads are left alone: a browser never shows another site their answer."""
    if request.method not in ("GET", "HEAD") and not same_origin(request):
        raise Forbidden(
            "A page of another site cannot change this emulator's state (its request carried "
            f"Origin: {request.header('origin') or request.header('sec-fetch-site')}). Send control-plane "
            "requests from a client that is not a browser page, or from the emulator's own dashboard.",
            code="cross_origin_request",
        )


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
        call = Call(engine, views, request, params, route, routes=routes)
        check_body_size(engine.config, route, request)
        if route.auth == "api_key":
            key = request.api_key
            if key is None:
                raise Unauthorized()
            call._tenant = engine.tenants.resolve(key)
        elif route.auth == "admin":
            check_same_origin(request)
            check_admin_token(engine.config.admin_token, request)
        return route.handler(call), call
    except ApiError as error:
        return error_response(error), call
