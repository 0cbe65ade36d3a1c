"""Settings for the test suite: the real settings, a fast hasher and throw-away media."""

import os
import tempfile
from pathlib import Path

from videohost.settings import *  # noqa: F403
from videohost.settings import storages_for

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="videohost-test-media-"))
STORAGES = storages_for(MEDIA_ROOT)
if STORAGE_BACKEND == "s3":  # noqa: F405
    # Local folders whatever the environment says (in a compose container, say); the
    # object-storage tests switch to a loopback S3 server themselves (videohost/testing_s3.py).
    STORAGE_BACKEND, MEDIA_DELIVERY, SERVE_PUBLIC_MEDIA = "local", "django", True
UPLOAD_TEMP_DIR = Path(tempfile.mkdtemp(prefix="videohost-test-uploads-"))
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = "videohost-test"  # noqa: F405

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # One file per pytest process, so parallel runs never share a test database.
    DATABASES["default"]["TEST"]["NAME"] = BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3"  # noqa: F405
