"""A PostgreSQL connection of the event loop's own, for the one statement worth not leaving the
loop for: a room controller's next control (`rooms.services.playback_control_remembered`).

Every other query goes through Django on a thread (`database_sync_to_async`). For a host's
repeated seeks that way cost more than the statement: the hop to the database thread and back
and a checkout from psycopg's pool and its return, about 0.5 ms of a 3.5 ms seek reaching
every guest (docs/PERFORMANCE.md, "fourth session").

A shortcut, never the only way. `execute` answers None — and the caller takes Django's way,
which reports an outage as it always has — on SQLite, with ROOM_CONTROLS_IN_LOOP off, before
the connection is up (it is opened in the background, so no control waits for it), for a
second after a failed connect, and after any failure (which closes the connection). A
statement run here must therefore be one that may have run, late, before the caller runs its
fallback: the control store is a compare-and-set on the room's `seq`, so a late or repeated
one changes nothing.

The connection is made from Django's own settings for the database (same server, user,
options, `connect_timeout`, prepared statements) in autocommit, and lives as long as its loop:
one per daphne process.
"""

import asyncio
import logging
import time
import weakref

import psycopg
from django.conf import settings
from django.db import connection as django_connection

logger = logging.getLogger(__name__)

# A statement that has not answered by then is given up on (the connection closed, the caller
# told None): Django's way then answers, or reports the outage.
STATEMENT_SECONDS = 2.0
# After a failed connect, this long without trying again: during an outage every control
# takes Django's way at once rather than each starting a connect.
RECONNECT_PAUSE_SECONDS = 1.0


class LoopConnection:
    """One event loop's connection; see the module's docstring."""

    def __init__(self) -> None:
        self._connection: psycopg.AsyncConnection | None = None
        self._connecting: asyncio.Task | None = None
        self._failed_at = -float("inf")
        self._generation = 0  # grows at each close: a connect begun before it is dropped

    async def execute(self, sql: str, params: dict) -> int | None:
        """The statement's row count, or None when it did not run here (or may not have)."""
        connection = self._ready()
        if connection is None:
            return None
        try:
            async with asyncio.timeout(STATEMENT_SECONDS):
                cursor = await connection.execute(sql, params)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            logger.warning("The event loop's database connection failed: %s", exc)
            self.close()
            return None
        return cursor.rowcount

    def warm(self) -> None:
        """Start opening the connection if it is not open (nothing is awaited)."""
        self._ready()

    async def ready(self) -> bool:
        """Open the connection now if it is not (for tests and warm-up); whether it is up."""
        if self._ready() is None and self._connecting is not None:
            await asyncio.shield(self._connecting)
        return self._ready() is not None

    @property
    def backend_pid(self) -> int | None:
        """The server process of the connection, while it is up."""
        connection = self._connection
        return None if connection is None or connection.closed else connection.info.backend_pid

    def close(self) -> None:
        """Close it at once, and any connect under way; the next `execute` opens another."""
        self._generation += 1
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        _finish(self._connection)
        self._connection = None

    def _ready(self) -> psycopg.AsyncConnection | None:
        connection = self._connection
        if connection is not None and not connection.closed:
            return connection
        self._connection = None
        idle = self._connecting is None or self._connecting.done()
        if idle and time.monotonic() - self._failed_at >= RECONNECT_PAUSE_SECONDS:
            self._connecting = asyncio.ensure_future(self._connect())
        return None

    async def _connect(self) -> None:
        generation = self._generation
        try:
            params = django_connection.get_connection_params()
            # Django's cursor class and type adapters are for its own (sync) cursors; the
            # statements run here only write values psycopg adapts by itself.
            params.pop("cursor_factory", None)
            params.pop("context", None)
            connection = await psycopg.AsyncConnection.connect(autocommit=True, **params)
        except Exception as exc:  # noqa: BLE001 - whatever it is, Django's way still answers
            self._failed_at = time.monotonic()
            logger.warning(
                "The event loop's database connection could not open: %s: %s",
                type(exc).__name__,
                exc,
            )
            return
        if generation != self._generation:
            _finish(connection)  # closed while it was opening
            return
        self._connection = connection


def _finish(connection: psycopg.AsyncConnection | None) -> None:
    if connection is not None and not connection.closed:
        # No round trip and no await: libpq closes the socket (the server sees the client go),
        # and psycopg then counts the connection closed.
        connection.pgconn.finish()


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopConnection] = (
    weakref.WeakKeyDictionary()
)


def loop_connection() -> LoopConnection | None:
    """The running loop's connection; None where there is none to have (SQLite, turned off)."""
    if not settings.ROOM_CONTROLS_IN_LOOP or django_connection.vendor != "postgresql":
        return None
    loop = asyncio.get_running_loop()
    connection = _by_loop.get(loop)
    if connection is None:
        connection = _by_loop[loop] = LoopConnection()
    return connection


def close_all() -> None:
    """Close every loop's connection (tests: each has a loop of its own, and the test database
    cannot be dropped while a connection to it is open)."""
    for connection in list(_by_loop.values()):
        connection.close()
    _by_loop.clear()
