"""Errors as JSON with a stable ``code``, for every failure the API can answer with."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.db.engine import STORAGE_ERRORS

from .schemas import ErrorOut

log = logging.getLogger("nngrade.api")

#: Seconds a client is asked to wait while the database cannot be used.
STORAGE_RETRY_AFTER = 5

#: Codes for HTTP errors raised by the framework itself (unknown route, wrong method…).
STATUS_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "request-too-large", 415: "unsupported-media-type"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 details: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details


def error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                   details: list[dict] | None = None) -> JSONResponse:
    body = ErrorOut(code=code, message=message, details=details).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(errors: list[dict]) -> tuple[str, list[dict]]:
    """A message naming each problem ("body.exercise: Field required") and the sanitized details."""
    details = []
    for e in errors[:20]:
        loc = [str(p) for p in e.get("loc", ())]
        details.append({"loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    parts = []
    for d in details[:5]:
        where = ".".join(d["loc"]) or "request"
        parts.append(f"{where}: {'missing' if d['type'] == 'missing' else d['msg']}")
    return "invalid request: " + "; ".join(parts), jsonable_encoder(details)


def invalid(errors: list[dict]) -> ApiError:
    message, details = describe_validation(errors)
    return ApiError(422, "invalid-request", message, details=details)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, headers=exc.headers, details=exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, f"http-{exc.status_code}")
        try:
            message = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
        except ValueError:
            message = "error"
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        error = invalid(list(exc.errors()))
        return error_response(422, error.code, error.message, details=error.details)

    async def _storage_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s: the database cannot be used: %s: %s", request.method, request.url.path,
                  type(exc).__name__, str(getattr(exc, "orig", exc))[:300])
        return error_response(503, "storage-unavailable", "The service cannot use its database right now. Try again "
                              f"in {STORAGE_RETRY_AFTER} s (a retry with the same Idempotency-Key never makes a "
                              f"second submission).",
                              headers={"Retry-After": str(STORAGE_RETRY_AFTER)})

    for storage_error in STORAGE_ERRORS:
        app.add_exception_handler(storage_error, _storage_error)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal-error", "The service failed on this request; it has been logged.")


def documented(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` for these error statuses, all with :class:`ErrorOut` bodies."""
    return {s: {"model": ErrorOut, "description": HTTPStatus(s).phrase} for s in statuses}
