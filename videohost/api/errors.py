"""The one error envelope of the API: {"error": {"code", "message", "details"}}.

DRF routes exceptions raised inside API views here; Django-level failures under /api/
(unknown paths, 500s raised outside DRF, oversize bodies) reach `error_response` through the
handlers in videohost/urls.py, so every error a client sees has the same shape.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from videohost.errors import DomainError, RateLimited, ServiceUnavailable
from videohost.outages import MESSAGES, RETRY_AFTER_SECONDS, note_outage, outage_of

logger = logging.getLogger("videohost.api")

CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    416: "RANGE_NOT_SATISFIABLE",
    422: "UNPROCESSABLE_ENTITY",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(status_code: int, message: str, details: dict | None = None) -> dict:
    code = CODES.get(status_code, "BAD_REQUEST" if status_code < 500 else "INTERNAL_SERVER_ERROR")
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status_code: int, message: str, details: dict | None = None) -> JsonResponse:
    """The envelope outside DRF (Django handlers, plain views)."""
    return JsonResponse(error_body(status_code, message, details), status=status_code)


def _first_message(details) -> str:
    """The first human message in DRF's nested error structure."""
    if isinstance(details, dict):
        for field, value in details.items():
            text = _first_message(value)
            if text:
                return text if field in ("non_field_errors", "detail") else f"{field}: {text}"
    elif isinstance(details, list):
        for value in details:
            text = _first_message(value)
            if text:
                return text
    elif details:
        return str(details)
    return ""


def _as_drf(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def service_unavailable_response(dependency: str) -> JsonResponse:
    """503 with Retry-After for a backing service that cannot be reached (outside DRF)."""
    response = error_response(503, MESSAGES[dependency])
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc: Exception, context: dict) -> Response:
    headers = {}
    dependency = outage_of(exc)
    if dependency is not None:
        # PostgreSQL or Redis is away: the request may well succeed in a few seconds.
        note_outage(dependency, exc, context.get("view").__class__.__name__)
        return Response(
            error_body(503, MESSAGES[dependency]),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        if isinstance(exc, RateLimited | ServiceUnavailable):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(
            error_body(exc.status_code, exc.message, exc.details),
            status=exc.status_code,
            headers=headers,
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(413, "The request body is larger than allowed."), status=413)

    response = drf_exception_handler(_as_drf(exc), context)
    if response is None:
        # Unexpected: log the traceback for operators, tell the client nothing about it.
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        return Response(
            error_body(500, "An internal error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        details = data if isinstance(data, dict) else {"non_field_errors": data}
        message = _first_message(details) or "Invalid input."
    else:
        details = {}
        message = _first_message(data) or "Error."
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(max(1, int(exc.wait)))
    response.data = error_body(response.status_code, message, details)
    return response
