"""Every write on accounts: registration, login, tokens, profile, password, bans."""

import io
import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from knox.models import AuthToken
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User
from accounts.throttle import LoginAttempt
from videohost.errors import Conflict, InvalidInput, NotAllowed, NotAuthenticated

logger = logging.getLogger("videohost.accounts")

INVALID_CREDENTIALS = "Invalid username or password"
USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email address already exists."
AVATAR_SIZE = 256
AVATAR_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
# Far above any sensible avatar, far below what would exhaust memory when decoded.
AVATAR_MAX_PIXELS = 40_000_000
# Transparent areas are laid on the site's dark background rather than JPEG's default black.
AVATAR_BACKGROUND = (24, 26, 31)


def _messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _taken_fields(*, username: str, email: str) -> dict[str, list[str]]:
    taken = {}
    if User.objects.filter(username__iexact=username).exists():
        taken["username"] = [USERNAME_TAKEN]
    if User.objects.filter(email__iexact=email).exists():
        taken["email"] = [EMAIL_TAKEN]
    return taken


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    username = User.normalize_username((username or "").strip())
    email = User.objects.normalize_email((email or "").strip())
    errors: dict[str, list[str]] = {}

    username_field = User._meta.get_field("username")
    if not username:
        errors["username"] = ["This field is required."]
    elif len(username) > username_field.max_length:
        errors["username"] = [
            f"Ensure this value has at most {username_field.max_length} characters."
        ]
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError as error:
            errors["username"] = _messages(error)

    if not email:
        errors["email"] = ["This field is required."]
    else:
        try:
            validate_email(email)
        except ValidationError as error:
            errors["email"] = _messages(error)

    if not password:
        errors["password"] = ["This field is required."]
    else:
        try:
            # The unsaved user lets UserAttributeSimilarityValidator compare with its name.
            validate_password(password, user=User(username=username, email=email))
        except ValidationError as error:
            errors["password"] = _messages(error)

    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], details=errors)

    taken = _taken_fields(username=username, email=email)
    if taken:
        raise Conflict(next(iter(taken.values()))[0], details=taken)

    user = User(username=username, email=email)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Someone registered the same name or email between the check and the insert; the
        # case-insensitive unique constraints caught it.
        taken = _taken_fields(username=username, email=email) or {"username": [USERNAME_TAKEN]}
        raise Conflict(next(iter(taken.values()))[0], details=taken) from None
    return user


@transaction.atomic
def auth_login(*, username: str, password: str, client_ip: str) -> User:
    """Check credentials under the login throttle; RateLimited while locked, even if right."""
    attempt = LoginAttempt(username=username or "", client_ip=client_ip)
    attempt.check_and_reserve()
    # The backend refuses inactive users and spends hashing time on unknown names too.
    user = authenticate(None, username=username, password=password)
    if user is None:
        attempt.failed()
        raise NotAuthenticated(INVALID_CREDENTIALS)
    attempt.succeeded()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return user


@transaction.atomic
def token_issue(*, user: User) -> tuple[AuthToken, str]:
    """A new knox token (only its hash is stored); the raw string is returned once."""
    if not user.is_active:
        raise NotAuthenticated(INVALID_CREDENTIALS)
    return AuthToken.objects.create(user=user, expiry=settings.AUTH_TOKEN_TTL)


@transaction.atomic
def token_revoke(*, token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def user_tokens_revoke(*, user: User, keep: AuthToken | None = None) -> int:
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    deleted, _ = tokens.delete()
    return deleted


def _avatar_jpeg(upload: UploadedFile) -> bytes:
    """Re-encode an uploaded image as a fresh square JPEG, or raise InvalidInput.

    Nothing of the upload survives but decoded pixels: no metadata, no trailing bytes, no
    polyglot HTML or script, so the public URL never serves attacker-chosen content.
    """
    limit = settings.MAX_AVATAR_SIZE
    if upload.size is not None and upload.size > limit:
        message = f"The avatar is larger than the {limit / (1024 * 1024):g} MiB allowed."
        raise InvalidInput(message, details={"avatar": [message]})
    not_an_image = "Upload a valid image (JPEG, PNG, GIF or WebP)."
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in AVATAR_FORMATS:
                raise InvalidInput(not_an_image, details={"avatar": [not_an_image]})
            if probe.width * probe.height > AVATAR_MAX_PIXELS:
                message = "The image has too many pixels."
                raise InvalidInput(message, details={"avatar": [message]})
            probe.verify()
        # verify() leaves the image unusable: decode again from the start.
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, AVATAR_BACKGROUND)
                background.paste(image, mask=image.getchannel("A"))
                image = background
            else:
                image = image.convert("RGB")
            side = min(AVATAR_SIZE, image.width, image.height)
            image = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85, optimize=True)
            return buffer.getvalue()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        logger.info("Refused avatar upload: %s", error)
        raise InvalidInput(not_an_image, details={"avatar": [not_an_image]}) from None


def _delete_file_after_commit(storage, name: str) -> None:
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    avatar: UploadedFile | None = None,
    remove_avatar: bool = False,
) -> User:
    """Change the fields given (None leaves a field as it is); nothing changes on error."""
    errors: dict[str, list[str]] = {}
    changes: dict[str, str] = {}
    if display_name is not None:
        display_name = display_name.strip()
        max_length = User._meta.get_field("display_name").max_length
        if len(display_name) > max_length:
            errors["display_name"] = [f"Ensure this value has at most {max_length} characters."]
        changes["display_name"] = display_name
    if bio is not None:
        max_length = User._meta.get_field("bio").max_length
        if len(bio) > max_length:
            errors["bio"] = [f"Ensure this value has at most {max_length} characters."]
        changes["bio"] = bio
    jpeg = None
    if avatar is not None:
        try:
            jpeg = _avatar_jpeg(avatar)
        except InvalidInput as error:
            errors.update(error.details)
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], details=errors)

    for field, value in changes.items():
        setattr(user, field, value)
    update_fields = list(changes)
    old_avatar = user.avatar.name if user.avatar else ""
    storage = user.avatar.storage
    if jpeg is not None:
        # avatar_upload_to ignores this name and makes a random one.
        user.avatar.save("avatar.jpg", ContentFile(jpeg), save=False)
        update_fields.append("avatar")
    elif remove_avatar and old_avatar:
        user.avatar = ""
        update_fields.append("avatar")
    if update_fields:
        user.save(update_fields=update_fields)
    if "avatar" in update_fields:
        _delete_file_after_commit(storage, old_avatar)
    return user


@transaction.atomic
def user_change_password(
    *, user: User, old_password: str, new_password: str, keep_token: AuthToken | None = None
) -> User:
    """Set a new password and revoke every token of the user except `keep_token`.

    Other sessions die too: Django ties each session to a hash of the password. The caller
    keeps its own session with update_session_auth_hash.
    """
    if not user.check_password(old_password or ""):
        message = "Your old password was entered incorrectly."
        raise InvalidInput(message, details={"old_password": [message]})
    if not new_password:
        raise InvalidInput(
            "This field is required.", details={"new_password": ["This field is required."]}
        )
    try:
        validate_password(new_password, user=user)
    except ValidationError as error:
        messages = _messages(error)
        raise InvalidInput(messages[0], details={"new_password": messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_tokens_revoke(user=user, keep=keep_token)
    return user


@transaction.atomic
def user_ban(*, user: User, by: User | None = None) -> User:
    """Deactivate a user: their tokens are deleted and their sessions stop working.

    Sessions need no sweep: on every request Django's ModelBackend.get_user refuses inactive
    users, so the session cookie authenticates nobody from now on.
    """
    if by is not None:
        if not (by.is_active and by.is_staff):
            raise NotAllowed("Only moderators can ban users.")
        if by.pk == user.pk:
            raise NotAllowed("You cannot ban yourself.")
        if (user.is_staff or user.is_superuser) and not by.is_superuser:
            raise NotAllowed("Only a superuser can ban staff.")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    user_tokens_revoke(user=user)
    logger.info("User %s banned by %s", user.pk, by.pk if by is not None else "system")
    return user
