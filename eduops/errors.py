"""Errors answer JSON under /api and HTML elsewhere; an unexpected one is logged with its traceback."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A precise client error: status, a short code, and a sentence a person can act on."""

    def __init__(self, status: int, error: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.error, self.message, self.extra = status, error, message, extra


class DomainError(Exception):
    """A refusal by meaning, raised by storage and rules; the edges (API, pages, CLI) translate it.

    ``message`` is a sentence a person can act on; ``details`` go into the JSON answer as they are
    (a booking conflict lists its conflicts and suggested slots there).
    """

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message, self.details = message, details
        if code:
            self.code = code


class Invalid(DomainError):
    status, code = 400, "invalid"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class ErrorAnswer(BaseModel):
    """The JSON shape of every refusal under /api/, for the OpenAPI document."""
    model_config = ConfigDict(strict=True, extra="ignore")

    error: str = Field(description="A short code, such as invalid or unauthorized.")
    message: str = Field(description="A sentence a person can act on.")
    details: list[dict[str, str]] | None = Field(
        default=None, description="For invalid: each field at fault as {path, problem}.")
    reenroll: bool | None = Field(default=None, description="For 401: the key is unknown or revoked; enroll again.")


# Short codes for the HTTP errors Flask and Werkzeug raise themselves.
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
          429: "busy", 503: "busy"}


def _answer(status: int, error: str, message: str, extra: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None):
    if request.path.startswith("/api/"):
        body = {"error": error, "message": message, **(extra or {})}
        return jsonify(body), status, headers or {}
    return render_template("error.html", status=status, message=message), status, headers or {}


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        headers = {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(int(exc.extra["retry_after"]))
        return _answer(exc.status, exc.error, exc.message, exc.extra, headers)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return _answer(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"The request body is larger than the hub's limit of {limit} bytes; send less at once."
        return _answer(status, _CODES.get(status, "error"), message,
                       headers=dict(exc.get_headers()) if status == 405 else None)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _answer(500, "internal", "The hub failed on this request; the fault is logged. "
                       "Try again later and tell the county technology centre if it persists.")
