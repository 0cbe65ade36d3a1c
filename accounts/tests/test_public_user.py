"""The public user form other apps embed: never the email."""

import pytest

from accounts.serializers import PublicUserSerializer, UserSerializer

pytestmark = pytest.mark.django_db


def test_the_public_form_has_exactly_the_contract_fields(author):
    data = PublicUserSerializer(author).data
    assert data == {
        "id": author.pk,
        "username": "alice",
        "display_name": "Alice",
        "avatar_url": None,
        "is_author": True,
    }


def test_the_email_never_appears_in_the_public_form(author, viewer):
    for user in (author, viewer):
        rendered = str(PublicUserSerializer(user).data)
        assert user.email not in rendered
        assert "email" not in PublicUserSerializer(user).data


def test_the_public_form_is_read_only(viewer):
    serializer = PublicUserSerializer(viewer, data={"username": "root", "is_author": True})
    assert serializer.is_valid()
    assert serializer.validated_data == {}


def test_only_the_private_form_carries_the_email(viewer):
    assert UserSerializer(viewer).data["email"] == "victor@example.com"
