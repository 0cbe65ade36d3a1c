"""Django-level error handlers: the API's envelope under /api/, the site's pages elsewhere."""

import sys

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django.utils.html import escape

from videohost.api.errors import error_response, service_unavailable_response
from videohost.outages import MESSAGES, RETRY_AFTER_SECONDS, note_outage, outage_of


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None) -> HttpResponse:
    if _is_api(request):
        return error_response(400, "Bad request.")
    return render(request, "errors/error.html", {"status": 400, "title": "Bad request"}, status=400)


def permission_denied(request, exception=None) -> HttpResponse:
    if _is_api(request):
        return error_response(403, "You do not have permission to perform this action.")
    context = {"status": 403, "title": "Not allowed", "message": str(exception or "")}
    return render(request, "errors/error.html", context, status=403)


def not_found(request, exception=None) -> HttpResponse:
    if _is_api(request):
        return error_response(404, "Not found.")
    return render(request, "errors/error.html", {"status": 404, "title": "Not found"}, status=404)


def service_unavailable(request, dependency: str) -> HttpResponse:
    """503 with Retry-After while PostgreSQL or Redis cannot be reached (videohost.outages)."""
    if _is_api(request):
        return service_unavailable_response(dependency)
    # A plain page: templates, context processors and sessions may all need the database.
    response = HttpResponse(
        "<!doctype html><title>Temporarily unavailable</title>"
        "<h1>Temporarily unavailable</h1>"
        f"<p>{escape(MESSAGES[dependency])}</p>",
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware(MiddlewareMixin):
    """A view (or its template) that fails because PostgreSQL or Redis is away answers 503
    with Retry-After, not 500. Failures outside views (a middleware's own query) reach
    `server_error`, which answers the same."""

    def process_exception(self, request, exception):
        dependency = outage_of(exception)
        if dependency is None:
            return None
        note_outage(dependency, exception, request.path)
        return service_unavailable(request, dependency)


def server_error(request) -> HttpResponse:
    # Django calls this handler inside its `except` block, so the failure is still at hand.
    dependency = outage_of(sys.exc_info()[1])
    if dependency is not None:
        return service_unavailable(request, dependency)
    if _is_api(request):
        return error_response(500, "An internal error occurred.")
    # No template context processors here: the failure may be in one of them.
    return HttpResponse(
        "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
        "<p>The error was logged. Please try again.</p>",
        status=500,
    )


def csrf_failure(request, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return error_response(403, f"CSRF check failed: {reason}")
    context = {
        "status": 403,
        "title": "Form expired",
        "message": "Reload the page and try again.",
    }
    return render(request, "errors/error.html", context, status=403)
