"""The emulator's own OpenAPI document, generated from the route table and the wire models."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .._version import __version__
from . import _wire as wire

# route name -> (request model, response model, success status)
SCHEMAS: dict[str, tuple[type[BaseModel] | None, type[BaseModel] | None, int]] = {
    "evaluation.create": (wire.EvaluationCreateRequest, wire.EvaluationCreateResponse, 200),
    "evaluation.list": (None, wire.EvaluationJob, 200),
    "evaluations.list": (None, wire.EvaluationJob, 200),
    "evaluation.model_list": (None, wire.ModelListResponse, 200),
    "evaluations.model_list": (None, wire.ModelListResponse, 200),
    "evaluation.retrieve": (None, wire.EvaluationJob, 200),
    "evaluation.status": (None, wire.EvaluationStatusResponse, 200),
    "evaluation.update": (wire.EvaluationUpdateRequest, wire.EvaluationUpdateResponse, 200),
    "files.upload": (wire.UploadRequestForm, None, 302),
    "files.direct_upload": (wire.UploadRequestForm, wire.FileObject, 200),
    "files.multipart.initiate": (wire.MultipartInitiateRequest, wire.MultipartInitiateResponse, 200),
    "files.multipart.complete": (wire.MultipartCompleteRequest, wire.FileObject, 200),
    "files.multipart.abort": (wire.MultipartAbortRequest, None, 200),
    "files.list": (None, wire.FileListResponse, 200),
    "files.retrieve": (None, wire.FileObject, 200),
    "files.delete": (None, wire.FileDeleteResponse, 200),
    "files.content": (None, None, 200),
    "files.preprocess": (None, wire.FileObject, 200),
    "whoami": (None, wire.WhoamiResponse, 200),
    "control.clock.advance": (wire.ClockAdvanceRequest, wire.ClockState, 200),
    "control.clock": (None, wire.ClockState, 200),
    "control.health": (None, wire.Health, 200),
    "control.reset": (None, wire.Health, 200),
}
LISTS = {"evaluation.list", "evaluations.list"}


def control_requests() -> dict[str, tuple[type[BaseModel], bool]]:
    """Control-plane route name -> (request model, body is a JSON array of it)."""
    from ..engine._faults import FaultRule
    from ..engine._scenarios import Scenario, ScenarioEntry
    from ..engine._snapshot import Snapshot
    from ._control import (
        ClockRunRequest,
        ClockScaleRequest,
        ClockSetRequest,
        JobAdvanceRequest,
        JobStatusRequest,
        SeedRequest,
    )

    return {
        "control.seed": (SeedRequest, False),
        "control.clock.set": (ClockSetRequest, False),
        "control.clock.run": (ClockRunRequest, False),
        "control.clock.scale": (ClockScaleRequest, False),
        "control.scenarios.add": (ScenarioEntry, False),
        "control.scenarios.default": (Scenario, False),
        "control.scenarios.type": (Scenario, False),
        "control.jobs.scenario": (Scenario, False),
        "control.faults.add": (FaultRule, False),
        "control.faults.replace": (FaultRule, True),
        "control.jobs.advance": (JobAdvanceRequest, False),
        "control.jobs.status": (JobStatusRequest, False),
        "control.state.import": (Snapshot, False),
    }


@lru_cache(maxsize=1)
def openapi_document() -> bytes:
    from ._api import API_ROUTES
    from ._control import CONTROL_ROUTES

    controls = control_requests()
    models = {m for req, resp, _ in SCHEMAS.values() for m in (req, resp) if m} | {wire.ErrorBody}
    models |= {model for model, _ in controls.values()}
    refs, definitions = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
        by_alias=True,
    )
    ref = {model: refs[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for route in API_ROUTES + CONTROL_ROUTES:
        request_model, response_model, status = SCHEMAS.get(route.name, (None, None, 200))
        path = route.path.replace(":int}", "}")
        operation: dict[str, Any] = {
            "operationId": route.name,
            "responses": {
                "default": {"description": "Error", "content": {"application/json": {"schema": ref[wire.ErrorBody]}}}
            },
        }
        if response_model is not None:
            schema = ref[response_model]
            if route.name in LISTS:
                schema = {"type": "array", "items": schema}
            operation["responses"][str(status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": schema}},
            }
        else:
            operation["responses"][str(status)] = {"description": "OK"}
        if request_model is not None:
            media = (
                "application/x-www-form-urlencoded"
                if route.name.startswith("files.") and "upload" in route.name
                else "application/json"
            )
            operation["requestBody"] = {"content": {media: {"schema": ref[request_model]}}}
        elif route.name in controls:
            model, array = controls[route.name]
            schema = {"type": "array", "items": ref[model]} if array else ref[model]
            operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
        if route.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[route.method.lower()] = operation
    document = {
        "openapi": "3.1.0",
        "info": {"title": "together-eval-emulator", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    return json.dumps(document).encode()
