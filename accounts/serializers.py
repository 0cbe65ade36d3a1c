from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User


class PublicUserSerializer(serializers.ModelSerializer):
    """How any user appears to others: never the email."""

    avatar_url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "avatar_url", "is_author"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    """The private form: only ever shown to the user themself."""

    avatar_url = serializers.CharField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "display_name",
            "bio",
            "avatar_url",
            "is_author",
            "created_at",
        ]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    expires_at = serializers.DateTimeField()
    user = UserSerializer()


@extend_schema_field({"type": "string", "format": "binary", "nullable": True})
class AvatarField(serializers.Field):
    """A file part (multipart) to set the avatar; null or "" removes it."""

    default_error_messages = {"invalid": "Upload an image file, or send null to remove it."}

    def validate_empty_values(self, data):
        if data is None or data == "":
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not hasattr(data, "read") or not hasattr(data, "size"):
            self.fail("invalid")
        return data


class ProfileUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
    bio = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, trim_whitespace=False
    )
    avatar = AvatarField(required=False)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, max_length=4096)
    new_password = serializers.CharField(trim_whitespace=False, max_length=4096)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
