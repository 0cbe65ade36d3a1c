from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"
    verbose_name = "Videos and ads"

    def ready(self) -> None:
        from videos import signals  # noqa: F401  (connects the file clean-up receivers)
