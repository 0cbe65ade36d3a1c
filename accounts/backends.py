from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class CaseInsensitiveModelBackend(ModelBackend):
    """Sign in as "Alice" or "alice": usernames are unique regardless of case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()  # noqa: N806
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = User._default_manager.get(username__iexact=username)
        except User.DoesNotExist:
            # Spend the hashing time anyway so timing does not reveal which names exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
