from django.urls import re_path

from rooms import views

# Page paths are written without a trailing slash; one is accepted too, as in the API.
urlpatterns = [
    re_path(r"^rooms/?$", views.rooms, name="rooms"),
    re_path(r"^rooms/(?P<room_id>[0-9]+)/?$", views.room_detail, name="room_detail"),
]
