"""/api/schema documents the Auth endpoints' bodies."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_documents_the_auth_bodies(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    login = paths["/api/auth/login"]["post"]
    assert "LoginResponse" in str(login["responses"]["200"])
    assert {"401", "429"} <= set(login["responses"])
    assert "Login" in str(login["requestBody"])
    register = paths["/api/auth/register"]["post"]
    assert {"201", "400", "409"} <= set(register["responses"])
    me_patch = paths["/api/auth/me"]["patch"]
    assert "multipart/form-data" in me_patch["requestBody"]["content"]
    assert "avatar" in str(schema["components"]["schemas"])
    for path in ("/api/auth/password", "/api/auth/logout"):
        assert "Message" in str(paths[path]["post"]["responses"]["200"])
    public = schema["components"]["schemas"]["User"]["properties"]
    assert set(public) == {
        "id",
        "username",
        "email",
        "display_name",
        "bio",
        "avatar_url",
        "is_author",
        "created_at",
    }
