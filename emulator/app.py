"""The Starlette face: a thin adapter that hands every request to the core."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from .config import EmulatorConfig
from .core import Emulator
from .fault_responses import RAW_SEND, FaultResponse
from .openapi import openapi_document
from .transport import ApiRequest, ApiResponse

ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


async def to_api_request(request: Request) -> ApiRequest:
    url = request.url
    return ApiRequest(
        method=request.method, path=url.path, base_url=f"{url.scheme}://{url.netloc}",
        query_string=url.query, headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body())


def to_response(response: ApiResponse) -> Response:
    plain = Response(content=response.body, status_code=response.status_code, headers=response.headers,
                     media_type=response.media_type)
    if response.fault is not None and response.fault.transport:
        return FaultResponse(response, plain)
    return plain


class EmulatorApp(Starlette):
    """The Starlette app, keeping the server's own `send` in the scope so that a fault can drop
    the connection (`fault_responses.py`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def create_app(emulator: Emulator | None = None, config: EmulatorConfig | None = None) -> Starlette:
    """A Starlette app serving `emulator` (a new one from `config` when not given)."""
    emu = emulator or Emulator(config)

    async def endpoint(request: Request) -> Response:
        return to_response(emu.handle(await to_api_request(request)))

    async def openapi(request: Request) -> Response:
        return Response(openapi_document(), media_type="application/json")

    app = EmulatorApp(routes=[
        StarletteRoute("/openapi.json", openapi, methods=["GET"]),
        StarletteRoute("/{path:path}", endpoint, methods=ALL_METHODS),
    ])
    app.state.emulator = emu
    return app
