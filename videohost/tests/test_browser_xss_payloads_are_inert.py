"""XSS payloads in everything users write are inert in a real Chromium, and shown as text.

Alice's display name, bio, channel title and description, video title and description, and
chat messages (history and live) each hold a payload that would set `window.__xss`, open a
dialog or plant an element if it ever reached the page as HTML. The browser context bypasses
the Content-Security-Policy: CSP would stop most of these on its own (the headers test proves
it is sent), so this test proves the first line, escaping, holds without it.
The room page is screenshotted to docs/screenshots/xss-inert.png.
"""

import pytest

from rooms import services as rooms
from rooms.tests.test_consumer_support import session_cookie_for
from videohost.testing import ChannelFactory, UserFactory, VideoFactory, console_problems

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
# Each fits the shortest field it goes in (display names: 80 characters).
PAYLOADS = {
    "display_name": '<script>window.__xss="name"</script>',
    "bio": "</textarea><img src=x onerror=\"window.__xss='bio'\">",
    "channel_title": '"><svg onload="window.__xss=\'channel\'">',
    "channel_description": "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    "video_title": "<img src=x onerror=\"window.__xss='title'\"> {{ 7|add:1 }}",
    "video_description": "<a href=\"javascript:window.__xss='link'\">javascript:alert(1)</a>",
    "history": "<script>alert('history')</script><b>bold?</b>",
    "live": '"><img src=x onerror=alert(\'live\')><svg/onload=window.__xss="live">',
}
# Elements none of the pages has of its own; any of them would be a payload's.
PLANTED = (
    "img[src='x'], svg[onload], iframe, a[href^='javascript:'], b, "
    "script:not([src]):not([type='application/json'])"
)


@pytest.fixture
def alice(transactional_db):
    return ChannelFactory(
        owner__username="alice",
        owner__display_name=PAYLOADS["display_name"],
        owner__bio=PAYLOADS["bio"],
        title=PAYLOADS["channel_title"],
        description=PAYLOADS["channel_description"],
    ).owner


@pytest.fixture
def room(alice):
    video = VideoFactory(
        channel=alice.channel,
        title=PAYLOADS["video_title"],
        description=PAYLOADS["video_description"],
        duration=3.0,
    )
    room = rooms.room_create(user=alice, video_id=video.pk)
    rooms.chat_post(room_id=room.pk, user=alice, message=PAYLOADS["history"])
    return room


def signed_in(chromium, base_url: str, user):
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    name, value = session_cookie_for(user).split("=", 1)
    context.add_cookies([{"name": name, "value": value, "url": base_url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return context, page, dialogs


def wait_for_messages(page, count: int) -> None:
    """Counted, not looked up by their text: a payload that became HTML has other text."""
    page.wait_for_function(
        "(n) => document.querySelectorAll('#chat-log .chat-message:not(.chat-pending)')"
        ".length >= n",
        arg=count,
    )


def assert_inert(page, dialogs: list[str], *expected_text: str) -> None:
    where = page.url
    assert page.evaluate("() => typeof window.__xss") == "undefined", where
    assert dialogs == [], where
    assert page.locator(PLANTED).count() == 0, (
        where,
        page.locator(PLANTED).first.evaluate("e => e.outerHTML"),
    )
    shown = page.evaluate(
        "() => document.body.innerText + [...document.querySelectorAll('input, textarea')]"
        ".map(field => field.value).join('\\n')"
    )
    for text in expected_text:
        assert text in shown, (where, text)


def test_payloads_in_every_user_field_and_in_chat_render_as_text_and_never_run(
    live_server_url, chromium, screenshot, alice, room
):
    url = live_server_url
    video = room.video
    context, page, dialogs = signed_in(chromium, url, alice)
    problems = console_problems(page)
    pages = {
        "/": [PAYLOADS["video_title"], PAYLOADS["display_name"]],
        f"/videos/{video.pk}": [
            PAYLOADS["video_title"],
            PAYLOADS["video_description"],
            PAYLOADS["channel_title"],
        ],
        f"/channels/{alice.channel.pk}": [
            PAYLOADS["channel_title"],
            PAYLOADS["channel_description"],
            PAYLOADS["video_title"],
        ],
        "/studio": [PAYLOADS["video_title"]],
        "/accounts/profile": [PAYLOADS["display_name"], PAYLOADS["bio"]],
        "/rooms": [PAYLOADS["video_title"]],
    }
    for path, texts in pages.items():
        page.goto(f"{url}{path}")
        page.wait_for_load_state("load")
        assert_inert(page, dialogs, *texts)

    # The room: history arrives in room_state, then Victor says something live.
    page.goto(f"{url}/rooms/{room.pk}")
    wait_for_messages(page, 1)
    victor = UserFactory(username="victor")
    guest_context, guest_page, guest_dialogs = signed_in(chromium, url, victor)
    guest_page.goto(f"{url}/rooms/{room.pk}")
    wait_for_messages(guest_page, 1)
    guest_page.fill("#chat-input", PAYLOADS["live"])
    guest_page.press("#chat-input", "Enter")
    wait_for_messages(page, 2)
    wait_for_messages(guest_page, 2)
    page.wait_for_timeout(300)  # an onerror or onload would have fired by now
    for one, its_dialogs in ((page, dialogs), (guest_page, guest_dialogs)):
        assert_inert(one, its_dialogs, PAYLOADS["history"], PAYLOADS["live"])
    assert_inert(page, dialogs, PAYLOADS["video_title"], PAYLOADS["display_name"])
    screenshot(page, "xss-inert")
    assert [p for p in problems if "favicon" not in p] == []
    guest_context.close()
    context.close()
