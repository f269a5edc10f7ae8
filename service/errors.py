"""Errors as JSON problem documents (RFC 9457), and never a stack trace to the caller.

Handlers translate :class:`Problem` (raised on purpose), Starlette's HTTP errors (404, 405),
request validation errors and anything unexpected into ``application/problem+json`` bodies with
``type``, ``title``, ``status`` and ``detail``. Validation problems list where the request was wrong
but never echo the submitted values back (they may be the very secrets being scanned). An unexpected
exception is logged with its traceback here and answered with a bare 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An HTTP error answered as a problem document.

    Args:
        status: the HTTP status code.
        detail: what went wrong and what to do, for the caller (no internals).
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
        extra: additional members of the problem document.
    """

    def __init__(self, status: int, detail: str | None = None, *, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(status: int, detail: str | None = None, headers: dict[str, str] | None = None,
                     extra: dict[str, Any] | None = None) -> JSONResponse:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": "about:blank", "title": _phrase(status), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.detail, exc.headers, exc.extra)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _phrase(exc.status_code) else None
    return problem_response(exc.status_code, detail, dict(exc.headers or {}))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()[:20]]
    where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:3])
    return problem_response(422, f"the request does not match the API schema ({where})", extra={"errors": errors})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "the service failed to handle this request; the error was logged")


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(Exception, _on_unexpected)
