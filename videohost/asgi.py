"""ASGI entry: HTTP through Django, WebSockets through Channels (served by daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videohost.settings")
# Django must be set up before anything imports models (consumers, auth middleware).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from rooms.auth import RoomAuthMiddlewareStack  # noqa: E402
from rooms.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin check comes first: a page on another site must not be able to open a
        # socket with the visitor's cookies (cross-site WebSocket hijacking).
        "websocket": AllowedHostsOriginValidator(
            RoomAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
