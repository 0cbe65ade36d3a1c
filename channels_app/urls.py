from django.urls import re_path

from channels_app import views

# Page paths are written without a trailing slash; one is accepted too, as in the API.
urlpatterns = [
    re_path(r"^channels/(?P<channel_id>[0-9]+)/?$", views.channel_detail, name="channel_detail"),
    re_path(r"^studio/?$", views.studio, name="studio"),
    re_path(
        r"^studio/channel/delete/?$", views.studio_channel_delete, name="studio_channel_delete"
    ),
]
