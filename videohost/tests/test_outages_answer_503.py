"""A backing service that cannot be reached answers 503 with Retry-After, never 500.

The live fault tests (test_redis_outage, test_database_restart) kill real servers; these pin
the mapping itself for each kind of failure and each way a request can meet it: a DRF view
(the API's envelope), a page view (a plain page), and a failure outside any view (Django's
500 handler).
"""

import botocore.exceptions
import pytest
import redis.exceptions
from django.db import OperationalError
from django.db.utils import InterfaceError
from django.test import RequestFactory

from videohost.api.errors import exception_handler
from videohost.outages import outage_of
from videohost.site_errors import ServiceUnavailableMiddleware, server_error

OUTAGES = [
    (OperationalError("connection refused"), "database"),
    (InterfaceError("connection already closed"), "database"),
    (redis.exceptions.ConnectionError("Error 111 connecting"), "redis"),
    (redis.exceptions.TimeoutError("Timeout reading from socket"), "redis"),
    (botocore.exceptions.EndpointConnectionError(endpoint_url="http://minio:9000"), "storage"),
]


@pytest.mark.parametrize(("exc", "dependency"), OUTAGES)
def test_each_unreachable_service_is_named(exc, dependency):
    assert outage_of(exc) == dependency


def test_ordinary_failures_are_not_outages():
    assert outage_of(ValueError("bug")) is None
    assert outage_of(redis.exceptions.ResponseError("WRONGTYPE")) is None


@pytest.mark.parametrize(("exc", "dependency"), OUTAGES)
def test_an_api_view_meeting_an_outage_answers_503_in_the_envelope(exc, dependency):
    response = exception_handler(exc, {"view": None})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.data["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert dependency.lower() in response.data["error"]["message"].lower()


@pytest.mark.parametrize(("exc", "dependency"), OUTAGES)
def test_a_page_meeting_an_outage_answers_a_plain_503_page(exc, dependency):
    request = RequestFactory().get("/videos/1")
    response = ServiceUnavailableMiddleware(lambda r: None).process_exception(request, exc)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content


def test_an_api_path_failing_outside_a_view_answers_the_envelope():
    request = RequestFactory().get("/api/videos")
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b'"SERVICE_UNAVAILABLE"' in response.content


def test_a_real_bug_outside_a_view_is_still_a_500():
    request = RequestFactory().get("/")
    try:
        raise KeyError("bug")
    except KeyError:
        response = server_error(request)
    assert response.status_code == 500
