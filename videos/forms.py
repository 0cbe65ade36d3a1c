"""Page forms for videos. They only validate input; the services do the writing."""

from django import forms

from videos.models import AccessLevel, Video

TITLE_MAX = Video._meta.get_field("title").max_length
DESCRIPTION_MAX = Video._meta.get_field("description").max_length
# What the upload page's script lets through before asking the server, which probes content.
ACCEPTED_EXTENSIONS = (
    ".mp4",
    ".m4v",
    ".webm",
    ".mkv",
    ".mov",
    ".ogv",
    ".ogg",
    ".avi",
    ".ts",
    ".flv",
)


class VideoDetailsForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    description = forms.CharField(
        required=False, max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    access_level = forms.ChoiceField(
        choices=AccessLevel.choices,
        initial=AccessLevel.PUBLIC,
        label="Who can watch",
        help_text="Subscriber and sponsor videos play only for them, and never with ads.",
    )
    has_ads = forms.BooleanField(
        required=False, label="Show a pre-roll ad", help_text="Public videos only."
    )


class VideoUploadForm(VideoDetailsForm):
    """Rendered by the upload page; its script posts the fields to POST /api/videos."""

    file = forms.FileField(
        label="Video file",
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
    )

    field_order = ["file", "title", "description", "access_level", "has_ads"]


class VideoEditForm(VideoDetailsForm):
    pass
