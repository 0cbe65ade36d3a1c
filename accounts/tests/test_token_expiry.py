"""Tokens stop working once their 24 hours are up."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import token_issue
from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_fresh_token_expires_after_the_configured_ttl(viewer, settings):
    token, _ = token_issue(user=viewer)
    expected = timezone.now() + settings.AUTH_TOKEN_TTL
    assert abs((token.expiry - expected).total_seconds()) < 5
    assert settings.AUTH_TOKEN_TTL == timedelta(hours=24)


def test_an_expired_token_is_refused_and_removed(viewer):
    token, raw = token_issue(user=viewer)
    assert bearer(raw).get("/api/auth/me").status_code == 200
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert_error_envelope(bearer(raw).get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_a_token_one_minute_from_expiry_still_works(viewer):
    token, raw = token_issue(user=viewer)
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + timedelta(minutes=1))
    assert bearer(raw).get("/api/auth/me").status_code == 200


def test_using_a_token_does_not_extend_it(viewer):
    token, raw = token_issue(user=viewer)
    bearer(raw).get("/api/auth/me")
    token.refresh_from_db()
    before = token.expiry
    bearer(raw).get("/api/auth/me")
    token.refresh_from_db()
    assert token.expiry == before


def test_a_made_up_token_is_refused_with_the_envelope(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer " + "0" * 64)
    assert_error_envelope(api_client.get("/api/auth/me"), 401, "UNAUTHORIZED")
