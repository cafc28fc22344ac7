"""The documented (non-real) evaluation API, as an add-on: its routes, its extra fields and
metrics, and its own client. The real contract never depends on it.

`Together` and `AsyncTogether` here are clients of the documented API only: no real `together`
SDK has `client.evaluation.create(model, evaluation_type, dataset)` or these types.
"""

from ._client import (
    APIConnectionError,
    APIStatusError,
    AsyncTogether,
    DocumentedClientError,
    NotADocumentedJob,
    Together,
)
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
