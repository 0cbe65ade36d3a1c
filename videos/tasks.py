"""Background jobs (django-tasks, database backend; `manage.py db_worker` runs them)."""

from django_tasks import task

from videos import services


@task()
def process_video(*, video_id: int, token: str) -> str:
    """Transcode an upload to its HLS ladder; `token` ties the job to one enqueue."""
    return services.video_process(video_id=video_id, token=token)
