"""Delete resumable uploads abandoned for UPLOAD_EXPIRY_SECONDS, with their partial files.

Run it from cron, e.g. hourly: `0 * * * * manage.py cleanup_uploads`.
"""

from django.core.management.base import BaseCommand

from uploads.services import uploads_expire


class Command(BaseCommand):
    help = "Delete uploads not touched for UPLOAD_EXPIRY_SECONDS, and stray partial files."

    def handle(self, *args, **options) -> None:
        cleanup = uploads_expire()
        self.stdout.write(
            f"Removed {cleanup.uploads} expired upload(s) and {cleanup.orphan_files} stray file(s)."
        )
