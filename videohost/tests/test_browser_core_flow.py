"""End to end in a real Chromium against a real daphne process.

Sign up, create a channel, upload a generated clip with a visible progress bar, find it on the
home page and play it; then meet a sponsor-only video as a non-sponsor. Screenshots of each
step land in docs/screenshots/ for review.
"""

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from videohost.testing import PASSWORD as TEST_PASSWORD
from videohost.testing import ChannelFactory, VideoFactory, console_problems, sample_clip_bytes
from videos.media_tools import extract_thumbnail, generate_clip
from videos.models import AccessLevel, Ad

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
THROTTLING_OFF = {
    "offline": False,
    "latency": 0,
    "downloadThroughput": -1,
    "uploadThroughput": -1,
}
MOBILE = {"width": 390, "height": 844}
USERNAME = "carol"
PASSWORD = "plum-velvet-orbit-77"
CHANNEL = "Carol's Kitchen"
TITLE = "Sourdough in four seconds"


@pytest.fixture
def clip(tmp_path):
    return generate_clip(tmp_path / "sourdough.mp4", seconds=4, size="640x360")


def with_thumbnail(video):
    """Give a factory video a real thumbnail, as an upload would have."""
    path = video.file.path
    video.thumbnail.save(
        f"videos/{video.media_key}/thumbnail.jpg",
        ContentFile(extract_thumbnail(path, duration=video.duration)),
    )
    return video


@pytest.fixture
def neighbours(transactional_db):
    """Another author's videos, so the home grid has company, locks included."""
    sample_clip_bytes()
    dave = ChannelFactory(owner__username="dave", title="Dave's Darkroom").owner
    videos = [
        VideoFactory(channel=dave.channel, title=title, access_level=level, view_count=views)
        for title, level, views in [
            ("Developing film at home", AccessLevel.PUBLIC, 1520),
            ("Members-only print critique", AccessLevel.SUBSCRIBER, 87),
            ("Sponsors' secret recipe", AccessLevel.SPONSOR, 12),
        ]
    ]
    for video in videos[:2]:
        with_thumbnail(video)
    return videos


def test_sign_up_create_channel_upload_find_and_play_a_video(
    live_server_url, chromium, screenshot, clip, neighbours
):
    url = live_server_url
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = console_problems(page)

    page.goto(f"{url}/accounts/register")
    page.fill("#id_username", USERNAME)
    page.fill("#id_email", "carol@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".topbar .who-name").inner_text().strip().lower() == USERNAME

    page.goto(f"{url}/studio")
    page.fill("#id_title", CHANNEL)
    page.fill("#id_description", "Bread, mostly.")
    page.click("main button[type=submit]:has-text('Create channel')")
    page.wait_for_selector("text=Your videos")
    assert page.locator("h1").inner_text() == CHANNEL

    page.goto(f"{url}/upload")
    page.set_input_files("#id_file", str(clip))
    page.fill("#id_title", TITLE)
    page.fill("#id_description", "Flour, water, salt.\nAnd patience.")
    page.select_option("#id_access_level", "public")
    # A slow uplink (DevTools throttling), so the bar has time to move, and every value it
    # shows recorded: the upload must be seen in progress, not only finished.
    devtools = context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": -1,
            "uploadThroughput": clip.stat().st_size / 3,  # bytes/s: about three seconds
        },
    )
    page.evaluate(
        """() => {
            const bar = document.querySelector('#upload-progress');
            window.progressSeen = [];
            new MutationObserver(() => window.progressSeen.push(Number(bar.value)))
                .observe(bar, {attributes: true});
            setInterval(() => window.progressSeen.push(Number(bar.value)), 50);
        }"""
    )
    page.click("main button[type=submit]")
    done = page.wait_for_selector("#upload-done:not([hidden])", timeout=60_000)
    devtools.send("Network.emulateNetworkConditions", THROTTLING_OFF)
    seen = page.evaluate("() => window.progressSeen")
    assert any(0 < value < 100 for value in seen), seen
    assert seen == sorted(seen), "the bar never goes back"
    assert page.eval_on_selector("#upload-progress", "el => el.value") == 100
    assert page.inner_text("#upload-percent") == "100%"
    assert TITLE in done.inner_text()
    video_href = page.get_attribute("#upload-done a[href^='/videos/']", "href")
    # The done link took focus and scrolled; a full-page shot would paint the sticky bar mid-page.
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "upload")

    page.goto(f"{url}/studio")
    assert page.locator(".video-table", has_text=TITLE).is_visible()
    screenshot(page, "studio")

    # The background worker makes its HLS ladder; then the video is listed.
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    page.goto(f"{url}/")
    card = page.locator("article.card", has_text=TITLE)
    card.wait_for()
    assert "Public" in card.inner_text()
    assert "0:04" in card.inner_text()
    screenshot(page, "home")

    card.locator(".card-title a").click()
    page.wait_for_url(f"{url}{video_href}")
    assert page.locator("h1.watch-title").inner_text() == TITLE
    # Once the page has picked its engine (hls.js here): a play() issued while it swaps the
    # source is carried over by player.js, but the interrupted call's own promise rejects.
    page.wait_for_selector("video#player[data-engine]")
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play(); }")
    page.wait_for_function(
        "() => document.querySelector('video').currentTime > 0.5", timeout=15_000
    )
    # Seek through a Range request, then look at the page on a frame that is not black.
    page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = 2.5; }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video'); return v.currentTime >= 2.5; }"
    )
    page.evaluate("() => document.querySelector('video').pause()")
    screenshot(page, "video")

    # Part two: a sponsor-only video of another channel, seen by Carol, who sponsors nothing.
    locked = neighbours[2]
    page.goto(f"{url}/videos/{locked.pk}")
    message = page.locator("#access-message")
    assert message.is_visible()
    assert "This video is for sponsors of Dave's Darkroom" in message.inner_text()
    assert page.locator("video").count() == 0
    assert "/stream" not in page.content()
    assert page.locator("#access-message button", has_text="Sponsor").is_visible()
    screenshot(page, "access-denied")

    # Sponsoring from the message goes through POST /api/subscriptions and reloads the page,
    # which now carries the player.
    page.locator("#access-message button", has_text="Sponsor").click()
    page.wait_for_selector("video#player")
    assert page.locator("#access-message").count() == 0
    assert page.locator(".badge-sponsor", has_text="Sponsor").first.is_visible()

    assert problems == []
    context.close()

    mobile = chromium.new_context(viewport=MOBILE, is_mobile=True, device_scale_factor=2)
    phone = mobile.new_page()
    phone.goto(f"{url}/")
    phone.locator("article.card", has_text=TITLE).wait_for()
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the home page scrolls sideways on a phone"
    screenshot(phone, "home-mobile")
    mobile.close()


def test_preroll_ad_unlocks_skip_after_five_seconds_then_the_video_plays(
    live_server_url, chromium, screenshot, tmp_path, transactional_db
):
    creative = generate_clip(tmp_path / "ad.mp4", seconds=12, size="640x360", pattern="smptebars")
    ad = Ad(title="Flour & Sons", target_url="https://ads.example.com/flour")
    ad.video.save("ad.mp4", ContentFile(creative.read_bytes()), save=False)
    ad.save()
    video = with_thumbnail(VideoFactory(title="Crumb shots", has_ads=True))

    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = console_problems(page)
    page.goto(f"{live_server_url}/videos/{video.pk}")

    skip = page.locator("#preroll-skip")
    assert skip.is_disabled()
    assert skip.inner_text().startswith("Skip in")
    page.wait_for_function("() => document.getElementById('preroll-media').currentTime > 0.5")
    link = page.locator("#preroll a", has_text="Visit advertiser")
    assert link.get_attribute("rel") == "noopener sponsored"
    assert link.get_attribute("target") == "_blank"
    screenshot(page, "preroll")

    page.wait_for_function("() => !document.getElementById('preroll-skip').disabled", timeout=8_000)
    assert skip.inner_text().startswith("Skip ad")
    skip.click()
    assert page.locator("#preroll").is_hidden()
    page.wait_for_function(
        "() => document.getElementById('player').currentTime > 0.5", timeout=15_000
    )
    assert problems == []
    context.close()


def test_upload_page_shows_the_servers_refusal_of_a_file_that_is_not_a_video(
    live_server_url, chromium, tmp_path, transactional_db
):
    author = ChannelFactory(owner__username="erin").owner
    fake = tmp_path / "holiday.mp4"
    fake.write_bytes(b"this is plain text wearing a video extension\n" * 200)

    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server_url}/accounts/login")
    page.fill("#id_username", author.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server_url}/upload")
    page.click("main button[type=submit]")
    assert "Choose a video file" in page.inner_text("#upload-form")

    page.set_input_files("#id_file", str(fake))
    assert page.input_value("#id_title") == "holiday"
    page.click("main button[type=submit]")
    error = page.wait_for_selector("#upload-error:not([hidden])")
    # The envelope's own message (415, the content was probed), not a generic failure.
    assert error.inner_text().strip()
    assert "Something went wrong" not in error.inner_text()
    assert page.locator("#upload-done").is_hidden()
    assert page.locator("#id_title").is_enabled()
    context.close()
