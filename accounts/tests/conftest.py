"""Helpers for the accounts tests: real images, the error envelope, logging in by API."""

import io

import pytest
from PIL import Image


def image_bytes(size=(400, 300), color=(200, 30, 30), fmt="PNG", mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def api_login(api_client):
    """POST /api/auth/login from a chosen client address."""

    def attempt(username: str, password: str, ip: str = "192.0.2.10"):
        return api_client.post(
            "/api/auth/login",
            {"username": username, "password": password},
            format="json",
            REMOTE_ADDR=ip,
        )

    return attempt
