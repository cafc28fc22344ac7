"""Typed errors raised by the core; `wire.ErrorBody` renders them (docs/wire-contract.md#decision-error-shape)."""

from __future__ import annotations

INVALID_API_KEY_MESSAGE = (
    "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys."
)


class ApiError(Exception):
    """An error answered to the client in the real `{"error": {...}}` shape."""

    status_code = 400
    error_type = "invalid_request_error"

    def __init__(
        self, message: str, *, param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


class InvalidRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__(INVALID_API_KEY_MESSAGE, code="invalid_api_key")


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class MethodNotAllowed(ApiError):
    status_code = 405


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413
