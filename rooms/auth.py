"""Who is on the other end of a room WebSocket (ROOM_PROTOCOL.md, "Connecting").

Three ways in, in the order the REST API uses: an `Authorization: Bearer <token>` header on
the handshake (API clients), the Django session cookie (site pages), or an `auth` first frame
that the consumer waits for (browsers holding a token: they cannot set headers on a WebSocket).
A token is never read from the URL, where it would end up in access logs and browser history.

Tokens are checked by knox itself (hashed lookup, expiry, inactive users), so a token that the
API refuses is refused here too.
"""

from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie
from rest_framework.exceptions import AuthenticationFailed

# The longest token worth hashing: knox tokens are 64 characters (+ an optional prefix).
MAX_TOKEN_LENGTH = 256

# Set on the scope when the handshake carried credentials that were refused, so the consumer
# closes with 4001 at once instead of waiting for an `auth` frame.
AUTH_FAILED = "auth_failed"


def user_for_token(token: object):
    """The active user owning this knox token, or None (unknown, expired, inactive, garbage)."""
    from videohost.api.auth import BearerTokenAuthentication

    # Knox tokens are hex: anything else is garbage, refused before it reaches the database —
    # a lone surrogate ("\ud800" in the auth frame's JSON) would not even encode below, and
    # PostgreSQL refuses a NUL in a query parameter.
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not (token.isascii() and token.isalnum()):
        return None
    try:
        user, _ = BearerTokenAuthentication().authenticate_credentials(token.encode("utf-8"))
    except AuthenticationFailed:
        return None
    return user if user.is_active else None


auser_for_token = database_sync_to_async(user_for_token)


def bearer_token(scope) -> str | None:
    """The token of an `Authorization: Bearer` header: None without one, "" when malformed."""
    from knox.settings import knox_settings

    prefix = knox_settings.AUTH_HEADER_PREFIX.lower()
    for name, value in scope.get("headers", []):
        if name != b"authorization":
            continue
        parts = value.decode("latin1").split()
        if not parts or parts[0].lower() != prefix:
            return None  # another scheme: not ours to judge
        return parts[1] if len(parts) == 2 else ""
    return None


class BearerTokenMiddleware(BaseMiddleware):
    """Replaces the session user by the owner of a Bearer token, when the handshake has one."""

    async def __call__(self, scope, receive, send):
        token = bearer_token(scope)
        if token is not None:
            scope = dict(scope)
            user = await auser_for_token(token)
            if user is None:
                scope["user"] = AnonymousUser()
                scope[AUTH_FAILED] = True
            else:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def session_key(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return parse_cookie(value.decode("latin1")).get(settings.SESSION_COOKIE_NAME)
    return None


class SessionUserMiddleware(BaseMiddleware):
    """The session cookie's user, read once at the handshake (Django's checks: the session's
    auth hash must match, so a changed password signs the cookie out here too).

    Not channels' AuthMiddlewareStack: that wraps every frame the socket sends, to save a
    session the socket might have changed. A room socket never changes it, and the wrapper
    was a fifth of the cost of delivering an event to a socket (bench/room_fanout.py)."""

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        key = session_key(scope)
        if key:
            store = import_module(settings.SESSION_ENGINE).SessionStore
            scope["user"] = await get_user({"session": store(session_key=key)})
        else:
            scope["user"] = AnonymousUser()
        return await super().__call__(scope, receive, send)


def RoomAuthMiddlewareStack(inner):
    """Session cookie first, then a Bearer header overrides it."""
    return SessionUserMiddleware(BearerTokenMiddleware(inner))
