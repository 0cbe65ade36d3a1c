"""The upload page in a real Chromium against a real daphne process: a file above the resumable
threshold goes through tus in chunks; one PATCH in the middle dies on the network, the page
retries, resumes from the server's offset and ends with the video created from the same bytes.
Screenshot: docs/screenshots/upload-resumable.png."""

import pytest

from uploads.models import Upload
from videohost.testing import PASSWORD, ChannelFactory, console_problems
from videos.media_tools import generate_clip
from videos.models import Video

pytestmark = pytest.mark.browser

CHUNK = 64 * 1024
TITLE = "Harbour at dawn, resumed"


@pytest.fixture
def resumable_server(settings, request) -> str:
    """A live server whose page sends anything above one chunk through tus, in small chunks.

    The settings change first: the server is a forked process that keeps the settings it was
    started with, so they cannot change under it afterwards.
    """
    settings.RESUMABLE_UPLOAD_THRESHOLD = CHUNK
    settings.UPLOAD_CHUNK_SIZE = CHUNK
    return request.getfixturevalue("live_server_url")


@pytest.fixture
def author(transactional_db):
    return ChannelFactory(owner__username="uma", title="Uma's Harbour").owner


@pytest.fixture
def clip(tmp_path):
    path = generate_clip(tmp_path / "harbour.mp4", seconds=4, size="640x360")
    assert path.stat().st_size > 4 * CHUNK, "the clip must span several chunks"
    return path


def test_upload_page_resumes_a_large_upload_after_a_network_error(
    resumable_server, author, chromium, screenshot, clip
):
    url = resumable_server
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = console_problems(page)
    page.goto(f"{url}/accounts/login")
    page.fill("#id_username", author.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    patch_offsets: list[int] = []
    dropped: list[int] = []

    def network(route, request):
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            patch_offsets.append(offset)
            if offset > 0 and not dropped:
                dropped.append(offset)  # the first chunk after the start dies on the wire
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/uploads/*", network)
    page.goto(f"{url}/upload")
    assert page.get_attribute("#upload-form", "data-resumable-threshold") == str(CHUNK)
    page.set_input_files("#id_file", str(clip))
    page.fill("#id_title", TITLE)
    page.click("main button[type=submit]")
    done = page.wait_for_selector("#upload-done:not([hidden])", timeout=60_000)

    assert TITLE in done.inner_text()
    assert page.eval_on_selector("#upload-progress", "el => el.value") == 100
    assert page.inner_text("#upload-percent") == "100%"
    assert page.inner_text("#upload-state") == "Upload complete"
    assert page.locator("#upload-error").is_hidden()
    # The dropped chunk was sent again from the same offset, and nothing before it was.
    assert dropped == [CHUNK]
    assert patch_offsets[:3] == [0, CHUNK, CHUNK]
    assert patch_offsets == sorted(patch_offsets)
    assert len(patch_offsets) == len(set(patch_offsets)) + 1

    video = Video.objects.get(title=TITLE)
    assert page.get_attribute("#upload-done-link", "href") == f"/videos/{video.pk}"
    with video.file.storage.open(video.file.name, "rb") as original:
        assert original.read() == clip.read_bytes()
    assert not Upload.objects.exists()
    # Chromium reports the aborted request itself; nothing else may go wrong.
    assert [p for p in problems if "net::ERR_CONNECTION_RESET" not in p] == []

    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "upload-resumable")
    context.close()
