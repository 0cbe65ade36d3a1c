"""'My channel' follows each own video through processing: progress while it runs, the reason
and a re-queue button when it failed or got stuck, and a download link for the original.

The page renders the first state itself (static/js/studio.js only carries it forward), so these
are checked on the HTML; the polling in a real browser is test_browser_hls_playback.py.
"""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from videohost.testing import VideoFactory
from videos.models import VideoStatus

pytestmark = pytest.mark.django_db


class Rows(HTMLParser):
    """The studio table's rows: video id → {"status": ..., "parts": {data-name: attrs}, ...}."""

    def __init__(self, page: str):
        super().__init__()
        self.rows: dict[int, dict] = {}
        self.current: dict | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-video-id" in attrs:
            self.current = {"status": attrs["data-status"], "parts": {}, "links": []}
            self.rows[int(attrs["data-video-id"])] = self.current
        elif self.current is not None:
            for name in attrs:
                if name.startswith("data-"):
                    self.current["parts"][name[5:]] = {"tag": tag, **attrs}
            if tag == "a":
                self.current["links"].append(attrs["href"])
            if tag == "progress":
                self.current["parts"]["progress-bar"] = attrs

    def handle_endtag(self, tag):
        if tag == "tr":
            self.current = None


def shown(part: dict) -> bool:
    return "hidden" not in part


def studio_rows(client, user) -> tuple[str, dict[int, dict]]:
    client.force_login(user)
    response = client.get(reverse("studio"))
    assert response.status_code == 200
    page = response.content.decode()
    return page, Rows(page).rows


def test_a_running_job_shows_its_progress_and_no_requeue(client, author, channel):
    video = VideoFactory(
        channel=channel,
        status=VideoStatus.PROCESSING,
        processing_progress=37,
        processing_requested_at=timezone.now(),
        processing_heartbeat_at=timezone.now(),
    )

    page, rows = studio_rows(client, author)

    row = rows[video.pk]
    assert row["status"] == "processing"
    assert row["parts"]["status-badge"]["class"] == "badge badge-processing"
    assert shown(row["parts"]["progress"])
    assert row["parts"]["progress-bar"]["value"] == "37"
    assert row["parts"]["progress-bar"]["max"] == "100"
    assert '<span class="processing-percent" data-percent>37%</span>' in page
    assert not shown(row["parts"]["requeue"])
    assert not shown(row["parts"]["stalled"])
    assert not shown(row["parts"]["failure"])
    assert 'src="/static/js/studio.js"' in page


def test_a_failed_job_shows_its_reason_and_a_requeue_button(client, author, channel):
    video = VideoFactory(
        channel=channel, status=VideoStatus.FAILED, failure_reason="No video stream found"
    )

    page, rows = studio_rows(client, author)

    row = rows[video.pk]
    assert row["parts"]["status-badge"]["class"] == "badge badge-failed"
    assert shown(row["parts"]["failure"])
    assert "No video stream found" in page
    assert shown(row["parts"]["requeue"])
    assert row["parts"]["requeue"]["tag"] == "button"
    assert not shown(row["parts"]["progress"])


def test_a_stuck_job_says_so_and_may_be_requeued(client, author, channel, settings):
    settings.VIDEO_PROCESSING_STALL_SECONDS = 600
    long_ago = timezone.now() - timedelta(hours=1)
    video = VideoFactory(
        channel=channel,
        status=VideoStatus.PROCESSING,
        processing_progress=12,
        processing_requested_at=long_ago,
        processing_heartbeat_at=long_ago,
    )

    _, rows = studio_rows(client, author)

    row = rows[video.pk]
    assert shown(row["parts"]["stalled"])
    assert shown(row["parts"]["requeue"])
    assert shown(row["parts"]["progress"])


def test_a_ready_video_shows_neither_progress_nor_requeue(client, author, channel):
    video = VideoFactory(channel=channel)

    _, rows = studio_rows(client, author)

    row = rows[video.pk]
    assert row["parts"]["status-badge"]["class"] == "badge badge-ready"
    for part in ("progress", "stalled", "failure", "requeue", "watch-link", "row-error"):
        assert not shown(row["parts"][part]), part


@pytest.mark.parametrize("status", [VideoStatus.READY, VideoStatus.PROCESSING, VideoStatus.FAILED])
def test_every_own_video_with_an_original_offers_it_for_download(client, author, channel, status):
    video = VideoFactory(channel=channel, status=status)

    _, rows = studio_rows(client, author)

    assert f"/api/videos/{video.pk}/stream?download=1" in rows[video.pk]["links"]


def test_the_download_link_gives_the_owner_the_original_as_an_attachment(client, author, channel):
    video = VideoFactory(channel=channel, status=VideoStatus.PROCESSING)
    client.force_login(author)

    response = client.get(f"/api/videos/{video.pk}/stream?download=1")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_video_without_an_original_has_no_download_link(client, author, channel):
    video = VideoFactory(channel=channel, with_file=False)

    _, rows = studio_rows(client, author)

    assert not any("download=1" in link for link in rows[video.pk]["links"])


def test_the_studio_shows_nobody_else_s_processing_jobs(client, author, stranger):
    theirs = VideoFactory(channel=stranger.channel, status=VideoStatus.FAILED)

    page, rows = studio_rows(client, author)

    assert theirs.pk not in rows
    assert f"/api/videos/{theirs.pk}/" not in page


def test_the_studio_costs_the_same_queries_whatever_the_number_of_videos(
    client, author, channel, django_assert_num_queries
):
    client.force_login(author)
    VideoFactory(channel=channel, status=VideoStatus.FAILED, with_file=False)
    client.get(reverse("studio"))  # warm the session and the content types
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("studio"))
    for status in (VideoStatus.READY, VideoStatus.PROCESSING, VideoStatus.FAILED):
        VideoFactory(channel=channel, status=status, with_file=False)

    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("studio"))
