from django.urls import re_path

from rooms.consumers import RoomConsumer

# Like the API's paths, the trailing slash is optional.
websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<room_id>[0-9]+)/?$", RoomConsumer.as_asgi()),
]
