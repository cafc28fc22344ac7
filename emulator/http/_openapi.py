"""The emulator's own OpenAPI 3.1 document, generated from the route table alone.

Each route declares its parameters, body, answers and auth (`_routing.Route`); this module only
writes them down in OpenAPI's terms, with the components drawn from the pydantic models. The document
is itself a route of the table (`GET /openapi.json`), so every face serves it through the dispatcher.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from .._version import __version__
from ._routing import Call, Reply, Route
from ._transport import ApiResponse

OPENAPI_PATH = "/openapi.json"
REF_TEMPLATE = "#/components/schemas/{model}"
BINARY = {"type": "string", "format": "binary"}  # raw bytes: OpenAPI's spelling generators understand
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "api_key": [{"apiKey": []}],
    # With no admin token configured the control plane is open: hence the empty alternative.
    "admin": [{"adminBearer": []}, {"adminToken": []}, {}],
    "none": [],
}
SECURITY_SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer", "description": "Any API key (each key is its own tenant)."},
    "adminBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The control plane's admin token, when the emulator has one (`--admin-token`).",
    },
    "adminToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Emulator-Token",
        "description": "The admin token in its own header, leaving `Authorization` to the API key.",
    },
}
# pydantic writes the bounds of a constrained union (`Number = StrictInt | StrictFloat`) under their
# Python names; JSON Schema knows them by these.
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
TAGS = {
    "evaluation": "Evaluations",
    "evaluations": "Evaluations",
    "files": "Files",
    "upload": "Upload URLs",
    "whoami": "Account",
    "control": "Control plane",
    "openapi": "Document",
}


def _schemas(route: Route) -> Iterator[tuple[Any, JsonSchemaMode]]:
    """Every type a route's bodies hold: requests as validated, responses as serialized."""
    if route.body is not None:
        for schema in route.body.content.values():
            if schema not in (None, bytes):
                yield schema, "validation"
    for reply in route.responses.values():
        if reply.schema not in (None, bytes):
            yield reply.schema, "serialization"


def _json_schema_bounds(node: Any) -> Any:
    """`node` with pydantic's `ge`/`le`/`gt`/`lt` renamed; a bound is a number, never a property's schema."""
    if isinstance(node, list):
        return [_json_schema_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        BOUNDS[key] if key in BOUNDS and isinstance(value, int | float) else key: _json_schema_bounds(value)
        for key, value in node.items()
    }


def _content(media_type: str, schema: Any, refs: dict[tuple[Any, JsonSchemaMode], Any], mode: JsonSchemaMode) -> Any:
    if schema is None or schema is bytes:
        return {media_type: {"schema": BINARY}}
    return {media_type: {"schema": refs[(schema, mode)]}}


def _response(reply: Reply, refs: dict[tuple[Any, JsonSchemaMode], Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": reply.description}
    if reply.headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in reply.headers.items()
        }
    if reply.schema is not None:
        response["content"] = _content(reply.media_type, reply.schema, refs, "serialization")
    return response


def _operation(route: Route, refs: dict[tuple[Any, JsonSchemaMode], Any]) -> dict[str, Any]:
    group = route.name.split(".")[0]  # an add-on's own route may open a group of its own
    operation: dict[str, Any] = {"operationId": route.name, "tags": [TAGS.get(group, group)]}
    if route.summary:
        operation["summary"] = route.summary
    if route.description:
        operation["description"] = route.description
    parameters = [
        {"name": p.name, "in": "path", "required": True, "description": p.description, "schema": dict(p.schema)}
        for p in route.params
    ] + [
        {"name": p.name, "in": "query", "required": p.required, "description": p.description, "schema": dict(p.schema)}
        for p in route.query
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        body: dict[str, Any] = {"required": route.body.required, "content": {}}
        if route.body.description:
            body["description"] = route.body.description
        for media_type, schema in route.body.content.items():
            body["content"].update(_content(media_type, schema, refs, "validation"))
        operation["requestBody"] = body
    operation["responses"] = {str(status): _response(reply, refs) for status, reply in route.responses.items()}
    operation["security"] = SECURITY[route.auth]
    return operation


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """`node` with every `$ref` to a renamed definition pointing at its new name."""
    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    prefix = REF_TEMPLATE.split("{", 1)[0]
    if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] in names:
        return {**node, "$ref": prefix + names[ref[len(prefix) :]]}
    return {key: _renamed(value, names) for key, value in node.items()}


def _merge_same_modes(refs: Any, definitions: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """One definition for a model whose input and output schemas are the same. Some pydantic
    versions name them `X-Input` and `X-Output` even then (a field with a default factory is
    enough); the document names them `X` whatever the version, as newer ones do."""
    names: dict[str, str] = {}
    while True:
        merged = False
        for name in list(definitions):
            base = name.removesuffix("-Input")
            output = f"{base}-Output"
            if name == base or output not in definitions or base in names.values():
                continue
            if _renamed(definitions[name], names) == _renamed(definitions[output], names):
                names[name] = names[output] = base
                merged = True
        if not merged:
            break
    if not names:
        return refs, definitions
    kept: dict[str, Any] = {}
    for name, schema in definitions.items():
        kept.setdefault(names.get(name, name), _renamed(schema, names))
    return {key: _renamed(value, names) for key, value in refs.items()}, dict(sorted(kept.items()))


def build_document(routes: Sequence[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `routes` (those not marked `openapi=False`), as a JSON-ready dict."""
    routes = [route for route in routes if route.openapi]
    inputs = {key: None for route in routes for key in _schemas(route)}  # ordered, without repeats
    generator = GenerateJsonSchema(by_alias=True, ref_template=REF_TEMPLATE)
    generated, generated_definitions = generator.generate_definitions(
        [(schema, mode, TypeAdapter(schema).core_schema) for schema, mode in inputs]
    )
    refs, definitions = _merge_same_modes(
        generated, {str(name): schema for name, schema in generated_definitions.items()}
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "together-eval-emulator",
            "version": __version__,
            "description": "A local, deterministic emulator of Together AI's evaluation API "
            "(`/v1/evaluation*`, `/v1/files*`, `/v3/whoami`), its upload URLs and its control plane "
            "(`/_emulator/*`). Generated from the emulator's route table.",
        },
        "paths": paths,
        "components": {"schemas": _json_schema_bounds(definitions), "securitySchemes": SECURITY_SCHEMES},
    }


@lru_cache(maxsize=4)
def openapi_document(routes: tuple[Route, ...]) -> bytes:
    """The document's bytes; built once per route table (routes compare by identity)."""
    return json.dumps(build_document(routes)).encode()


def serve_document(call: Call) -> ApiResponse:
    return ApiResponse(body=openapi_document(call.routes))


OPENAPI_ROUTE = Route(
    "GET",
    OPENAPI_PATH,
    serve_document,
    "openapi",
    summary="This document",
    auth="none",
    ok={200: Reply("The OpenAPI 3.1 document of every route.", dict[str, Any])},
)
