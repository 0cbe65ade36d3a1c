from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Each path with or without a trailing slash, and no redirect that drops a POST body.

    DRF 3.18's SimpleRouter turns any truthy `trailing_slash` argument into "/", so
    `SimpleRouter(trailing_slash="/?")` silently gives slash-only routes; set it afterwards.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
