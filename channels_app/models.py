from django.conf import settings
from django.db import models


class Channel(models.Model):
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel"
    )
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=5000, blank=True)
    # Set by the live-streaming work (nginx-rtmp callbacks); false until then.
    is_live = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Subscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="subscriptions")
    is_sponsor = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="subscription_unique_pair")
        ]

    def __str__(self) -> str:
        kind = "sponsor" if self.is_sponsor else "subscriber"
        return f"{self.user} → {self.channel} ({kind})"
