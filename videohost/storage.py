"""Storage handles, looked up lazily so tests and deployments can swap backends.

With `STORAGE_BACKEND=s3` both handles are `MediaS3Storage`s over one bucket: `private/`
(originals, HLS output; pre-signed URLs only) and `public/` (thumbnails, sprites, avatars,
ads; readable anonymously through the bucket policy). See settings.storages_for.
"""

import mimetypes
import threading
from pathlib import PurePosixPath

import botocore
from botocore.config import Config
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class _PublicStorage(LazyObject):
    """storages["public"], resolved on use like Django's `default_storage`.

    File fields call `public_storage` once, when the model class is built; handing them this
    proxy rather than the backend itself keeps them following `STORAGES` when it changes (a
    test switching to object storage), as `Video.file` does through `default_storage`.
    """

    def _setup(self):
        self._wrapped = storages["public"]


_public = _PublicStorage()


@receiver(setting_changed, dispatch_uid="videohost.storage.reset_public_storage")
def _reset_public_storage(*, setting, **kwargs) -> None:
    if setting == "STORAGES":
        _public._wrapped = empty


def public_storage() -> Storage:
    """Files anyone may fetch by URL: thumbnails, avatars, ad creatives."""
    return _public


def private_storage() -> Storage:
    """Files only access-checked views may read: video originals and HLS output."""
    return storages["default"]


# What every stored name's extension means. The system's table is not trusted for these:
# Debian's maps ".ts" to a Qt translation file.
MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def media_type_of(name: str) -> str:
    """The Content-Type an object is stored with, from its generated name alone."""
    suffix = PurePosixPath(name).suffix.lower()
    guessed, _ = mimetypes.guess_type(f"x{suffix}") if suffix else (None, None)
    return MEDIA_TYPES.get(suffix) or guessed or "application/octet-stream"


class MediaS3Storage(S3Storage):
    """django-storages' S3Storage, with two changes for user media.

    - `public_endpoint_url`: the address browsers reach the object store at, used only to
      build URLs (signed or plain), while the processes talk to `endpoint_url` (in
      docker-compose, `http://minio:9000` inside and the site's own origin outside).
      A signature covers the host, so the URL must be made for the host that is asked.
    - The Content-Type of an object comes from its generated name, never from what the
      uploader declared: an original stored as `text/html` would be a page on the
      object store's origin.
    """

    def __init__(self, *, public_endpoint_url: str | None = None, **options):
        super().__init__(**options)
        self.public_endpoint_url = public_endpoint_url or None
        self._url_clients = threading.local()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_url_clients", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._url_clients = threading.local()

    def _get_write_parameters(self, name, content=None):
        params = self.get_object_parameters(name)
        params.setdefault("ContentType", media_type_of(name))
        if "ACL" not in params and self.default_acl:
            params["ACL"] = self.default_acl
        return params

    def _url_client(self):
        """A client for the browsers' address; signing is local, it never connects."""
        client = getattr(self._url_clients, "client", None)
        if client is None:
            config = self.client_config
            if not self.querystring_auth:
                config = config.merge(Config(signature_version=botocore.UNSIGNED))
            client = self._create_session().client(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.public_endpoint_url,
                config=config,
                verify=self.verify,
            )
            self._url_clients.client = client
        return client

    def url(self, name, parameters=None, expire=None, http_method=None):
        if not self.public_endpoint_url or self.custom_domain:
            return super().url(name, parameters, expire, http_method)
        params = {
            **(parameters or {}),
            "Bucket": self.bucket_name,
            "Key": self._normalize_name(clean_name(name)),
        }
        return self._url_client().generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=self.querystring_expire if expire is None else expire,
            HttpMethod=http_method,
        )
