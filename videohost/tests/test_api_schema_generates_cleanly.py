"""The OpenAPI schema of every endpoint generates without a warning, names the media
pipeline's routes (HLS, processing, re-queue, resumable uploads), and declares the errors
every view of a kind answers (videohost.api.schema.AutoSchema)."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns drf-spectacular's warnings (unresolvable serializers, enum
    # collisions, …) into a failure, so a client generator never meets a guessed type.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").stat().st_size > 10_000


def test_the_schema_documents_the_media_routes(client):
    paths = client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"401", "403", "404"} <= set(paths["/api/videos/{id}/hls/{path}"]["get"]["responses"])
    assert "409" in paths["/api/videos/{id}/requeue"]["post"]["responses"]
    assert "200" in paths["/api/videos/{id}/processing"]["get"]["responses"]
    assert any(path.startswith("/api/uploads") for path in paths)


def _responses(client) -> dict:
    paths = client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    return {
        f"{method.upper()} {path}": set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }


# The three below were found by the schema fuzzer (videohost/tests/test_api_schema_fuzzing.py).


def test_every_paginated_list_documents_the_404_of_a_page_that_is_not_there(client, author):
    assert client.get("/api/channels?page=9").status_code == 404
    responses = _responses(client)
    for operation in (
        "GET /api/channels",
        "GET /api/videos",
        "GET /api/rooms",
        "GET /api/subscriptions",
        "GET /api/invitations",
    ):
        assert "404" in responses[operation], operation


def test_every_operation_that_reads_a_token_documents_the_401_of_a_revoked_one(client):
    assert client.get("/api/videos", HTTP_AUTHORIZATION="Bearer " + "0" * 64).status_code == 401
    for operation, codes in _responses(client).items():
        if operation not in ("POST /api/auth/login", "POST /api/auth/register"):
            assert "401" in codes, operation


def test_every_operation_that_reads_a_body_documents_the_415_of_an_unsupported_type(client):
    response = client.post("/api/auth/register", "x", content_type="text/plain")
    assert response.status_code == 415
    paths = client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "415" in operation["responses"], f"{method.upper()} {path}"
