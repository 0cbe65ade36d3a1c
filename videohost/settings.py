"""VideoHost settings, read from the environment.

Embedded defaults (no variables set) give a working development site: SQLite, local-memory
cache, in-memory channel layer and media in ./var/media. Production sets DATABASE_URL,
REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0. Every variable is listed in README.md.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import ConnectionError as _RedisConnectionError

from videohost.env import env_bool, env_choice, env_int, env_int_list, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-change-me"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "channels_app",
    "videos",
    "rooms",
    "uploads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # PostgreSQL or Redis away: 503 with Retry-After instead of 500 (videohost/outages.py).
    "videohost.site_errors.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "videohost.urls"
ASGI_APPLICATION = "videohost.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "videohost.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes={"postgres", "postgresql", "sqlite"})
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL)
    if _db["ENGINE"].endswith("postgresql"):
        _db["OPTIONS"] = {
            # An unreachable server must fail a request in seconds (503, videohost/outages.py),
            # not after the kernel's TCP timeout.
            "connect_timeout": 5,
            # 0: a statement on a server-side binding cursor is prepared the first time it
            # runs on a connection. Only the hot chat and control statements use such cursors
            # (rooms.services._prepared_cursor); Django's own bind on the client and never
            # prepare. DATABASE_PREPARED=0 turns it off (PgBouncer in transaction mode before
            # 1.21, docs/OPERATIONS.md).
            "prepare_threshold": 0 if env_bool("DATABASE_PREPARED", True) else None,
            **_db.get("OPTIONS", {}),
        }
    if _db["ENGINE"].endswith("postgresql") and env_bool("DATABASE_POOL", False):
        # psycopg 3's pool replaces persistent connections; Django requires CONN_MAX_AGE=0.
        # After a database restart the pool must heal within seconds. Every idle connection
        # is then dead: the first request to draw one fails (503), and that failure checks
        # the pool's idle connections at once (videohost.outages), so the next request gets
        # a fresh one. Django's per-checkout health check is off: psycopg sleeps a growing
        # backoff between dead connections, which held recovery up for seconds. A failed
        # reconnection gives up after `reconnect_timeout`, so that the next request tries
        # afresh instead of waiting out a backoff grown to minutes during a long outage. While
        # the database is down a request waits `timeout` for a connection, then answers 503
        # (videohost/tests/test_database_restart.py).
        _db["OPTIONS"] = {
            **_db["OPTIONS"],
            # Up to 8 per process: the database thread and the room chat threads
            # (rooms.consumers.CHAT_THREADS), with room to spare.
            "pool": {"timeout": 2, "reconnect_timeout": 5, "max_size": 8},
        }
        _db["CONN_MAX_AGE"] = 0
    else:
        _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
        _db["CONN_HEALTH_CHECKS"] = True
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "var" / "db.sqlite3",
        # A file, not memory, so a daphne process started by the browser tests sees the data.
        "TEST": {"NAME": BASE_DIR / "var" / "test-db.sqlite3"},
        "OPTIONS": {"timeout": 20},
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, throttles and the channel layer ---------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes={"redis", "rediss", "unix"})
# A dead or hung Redis must fail a request in seconds (503, videohost/outages.py), and the
# first command on a pooled connection that a Redis restart cut is retried once on a fresh one
# rather than failing.
REDIS_CONNECTION_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "retry_on_error": [_RedisConnectionError],
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "videohost"),
            "OPTIONS": REDIS_CONNECTION_OPTIONS,
        }
    }
    # The room events go through Redis pub/sub (RedisPubSubChannelLayer), not the list-based
    # RedisChannelLayer. bench/channel_layer.py, one group_send to a room's group until every
    # member has it, receivers spread over 2 processes, local Redis, this 2-core machine:
    #
    #   receivers  core p50 / p99     pubsub p50 / p99    burst msg/s core → pubsub
    #      10       5.6 / 18.5 ms      0.9 / 1.1 ms          145 → 2449
    #      50       5.4 / 11.1 ms      2.1 / 3.1 ms          166 → 705
    #     200      25.7 / 85.0 ms      7.9 / 62.5 ms          38 → 182
    #
    # (other runs under load: p50 ratio 2.5–7.8×, always in pubsub's favour.) The core layer
    # writes one sorted-set entry per member and pops them one by one, so a send costs O(room);
    # pub/sub publishes once and each process fans out in memory, O(processes). With 50
    # members the core layer managed 29–166 sends/s over four runs, a rate a busy room (typing
    # at 1/s per user, chat, seeks) can reach. Pub/sub's price is at-most-once delivery with no
    # buffering, which rooms tolerate: the state lives in the database, clients re-sync every
    # 5 s, and each socket's periodic tick closes it if it missed its room's end or its kick
    # (rooms/consumers.py). Pub/sub channels ignore Redis database numbers, so the URL's
    # database goes into the prefix: db 1 (tests) must not hear db 0 (a dev server).
    from urllib.parse import parse_qs, urlparse

    _redis = urlparse(REDIS_URL)
    _redis_db = (
        parse_qs(_redis.query).get("db", ["0"])[0]
        if _redis.scheme == "unix"
        else _redis.path.strip("/") or "0"
    )
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, **REDIS_CONNECTION_OPTIONS}],
                "prefix": f"{env_str('CACHE_KEY_PREFIX', 'videohost')}-db{_redis_db}",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Background jobs ---------------------------------------------------------------------------
# The django-tasks backport of Django 6's tasks API with its database backend: the queue lives
# in the main database, so any number of `manage.py db_worker` processes can share it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Media pipeline (videos.processing) -------------------------------------------------------
# Rendition heights of the HLS ladder; a source never gets one above its own height.
VIDEO_RENDITIONS = env_int_list("VIDEO_RENDITIONS", [360, 720, 1080], minimum=144)
VIDEO_X264_PRESET = env_choice(
    "VIDEO_X264_PRESET",
    "veryfast",
    choices={"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"},
)
VIDEO_PROCESSING_TIMEOUT = env_int("VIDEO_PROCESSING_TIMEOUT", 6 * 3600, minimum=10)
# A job with no sign of life for this long counts as stuck (its worker died): the worker's
# maintenance sweep re-queues it, up to VIDEO_PROCESSING_MAX_ATTEMPTS runs, then marks it
# failed; its owner and staff may re-queue it too. A running job shows life every second.
VIDEO_PROCESSING_STALL_SECONDS = env_int("VIDEO_PROCESSING_STALL_SECONDS", 600, minimum=1)
VIDEO_PROCESSING_MAX_ATTEMPTS = env_int("VIDEO_PROCESSING_MAX_ATTEMPTS", 3, minimum=1)
# Seconds between two maintenance sweeps of `manage.py worker` (stuck jobs, abandoned rooms).
WORKER_SWEEP_INTERVAL = env_int("WORKER_SWEEP_INTERVAL", 60, minimum=1)

# --- Watch rooms ------------------------------------------------------------------------------
ROOM_DEFAULT_MAX_PARTICIPANTS = env_int("ROOM_DEFAULT_MAX_PARTICIPANTS", 10, minimum=2)
ROOM_HOST_GRACE_SECONDS = env_int("ROOM_HOST_GRACE_SECONDS", 60, minimum=0)
ROOM_SYNC_INTERVAL = env_int("ROOM_SYNC_INTERVAL", 5, minimum=1)
ROOM_MAX_FRAME_BYTES = env_int("ROOM_MAX_FRAME_BYTES", 64 * 1024, minimum=1024)
ROOM_AUTH_TIMEOUT_SECONDS = env_int("ROOM_AUTH_TIMEOUT_SECONDS", 5, minimum=1)
# On PostgreSQL, a controller's next control is stored on a connection of the daphne process's
# event loop rather than through a thread and the pool (videohost.loop_database); off, every
# control takes Django's way. One more connection per daphne process while on.
ROOM_CONTROLS_IN_LOOP = env_bool("ROOM_CONTROLS_IN_LOOP", True)

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.CaseInsensitiveModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

AUTH_TOKEN_TTL = timedelta(seconds=env_int("AUTH_TOKEN_TTL", 24 * 3600, minimum=60))
REST_KNOX = {
    "SECURE_HASH_ALGORITHM": "hashlib.sha512",
    "AUTH_TOKEN_CHARACTER_LENGTH": 64,  # 64 hex characters: 256 bits of randomness
    "TOKEN_TTL": AUTH_TOKEN_TTL,
    "AUTH_HEADER_PREFIX": "Bearer",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
LOGIN_THROTTLE_ATTEMPTS = env_int("LOGIN_THROTTLE_ATTEMPTS", 5, minimum=1)
LOGIN_THROTTLE_WINDOW = env_int("LOGIN_THROTTLE_WINDOW", 300, minimum=1)

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "videohost.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "videohost.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "videohost.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "videohost.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VideoHost API",
    "DESCRIPTION": "Channels, videos, subscriptions and watch rooms. Errors always have the "
    'shape {"error": {"code", "message", "details"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["videohost.api.schema.strip_optional_slash"],
    # Two choice sets share the field name `status`: name each after its model.
    "ENUM_NAME_OVERRIDES": {
        "VideoStatusEnum": "videos.models.VideoStatus",
        "InvitationStatusEnum": "rooms.models.InvitationStatus",
    },
}

# --- Media ------------------------------------------------------------------------------------
# Two places: public (thumbnails, sprites, avatars, ads) may be served to anyone as-is; private
# (video originals, HLS output) is never exposed by a URL of its own and is only read by the
# access-checked views, or handed out by them as a short-lived signed URL, so a guessed path
# cannot reach a protected file. STORAGE_BACKEND=local keeps them in MEDIA_ROOT/public and
# MEDIA_ROOT/private; s3 in one bucket under public/ and private/ (storages_for).
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "local", choices={"local", "s3"})
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Lifetime of the signed URLs that `MEDIA_DELIVERY=redirect` answers with.
MEDIA_URL_EXPIRY = env_int("MEDIA_URL_EXPIRY", 60, minimum=5)

STORAGE_S3 = None
if STORAGE_BACKEND == "s3":
    _HTTP = {"http", "https"}
    STORAGE_S3 = {
        "bucket_name": env_str("STORAGE_S3_BUCKET").strip(),
        # The processes' way in (MinIO, moto, any S3-compatible server); unset means AWS.
        "endpoint_url": env_url("STORAGE_S3_ENDPOINT_URL", schemes=_HTTP) or None,
        # The browsers' way in, which URLs are made (and signed) for; unset means the same.
        "public_endpoint_url": env_url("STORAGE_S3_PUBLIC_ENDPOINT_URL", schemes=_HTTP) or None,
        # Unset: boto3's own chain (AWS_* variables, instance or pod roles).
        "access_key": env_str("STORAGE_S3_ACCESS_KEY") or None,
        "secret_key": env_str("STORAGE_S3_SECRET_KEY") or None,
        "region_name": env_str("STORAGE_S3_REGION", "us-east-1"),
    }
    if not STORAGE_S3["bucket_name"]:
        raise ImproperlyConfigured("STORAGE_S3_BUCKET must be set when STORAGE_BACKEND=s3")
    if bool(STORAGE_S3["access_key"]) != bool(STORAGE_S3["secret_key"]):
        raise ImproperlyConfigured(
            "STORAGE_S3_ACCESS_KEY and STORAGE_S3_SECRET_KEY must be set together"
        )


def storages_for(media_root: Path, s3: dict | None = None) -> dict:
    """The media storages: folders under `media_root`, or with `s3` (options as in STORAGE_S3)
    one bucket. Its private/ prefix is read by the processes and by holders of a signed URL
    only; its public/ prefix is readable by anyone through the bucket's policy, which the
    deployment sets (docker-compose.yml's `createbuckets`), so thumbnail URLs stay plain and
    cacheable. No per-object ACLs: MinIO ignores them and AWS disables them by default."""
    if s3 is None:
        media = {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(media_root / "private"), "base_url": None},
            },
            "public": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(media_root / "public"), "base_url": MEDIA_URL},
            },
        }
    else:
        from botocore.config import Config

        common = {
            **s3,
            "client_config": Config(
                signature_version="s3v4",
                # MinIO and most S3-compatible servers want the bucket in the path.
                s3={"addressing_style": "path" if s3.get("endpoint_url") else "auto"},
                # A dead store must fail a request (and /readyz) in seconds, not minutes.
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
            ),
            "default_acl": None,
            # Never replace an object silently: a clash gets a new name, which the pipeline
            # treats as the bug it would be (videos.services._store_tree).
            "file_overwrite": False,
        }
        media = {
            "default": {
                "BACKEND": "videohost.storage.MediaS3Storage",
                "OPTIONS": {
                    **common,
                    "location": "private",
                    "querystring_auth": True,
                    "querystring_expire": MEDIA_URL_EXPIRY,
                },
            },
            "public": {
                "BACKEND": "videohost.storage.MediaS3Storage",
                "OPTIONS": {
                    **common,
                    "location": "public",
                    "querystring_auth": False,
                    "object_parameters": {"CacheControl": "public, max-age=3600"},
                },
            },
        }
    return {**media, "staticfiles": {"BACKEND": STATICFILES_BACKEND}}


STATICFILES_BACKEND = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedStaticFilesStorage"
)
STORAGES = storages_for(MEDIA_ROOT, STORAGE_S3)
# Django serves MEDIA_ROOT/public at /media/ (development, single machine); with object
# storage the store serves public files itself.
SERVE_PUBLIC_MEDIA = env_bool("SERVE_PUBLIC_MEDIA", STORAGE_BACKEND == "local")
if SERVE_PUBLIC_MEDIA and STORAGE_BACKEND == "s3":
    raise ImproperlyConfigured(
        "SERVE_PUBLIC_MEDIA serves MEDIA_ROOT/public; with STORAGE_BACKEND=s3 the object store "
        "serves public media: set SERVE_PUBLIC_MEDIA=0"
    )
# How access-checked video bytes leave (videos.delivery): this process, nginx after an
# X-Accel-Redirect, or a redirect to a signed object-storage URL.
MEDIA_DELIVERY = env_choice(
    "MEDIA_DELIVERY",
    "redirect" if STORAGE_BACKEND == "s3" else "django",
    choices={"django", "nginx", "redirect"},
)
if MEDIA_DELIVERY == "nginx" and STORAGE_BACKEND == "s3":
    raise ImproperlyConfigured(
        "MEDIA_DELIVERY=nginx sends files from nginx's disk, but STORAGE_BACKEND=s3 keeps them "
        "in the bucket: use MEDIA_DELIVERY=redirect"
    )
if MEDIA_DELIVERY == "redirect" and STORAGE_BACKEND == "local":
    raise ImproperlyConfigured(
        "MEDIA_DELIVERY=redirect needs signed object-storage URLs: set STORAGE_BACKEND=s3, "
        "or use MEDIA_DELIVERY=django or nginx"
    )
MEDIA_ACCEL_PREFIX = env_str("MEDIA_ACCEL_PREFIX", "/protected-media/")
# How long nginx (deploy/nginx) may reuse Django's yes to a media request for the same URL and
# credentials: also how long a revoked access (a lapsed sponsorship, a hidden video, a logout)
# can still read bytes. 0 asks Django for every request.
MEDIA_CHECK_REUSE_SECONDS = env_int("MEDIA_CHECK_REUSE_SECONDS", 5, minimum=0)

MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 2 * 1024**3, minimum=1)
# Uploads stream to temporary files instead of memory past this size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["videos.uploads.LimitedTemporaryFileUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
MAX_AVATAR_SIZE = env_int("MAX_AVATAR_SIZE", 5 * 1024 * 1024, minimum=1)
MAX_AD_SIZE = env_int("MAX_AD_SIZE", 50 * 1024 * 1024, minimum=1)

# Resumable uploads (tus 1.0, the `uploads` app). Partial files live outside the storages until
# the video is created; on the same filesystem as MEDIA_ROOT the finished file is moved, not
# copied, and every web process must see the same folder (PATCHes may reach any of them).
UPLOAD_TEMP_DIR = Path(env_str("UPLOAD_TEMP_DIR", str(BASE_DIR / "var" / "uploads")))
UPLOAD_EXPIRY_SECONDS = env_int("UPLOAD_EXPIRY_SECONDS", 24 * 3600, minimum=60)
# The upload page sends files above this size through tus, in chunks of UPLOAD_CHUNK_SIZE: a
# dropped connection then costs at most one chunk (nginx's client_max_body_size must exceed it).
# Memory does not depend on it: videohost.server hands request bodies over a chunk at a time.
RESUMABLE_UPLOAD_THRESHOLD = env_int("RESUMABLE_UPLOAD_THRESHOLD", 8 * 1024 * 1024, minimum=0)
UPLOAD_CHUNK_SIZE = env_int("UPLOAD_CHUNK_SIZE", 8 * 1024 * 1024, minimum=64 * 1024)

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# --- Security ---------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
# Off unless asked: both commit every subdomain (and, once preloaded, browsers for months) to
# HTTPS, which only the deployment can promise. `check --deploy` wants them on.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The admin and DRF's browsable API set a few inline style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SITE_NAME = "VideoHost"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice(
            "LOG_LEVEL", "INFO", choices={"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
        ),
    },
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
CSRF_FAILURE_VIEW = "videohost.site_errors.csrf_failure"
