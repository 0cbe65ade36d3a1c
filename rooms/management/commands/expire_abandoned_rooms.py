"""Close rooms whose host has been gone longer than ROOM_HOST_GRACE_SECONDS.

Each daphne process closes such rooms itself with a timer, and joins close them lazily; this
command covers the rest (every process restarted while a host was away), e.g. from cron:
`* * * * * manage.py expire_abandoned_rooms`.
"""

from django.core.management.base import BaseCommand

from rooms.services import host_grace_expire_all


class Command(BaseCommand):
    help = "Close rooms whose host did not come back within ROOM_HOST_GRACE_SECONDS."

    def handle(self, *args, **options) -> None:
        closed = host_grace_expire_all()
        self.stdout.write(f"Closed {closed} abandoned room(s).")
