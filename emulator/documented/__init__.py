"""The documented (non-real) evaluation API, as an add-on: its routes, its extra fields and
metrics, and its own client. The real contract never depends on it.

`Together` and `AsyncTogether` here are clients of the documented API only: no real `together`
SDK has `client.evaluation.create(model, evaluation_type, dataset)` or these types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._types import (
    ClassifyParameters,
    CompareParameters,
    EvaluationCreateResponse,
    EvaluationJob,
    EvaluationRequest,
    EvaluationStatus,
    EvaluationStatusResponse,
    EvaluationType,
    JudgeModelConfig,
    ModelRequest,
    ScoreParameters,
)

if TYPE_CHECKING:
    from ._client import (
        APIConnectionError,
        APIStatusError,
        AsyncTogether,
        DocumentedClientError,
        NotADocumentedJob,
        Together,
    )

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AsyncTogether",
    "ClassifyParameters",
    "CompareParameters",
    "DocumentedClientError",
    "EvaluationCreateResponse",
    "EvaluationJob",
    "EvaluationRequest",
    "EvaluationStatus",
    "EvaluationStatusResponse",
    "EvaluationType",
    "JudgeModelConfig",
    "ModelRequest",
    "NotADocumentedJob",
    "ScoreParameters",
    "Together",
]

# The client pulls in httpx; the server imports this package for its routes and never needs it.
_CLIENT_NAMES = frozenset(
    {"APIConnectionError", "APIStatusError", "AsyncTogether", "DocumentedClientError", "NotADocumentedJob", "Together"}
)


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        from . import _client

        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
