import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

from videohost.storage import public_storage


def avatar_upload_to(instance: "User", filename: str) -> str:
    # Never keep the uploader's file name: it can carry paths, scripts or personal data.
    return f"avatars/{instance.pk or 'new'}/{secrets.token_hex(16)}.jpg"


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username: str) -> "User":
        return self.get(username__iexact=username)


class User(AbstractUser):
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    avatar = models.ImageField(
        upload_to=avatar_upload_to, storage=public_storage, blank=True, max_length=255
    )
    is_author = models.BooleanField(default=False, help_text="Set when the user creates a channel.")

    objects = CaseInsensitiveUserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def created_at(self):
        return self.date_joined

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username

    @property
    def avatar_url(self) -> str | None:
        return self.avatar.url if self.avatar else None
