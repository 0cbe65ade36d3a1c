from django.urls import re_path

from uploads.api_views import UploadCollectionView, UploadDetailView

urlpatterns = [
    re_path(r"^uploads/?$", UploadCollectionView.as_view(), name="api-uploads"),
    re_path(
        r"^uploads/(?P<upload_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/?$",
        UploadDetailView.as_view(),
        name="api-upload-detail",
    ),
]
