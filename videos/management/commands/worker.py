"""The background worker: django-tasks-db's job runner plus the maintenance sweep.

    python manage.py worker            # as `db_worker`, with the same options

Jobs run as under `db_worker`. Beside them, a thread runs videohost.maintenance every
WORKER_SWEEP_INTERVAL seconds: processing runs whose worker died are re-queued (then failed
after VIDEO_PROCESSING_MAX_ATTEMPTS), task rows left RUNNING by a dead worker are marked
failed, abandoned rooms closed and abandoned uploads deleted. The sweep runs in a thread so
that a transcode taking an hour does not hold it up; any number of workers may run it.

A database outage does not end the worker either: django-tasks-db's loop lets any database
error but a locked SQLite file escape and the process exit, so a PostgreSQL restart would
leave every worker dead. Here the loop waits and carries on once the database is back.
"""

import logging
import os
import random
import threading
import time

from django.conf import settings
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from videohost.maintenance import Sweeper
from videohost.outages import DATABASE, note_outage, outage_of

OUTAGE_PAUSE_SECONDS = 5

logger = logging.getLogger("videohost.maintenance")


def sweep_forever(stop: threading.Event, interval: float) -> None:
    sweeper = Sweeper()
    # Workers started together (a deployment, `--scale worker=4`) need not sweep together.
    delay = random.uniform(0, min(5.0, interval))  # noqa: S311 - jitter, not a secret
    while not stop.wait(delay):
        try:
            sweeper.sweep()
        except Exception:
            logger.exception("Maintenance sweep failed")
        finally:
            connections.close_all()  # this thread's own; the next sweep opens fresh ones
        delay = interval


class OutageTolerantWorker(db_worker.Worker):
    """django-tasks-db's Worker, waiting out database outages instead of exiting on them. A
    job cut off by the outage keeps its RUNNING row; the sweep deals with it (its video's
    run is re-queued once silent for VIDEO_PROCESSING_STALL_SECONDS)."""

    def run(self) -> None:
        while True:
            try:
                super().run()
                return
            except Exception as exc:
                if outage_of(exc) != DATABASE or not self.running:
                    raise
                note_outage(DATABASE, exc, f"the worker (again in {OUTAGE_PAUSE_SECONDS} s)")
                self.running_task = False
                connections.close_all()
                time.sleep(OUTAGE_PAUSE_SECONDS)


class Command(DatabaseWorkerCommand):
    help = (
        "Run background jobs (as db_worker) and, beside them, the maintenance sweep: "
        "re-queue or fail processing runs whose worker died, close abandoned rooms, "
        "delete abandoned uploads."
    )

    def handle(self, *args, **options) -> None:
        # With --reload the parent process only watches files; its child does the work.
        if not options.get("reload") or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            stop = threading.Event()
            threading.Thread(
                target=sweep_forever,
                args=(stop, settings.WORKER_SWEEP_INTERVAL),
                name="maintenance-sweep",
                daemon=True,
            ).start()
        # db_worker's handle() builds its Worker by this module-level name.
        db_worker.Worker = OutageTolerantWorker
        super().handle(*args, **options)
