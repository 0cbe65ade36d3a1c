"""Upload → processing → HLS playback, in a real Chromium against a real daphne process.

An author uploads a generated clip through the upload page and watches "My channel" follow the
job without reloading: the progress the worker reports, then "Ready" once the worker (run here,
in the test process, over the database the server shares) has made the HLS ladder. The video
page then plays it through hls.js, switches to a chosen rendition and keeps playing, and the
scrub bar previews frames from the sprite. A pre-roll ad still plays first, with hls.js
attached underneath. Screenshots: docs/screenshots/studio-processing.png
and docs/screenshots/video-hls.png.
"""

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from videohost.testing import PASSWORD, ChannelFactory, VideoFactory, console_problems
from videos.media_tools import generate_clip
from videos.models import Ad, Video, VideoStatus
from videos.services import video_process
from videos.tests.helpers import png_bytes

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
TITLE = "Harbour at dawn, eight seconds"
PLAYER = "document.getElementById('player')"


@pytest.fixture
def clip(tmp_path):
    return generate_clip(tmp_path / "harbour.mp4", seconds=8, size="640x360")


@pytest.fixture
def author(transactional_db):
    channel = ChannelFactory(owner__username="nina", owner__display_name="Nina", title="Harbour")
    # Company for the studio table: a failed upload waiting for a re-queue.
    VideoFactory(
        channel=channel,
        title="Night ferry (corrupt file)",
        status=VideoStatus.FAILED,
        failure_reason="The file ends before its header says it does (truncated upload?).",
    )
    return channel.owner


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")


def test_uploaded_video_is_followed_through_processing_then_plays_over_hls_in_any_quality(
    live_server_url, chromium, screenshot, clip, author, settings
):
    # Two renditions from a 360p source (never upscaled), so there is a quality to choose.
    settings.VIDEO_RENDITIONS = [240, 360]
    url = live_server_url
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = console_problems(page)

    page.goto(f"{url}/accounts/login")
    page.fill("#id_username", author.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{url}/upload")
    page.set_input_files("#id_file", str(clip))
    page.fill("#id_title", TITLE)
    page.select_option("#id_access_level", "public")
    page.click("main button[type=submit]")
    page.wait_for_selector("#upload-done:not([hidden])", timeout=60_000)
    video = Video.objects.get(title=TITLE)
    assert video.status == VideoStatus.PROCESSING

    page.goto(f"{url}/studio")
    row = page.locator(f'tr[data-video-id="{video.pk}"]')
    assert row.get_attribute("data-status") == "processing"
    assert row.locator("[data-status-badge]").inner_text() == "Processing"
    assert row.locator("progress").is_visible()
    assert row.locator("[data-requeue]").is_hidden()
    failed = page.locator("tr[data-status=failed]")
    assert failed.locator("[data-requeue]").is_visible()
    assert "truncated upload" in failed.locator("[data-failure]").inner_text()
    download = row.locator("a", has_text="Download original")
    assert download.get_attribute("href") == f"/api/videos/{video.pk}/stream?download=1"
    # Anything the page learns from here on comes from polling, not from a reload.
    page.evaluate("() => { window.stillTheSamePage = true; }")

    # What a worker reports halfway through reaches the page on its own.
    Video.objects.filter(pk=video.pk).update(
        processing_progress=46, processing_heartbeat_at=timezone.now()
    )
    page.wait_for_function(
        f"() => document.querySelector('tr[data-video-id=\"{video.pk}\"] progress').value === 46"
    )
    assert row.locator("[data-percent]").inner_text() == "46%"
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "studio-processing")

    # Meanwhile the owner can already watch the original on the video page.
    owner_preview = context.new_page()
    problems += console_problems(owner_preview)
    owner_preview.goto(f"{url}/videos/{video.pk}")
    owner_preview.wait_for_selector("#player[data-engine='stream']")
    assert "Other qualities are being prepared" in owner_preview.inner_text("#processing-note")

    run_worker()
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.failure_reason
    assert [r["name"] for r in video.renditions] == ["240p", "360p"]

    page.wait_for_function(
        f"() => document.querySelector('tr[data-video-id=\"{video.pk}\"]').dataset.status"
        " === 'ready'"
    )
    assert page.evaluate("() => window.stillTheSamePage") is True
    owner_preview.wait_for_selector("#processing-note[data-state='ready']")
    assert owner_preview.locator("#processing-note-reload").is_visible()
    owner_preview.close()
    assert row.locator("[data-status-badge]").inner_text() == "Ready"
    assert row.locator("progress").is_hidden()
    assert row.locator("[data-requeue]").is_hidden()
    row.locator("[data-watch-link]").click()

    page.wait_for_url(f"{url}/videos/{video.pk}")
    page.wait_for_selector("#player[data-engine='hls']")
    # hls.js feeds the element through Media Source Extensions, not the original's URL.
    assert page.evaluate(f"() => {PLAYER}.src").startswith("blob:")
    quality = page.locator("#player-quality")
    quality.wait_for(state="visible")
    options = quality.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert options == ["auto", "360p", "240p"]

    page.evaluate(f"() => {{ const v = {PLAYER}; v.muted = true; v.play(); }}")
    page.wait_for_function(f"() => {PLAYER}.currentTime > 1", timeout=20_000)

    quality.select_option("240p")
    page.wait_for_function(f"() => {PLAYER}.dataset.rendition === '240p'", timeout=20_000)
    switched_at = page.evaluate(f"() => {PLAYER}.currentTime")
    page.wait_for_function(
        f"(t) => {PLAYER}.currentTime > t + 1 && !{PLAYER}.paused",
        arg=switched_at,
        timeout=20_000,
    )
    assert quality.input_value() == "240p"
    page.evaluate(f"() => {PLAYER}.pause()")

    # Hovering the scrub bar shows the sprite's frame for that moment.
    scrub = page.locator("#scrub")
    box = scrub.bounding_box()
    scrub.hover(position={"x": box["width"] * 0.6, "y": box["height"] / 2})
    preview = page.locator(".scrub-preview")
    preview.wait_for(state="visible")
    frame = page.locator(".scrub-frame")
    assert video.sprite_url in frame.evaluate("el => el.style.backgroundImage")
    info = video.sprite_info
    tile = int(0.6 * video.duration / info["interval"])
    expected = (
        f"{-(tile % info['columns']) * info['tile_width']}px "
        f"{-(tile // info['columns']) * info['tile_height']}px"
    )
    assert frame.evaluate("el => el.style.backgroundPosition") == expected.replace("-0px", "0px")
    assert page.locator(".scrub-time").inner_text() == f"0:0{int(0.6 * video.duration)}"
    screenshot(page, "video-hls")

    assert problems == []
    context.close()


def test_preroll_ad_plays_first_while_hls_loads_underneath_then_the_video_plays(
    live_server_url, chromium, transactional_db
):
    ad = Ad(title="Rope & Anchor", target_url="https://ads.example.com/rope")
    ad.image.save("rope.png", ContentFile(png_bytes((640, 360))), save=False)
    ad.save()
    video = VideoFactory(has_ads=True, status=VideoStatus.PROCESSING, processing_token="t" * 32)
    assert video_process(video_id=video.pk, token=video.processing_token) == "ready"

    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = console_problems(page)
    page.goto(f"{live_server_url}/videos/{video.pk}")

    page.wait_for_selector("#player[data-engine='hls']")
    assert page.locator("#preroll").is_visible()
    assert page.evaluate("() => document.getElementById('player-tools').inert") is True
    # The main video cannot start under the ad, HLS or not.
    page.evaluate(f"() => {{ const v = {PLAYER}; v.muted = true; v.play().catch(() => {{}}); }}")
    page.wait_for_timeout(500)
    assert page.evaluate(f"() => {PLAYER}.paused") is True

    page.wait_for_function("() => !document.getElementById('preroll-skip').disabled", timeout=8_000)
    page.click("#preroll-skip")
    assert page.locator("#preroll").is_hidden()
    page.wait_for_function(f"() => {PLAYER}.currentTime > 0.5", timeout=15_000)
    assert page.evaluate(f"() => {PLAYER}.src").startswith("blob:")
    assert page.evaluate("() => document.getElementById('player-tools').inert") is False
    assert problems == []
    context.close()
