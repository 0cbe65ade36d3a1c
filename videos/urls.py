from django.urls import re_path

from videos import views

# Page paths are written without a trailing slash; one is accepted too, as in the API.
urlpatterns = [
    re_path(r"^$", views.home, name="home"),
    re_path(r"^videos/(?P<video_id>[0-9]+)/?$", views.video_detail, name="video_detail"),
    re_path(r"^upload/?$", views.upload, name="upload"),
    re_path(
        r"^studio/videos/(?P<video_id>[0-9]+)/edit/?$",
        views.studio_video_edit,
        name="studio_video_edit",
    ),
    re_path(
        r"^studio/videos/(?P<video_id>[0-9]+)/delete/?$",
        views.studio_video_delete,
        name="studio_video_delete",
    ),
]
