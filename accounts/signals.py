"""Deactivation by any path (admin form, shell, a service) ends the user's tokens at once.

knox already refuses the tokens of inactive users; deleting them as well means that
reactivating the account later does not bring old, possibly leaked, tokens back to life.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.services import user_tokens_revoke


@receiver(post_save, sender=User, dispatch_uid="accounts.revoke_tokens_of_inactive_user")
def revoke_tokens_of_inactive_user(sender, instance: User, created: bool, **kwargs) -> None:
    if created or instance.is_active:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "is_active" not in update_fields:
        return
    user_tokens_revoke(user=instance)
