"""Settings come from the environment, and a bad value stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_with(*, show: str = "", **env: str) -> subprocess.CompletedProcess:
    """Load the real settings module in a fresh interpreter, as daphne or manage.py would;
    prints the main choices, and then `show` (an expression over `settings`) when given."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="videohost.settings")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); "
        "print(settings.CACHES['default']['BACKEND']); "
        "print(settings.CHANNEL_LAYERS['default']['BACKEND']); "
        "print(settings.MAX_UPLOAD_SIZE)"
    )
    if show:
        code += f"; print({show})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_defaults_are_sqlite_local_memory_and_in_memory_layer():
    result = start_with()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "channels.layers.InMemoryChannelLayer",
        str(2 * 1024**3),
    ]


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    result = start_with(
        DATABASE_URL="postgres://user:secret@db.example:5432/videohost",
        REDIS_URL="redis://cache.example:6379/0",
        MAX_UPLOAD_SIZE="1048576",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "django.core.cache.backends.redis.RedisCache",
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "1048576",
    ]


@pytest.mark.parametrize(
    ("prepared", "threshold"), [({}, "0"), ({"DATABASE_PREPARED": "0"}, "None")]
)
def test_postgresql_prepares_the_hot_statements_unless_database_prepared_is_off(
    prepared, threshold
):
    result = start_with(
        DATABASE_URL="postgres://user:secret@db.example:5432/videohost",
        show="settings.DATABASES['default']['OPTIONS']['prepare_threshold']",
        **prepared,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == threshold


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/videohost"),
        ("REDIS_URL", "http://localhost:6379"),
        ("MAX_UPLOAD_SIZE", "two gigabytes"),
        ("MAX_UPLOAD_SIZE", "0"),
        ("AUTH_TOKEN_TTL", "-5"),
        ("LOGIN_THROTTLE_ATTEMPTS", "lots"),
        ("LOG_LEVEL", "LOUD"),
        ("VIDEO_RENDITIONS", "720,hd"),
        ("VIDEO_RENDITIONS", "720,100"),
        ("VIDEO_X264_PRESET", "placebo"),
        ("MEDIA_DELIVERY", "ftp"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = start_with(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = start_with(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1]
