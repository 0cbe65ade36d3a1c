"""STORAGE_BACKEND and its companions from the environment: local folders by default, one
bucket with private/ and public/ prefixes for s3, and start-up refusing combinations that
could not work, naming the variable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
S3 = {
    "STORAGE_BACKEND": "s3",
    "STORAGE_S3_BUCKET": "videohost",
    "STORAGE_S3_ENDPOINT_URL": "http://minio:9000",
    "STORAGE_S3_ACCESS_KEY": "videohost",
    "STORAGE_S3_SECRET_KEY": "videohost-secret",
}


def start_with(**env: str) -> subprocess.CompletedProcess:
    """Load the real settings module in a fresh interpreter, as daphne or manage.py would."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STORAGE_", "MEDIA_", "SERVE_PUBLIC_MEDIA", "AWS_"))
        and key not in {"DEBUG", "SECRET_KEY"}
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="videohost.settings")
    code = """if True:
        import json, django
        django.setup()
        from django.conf import settings
        from django.core.files.storage import storages
        media = {}
        for alias in ("default", "public"):
            storage = storages[alias]
            media[alias] = {
                "class": type(storage).__name__,
                "location": str(storage.location),
                **{
                    name: getattr(storage, name)
                    for name in ("bucket_name", "endpoint_url", "public_endpoint_url",
                                 "region_name", "querystring_auth", "querystring_expire")
                    if hasattr(storage, name)
                },
            }
        print(json.dumps({
            "media": media,
            "delivery": settings.MEDIA_DELIVERY,
            "serve_public_media": settings.SERVE_PUBLIC_MEDIA,
        }))
    """
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(**env: str) -> dict:
    result = start_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_local_folders_django_delivery_and_public_media_served_by_default(tmp_path):
    config = loaded(MEDIA_ROOT=str(tmp_path))
    assert config["media"] == {
        "default": {"class": "FileSystemStorage", "location": str(tmp_path / "private")},
        "public": {"class": "FileSystemStorage", "location": str(tmp_path / "public")},
    }
    assert (config["delivery"], config["serve_public_media"]) == ("django", True)


def test_s3_puts_both_storages_in_one_bucket_and_redirects_to_signed_urls():
    config = loaded(**S3, MEDIA_URL_EXPIRY="90")
    shared = {
        "class": "MediaS3Storage",
        "bucket_name": "videohost",
        "endpoint_url": "http://minio:9000",
        "public_endpoint_url": None,
        "region_name": "us-east-1",
    }
    assert config["media"] == {
        "default": {
            **shared,
            "location": "private",
            "querystring_auth": True,
            "querystring_expire": 90,
        },
        "public": {
            **shared,
            "location": "public",
            "querystring_auth": False,
            "querystring_expire": 3600,
        },
    }
    assert (config["delivery"], config["serve_public_media"]) == ("redirect", False)


def test_s3_takes_a_public_endpoint_a_region_and_django_delivery():
    config = loaded(
        **S3,
        STORAGE_S3_PUBLIC_ENDPOINT_URL="https://videos.example.com",
        STORAGE_S3_REGION="eu-central-1",
        MEDIA_DELIVERY="django",
    )
    assert config["media"]["default"]["public_endpoint_url"] == "https://videos.example.com"
    assert config["media"]["public"]["region_name"] == "eu-central-1"
    assert config["delivery"] == "django"


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("STORAGE_BACKEND", {"STORAGE_BACKEND": "ftp"}),
        ("STORAGE_S3_BUCKET", {**S3, "STORAGE_S3_BUCKET": ""}),
        ("STORAGE_S3_ENDPOINT_URL", {**S3, "STORAGE_S3_ENDPOINT_URL": "minio:9000"}),
        ("STORAGE_S3_PUBLIC_ENDPOINT_URL", {**S3, "STORAGE_S3_PUBLIC_ENDPOINT_URL": "ftp://x"}),
        ("STORAGE_S3_SECRET_KEY", {**S3, "STORAGE_S3_SECRET_KEY": ""}),
        ("MEDIA_DELIVERY", {**S3, "MEDIA_DELIVERY": "nginx"}),
        ("SERVE_PUBLIC_MEDIA", {**S3, "SERVE_PUBLIC_MEDIA": "1"}),
        ("MEDIA_DELIVERY", {"MEDIA_DELIVERY": "redirect"}),
    ],
)
def test_a_storage_setting_that_cannot_work_stops_start_up_naming_the_variable(variable, env):
    result = start_with(**env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert variable in last_line
