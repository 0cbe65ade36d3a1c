"""A backing service that cannot be reached is an outage, not a bug: answer 503, not 500.

When PostgreSQL, Redis or object storage goes away (restart, failover, network), the request
was fine and a retry in a few seconds will likely succeed. Such failures answer 503 with
`Retry-After` — the API's envelope under /api/ (videohost.api.errors), a plain page elsewhere
(videohost.site_errors) — and room sockets stay open or are asked to come back later
(rooms.consumers, rooms.layer_health). The processes keep running and pick the service up
again when it is back: Django opens a new database connection per request (or takes a
checked one from the pool), redis-py reconnects on the next command. docs/OPERATIONS.md
tells what users see.
"""

import logging
import math
import time

import botocore.exceptions
import redis.exceptions
from django.db import connections
from django.db import utils as db_errors

logger = logging.getLogger("videohost.outages")

# Seconds a client is told to wait: about how long a restart or a failover takes.
RETRY_AFTER_SECONDS = 5

DATABASE = "database"
REDIS = "redis"
STORAGE = "storage"

# OperationalError covers a refused or dropped connection, a pool that could not hand one out
# in time (psycopg_pool.PoolTimeout, wrapped by Django) and SQLite's "database is locked";
# InterfaceError a connection already closed under Django's feet.
_DATABASE_ERRORS = (db_errors.OperationalError, db_errors.InterfaceError)
# redis-py's and channels_redis's: refused, reset, timed out, still loading its data set.
_REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# boto3's, for object storage (STORAGE_BACKEND=s3) that cannot be reached or does not answer.
_STORAGE_ERRORS = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)

MESSAGES = {
    DATABASE: "The database is unavailable. Try again in a few seconds.",
    REDIS: "A backing service (Redis) is unavailable. Try again in a few seconds.",
    STORAGE: "Media storage is unavailable. Try again in a few seconds.",
}


def outage_of(exc: BaseException | None) -> str | None:
    """`DATABASE`, `REDIS` or `STORAGE` when `exc` says that service cannot be reached,
    else None."""
    if isinstance(exc, _DATABASE_ERRORS):
        return DATABASE
    if isinstance(exc, _REDIS_ERRORS):
        return REDIS
    if isinstance(exc, _STORAGE_ERRORS):
        return STORAGE
    return None


_pool_checked_at = -math.inf


def note_outage(dependency: str, exc: BaseException, where: str) -> None:
    """Log it, and after a database failure clear the connection pool of dead connections."""
    # One line, no traceback: during an outage every request fails the same way, and the
    # first line of the exception says which service and why.
    logger.warning("%s unavailable in %s: %s: %s", dependency, where, type(exc).__name__, exc)
    if dependency == DATABASE:
        check_idle_pool_connections()


def check_idle_pool_connections() -> None:
    """After a database restart every idle connection of psycopg's pool is dead, and the pool
    finds that out one request at a time, sleeping a growing backoff between each: checking
    them all at the first failure brings the pool back within a request or two. At most once
    a second, and only idle connections (fast: each check is one empty query)."""
    global _pool_checked_at
    if time.monotonic() - _pool_checked_at < 1:
        return
    _pool_checked_at = time.monotonic()
    for alias in connections:
        connection = connections[alias]  # this thread's wrapper; the pool is shared
        if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("pool"):
            continue
        try:
            connection.pool.check()
        except Exception:  # noqa: BLE001, S110 - a best-effort clean-up during an outage
            pass
