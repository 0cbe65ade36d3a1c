"""Background jobs of resumable uploads (run by `manage.py db_worker`)."""

from django_tasks import task

from uploads import services


@task()
def expire_uploads() -> int:
    """Delete abandoned partial uploads; see services.uploads_expire."""
    return services.uploads_expire().uploads
