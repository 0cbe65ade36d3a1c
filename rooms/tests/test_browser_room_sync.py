"""Two real Chromium sessions in one watch room, against a real daphne process.

The host starts the room from the video page, plays and seeks; the guest's player follows
within the protocol's tolerances; the guest's chat message reaches the host; the host kicks the
guest, whose page then says so. Also: the browser's sync maths (static/js/room_sync.js) gives
the same answers as rooms/sync.py, and an invitation is accepted from the rooms list.
Screenshots land in docs/screenshots/ (room.png, room-guest.png, room-kicked.png, rooms.png).
"""

import json
from dataclasses import asdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from rooms import services
from rooms.models import Room
from rooms.sync import (
    PlaybackState,
    clock_offset,
    current_position,
    drift_decision,
    seek_hold,
    seek_latency_estimate,
)
from videohost.testing import PASSWORD, ChannelFactory, UserFactory, console_problems
from videos.media_tools import generate_clip
from videos.services import video_process, video_upload

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
MOBILE = {"width": 390, "height": 844}
SYNC_TOLERANCE = 0.5
SYNC_WITHIN_MS = 3_000
PLAYER = "document.getElementById('room-player')"


@pytest.fixture
def host(transactional_db):
    return ChannelFactory(owner__username="hana", owner__display_name="Hana").owner


@pytest.fixture
def guest(transactional_db):
    return UserFactory(username="gus", display_name="Gus")


@pytest.fixture
def video(host, tmp_path):
    """A 10-second clip uploaded and processed the way the site does it (probed, with a
    thumbnail, then the HLS ladder the room's player plays through hls.js)."""
    clip = generate_clip(tmp_path / "rooftop.mp4", seconds=10, size="640x360")
    upload = SimpleUploadedFile("rooftop.mp4", clip.read_bytes(), content_type="video/mp4")
    video = video_upload(user=host, uploaded_file=upload, title="Rooftop party, 10 seconds")
    assert video_process(video_id=video.pk, token=video.processing_token) == "ready"
    video.refresh_from_db()
    return video


def signed_in(chromium, base_url: str, user):
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}/accounts/login")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".topbar .who-name").count() == 1, "login failed"
    return context, page


def wait_in_room(page, people: int = 1) -> None:
    """room_state arrived (the banner is gone) and `people` are listed."""
    page.wait_for_function(
        "(n) => document.getElementById('room-banner').hidden"
        " && document.querySelectorAll('#participants li').length >= n",
        arg=people,
    )


def player_snapshot(page) -> dict:
    return page.evaluate(
        f"() => {{ const v = {PLAYER}; const held = [];"
        " for (let i = 0; i < v.buffered.length; i++)"
        " held.push([v.buffered.start(i), v.buffered.end(i)]);"
        " return {t: v.currentTime, paused: v.paused, seeking: v.seeking, held, at: Date.now()}; }"
    )


def wait_in_sync_with(guest_page, host_page) -> dict:
    """The guest's player reaches the host's (position within 0.5 s, same paused state, not
    stalled in a seek, whose currentTime is only where the seek is going)."""
    reference = player_snapshot(host_page)
    try:
        guest_page.wait_for_function(
            f"""(h) => {{
                const v = {PLAYER};
                const expected = h.paused ? h.t : h.t + (Date.now() - h.at) / 1000;
                return !v.seeking && v.paused === h.paused
                    && Math.abs(v.currentTime - expected) < {SYNC_TOLERANCE};
            }}""",
            arg=reference,
            timeout=SYNC_WITHIN_MS,
        )
    except PlaywrightTimeoutError:
        host_now, guest_now = player_snapshot(host_page), player_snapshot(guest_page)
        pytest.fail(f"the guest did not follow within 3 s: host {host_now}, guest {guest_now}")
    # Both sides again, read back to back: still together, nobody was dragged elsewhere.
    host_now, guest_now = player_snapshot(host_page), player_snapshot(guest_page)
    gap = abs(
        (host_now["t"] + (0 if host_now["paused"] else (guest_now["at"] - host_now["at"]) / 1000))
        - guest_now["t"]
    )
    assert guest_now["paused"] == host_now["paused"]
    assert gap < SYNC_TOLERANCE, (host_now, guest_now)
    return guest_now


def test_guest_follows_the_hosts_play_seek_and_pause_chats_and_is_kicked(
    live_server_url, chromium, screenshot, host, guest, video
):
    url = live_server_url
    host_context, host_page = signed_in(chromium, url, host)
    guest_context, guest_page = signed_in(chromium, url, guest)
    problems = console_problems(host_page) + console_problems(guest_page)

    # The host opens the room from the video page ("Watch together": POST /api/rooms).
    host_page.goto(f"{url}/videos/{video.pk}")
    host_page.click("#watch-together")
    host_page.wait_for_url(f"{url}/rooms/*")
    room_id = int(host_page.url.rstrip("/").rsplit("/", 1)[1])
    wait_in_room(host_page)

    guest_page.goto(f"{url}/rooms/{room_id}")
    wait_in_room(guest_page, people=2)
    wait_in_room(host_page, people=2)
    assert guest_page.locator("#participants .badge-host").inner_text() == "Host"
    assert guest_page.locator("#room-player").get_attribute("controls") is None
    assert host_page.locator("#room-player").get_attribute("controls") is not None
    assert guest_page.locator("#settings-form").count() == 0
    assert guest_page.locator("#participants button[data-kick]").count() == 0
    host_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    guest_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    # Both play the HLS ladder through hls.js (static/js/player.js), not the original.
    for page in (host_page, guest_page):
        assert page.locator("#room-player").get_attribute("data-engine") == "hls"

    # Play, then seek to 2.0 s: the guest's player follows within 3 s.
    host_page.evaluate(f"() => {PLAYER}.play()")
    host_page.wait_for_function(f"() => {PLAYER}.currentTime > 0.3")
    host_page.evaluate(f"() => {{ {PLAYER}.currentTime = 2.0; }}")
    host_page.wait_for_function(f"() => !{PLAYER}.seeking && {PLAYER}.currentTime >= 2.0")
    followed = wait_in_sync_with(guest_page, host_page)
    assert not followed["paused"]
    assert followed["t"] >= 2.0

    # Pause: the guest pauses too, at the host's position.
    host_page.evaluate(f"() => {PLAYER}.pause()")
    followed = wait_in_sync_with(guest_page, host_page)
    assert followed["paused"]
    assert "Paused" in guest_page.inner_text("#room-playstate")

    # The guest chats (typing shows on the host's page first); the host reads it as text.
    message = "Hello from the guest <b>not bold</b>"
    guest_page.locator("#chat-input").press_sequentially("Hello", delay=20)
    host_page.wait_for_function(
        "() => document.getElementById('chat-typing').textContent === 'gus is typing…'"
    )
    guest_page.fill("#chat-input", message)
    guest_page.press("#chat-input", "Enter")
    host_page.locator("#chat-log .chat-text", has_text=message).wait_for()
    assert host_page.locator("#chat-log b").count() == 0
    guest_page.locator("#chat-log .chat-message:not(.chat-pending) .chat-text").wait_for()
    assert guest_page.input_value("#chat-input") == ""
    host_page.fill("#chat-input", "Welcome, Gus! Popcorn is on the left.")
    host_page.press("#chat-input", "Enter")
    guest_page.locator("#chat-log .chat-text", has_text="Popcorn").wait_for()
    host_page.wait_for_function(
        "() => document.getElementById('chat-typing').textContent === ''", timeout=5_000
    )

    for page in (host_page, guest_page):
        page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    screenshot(host_page, "room")
    screenshot(guest_page, "room-guest")

    # The host kicks the guest, who sees it at once and cannot come back.
    host_page.on("dialog", lambda dialog: dialog.accept())
    host_page.click(f"#participants button[data-kick='{guest.pk}']")
    guest_page.wait_for_selector("#room-ended:not([hidden])")
    assert guest_page.inner_text("#room-ended-title") == "You were removed from this room"
    assert guest_page.locator("#room-layout").is_hidden()
    host_page.wait_for_function("() => document.querySelectorAll('#participants li').length === 1")
    screenshot(guest_page, "room-kicked")

    guest_page.reload()
    assert "You were removed from this room" in guest_page.inner_text("main")

    assert problems == []
    guest_context.close()
    host_context.close()


def test_a_guest_whose_segments_arrive_late_still_lands_on_the_hosts_seek(
    live_server_url, chromium, host, guest, video
):
    """Every HTTP request of the guest's takes 1.5 s more (Chromium's network emulation), so
    the host's seek sends the guest's player to media it must fetch first, and it lands well
    behind the room. It must catch up with one seek into what it now holds, not chase the
    room with quick seeks aimed as far ahead as the slow one took."""
    room = services.room_create(user=host, video_id=video.pk)
    host_context, host_page = signed_in(chromium, live_server_url, host)
    guest_context, guest_page = signed_in(chromium, live_server_url, guest)
    host_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(host_page)
    network = guest_context.new_cdp_session(guest_page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 1_500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    guest_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(guest_page, people=2)
    for page in (host_page, guest_page):
        page.wait_for_function(f"() => {PLAYER}.readyState >= 1")

    host_page.evaluate(f"() => {PLAYER}.play()")
    host_page.wait_for_function(f"() => {PLAYER}.currentTime > 0.3")
    held = player_snapshot(guest_page)["held"]
    assert not any(start <= 6.0 < end for start, end in held), held
    guest_page.evaluate(
        f"() => {{ window.__seeks = 0;"
        f" {PLAYER}.addEventListener('seeking', () => {{ window.__seeks += 1; }}); }}"
    )
    host_page.evaluate(f"() => {{ {PLAYER}.currentTime = 6.0; }}")
    host_page.wait_for_function(f"() => !{PLAYER}.seeking && {PLAYER}.currentTime >= 6.0")

    wait_in_sync_with(guest_page, host_page)
    # The slow seek to where the room was, then one quick seek to where it is now (one more
    # is allowed for hls.js, which nudges a stalled player forward by seeking).
    assert guest_page.evaluate("() => window.__seeks") <= 3
    guest_context.close()
    host_context.close()


def test_a_guest_allowed_to_control_drives_the_hosts_player(
    live_server_url, chromium, host, guest, video
):
    room = services.room_create(user=host, video_id=video.pk, guests_can_control=True)
    host_context, host_page = signed_in(chromium, live_server_url, host)
    guest_context, guest_page = signed_in(chromium, live_server_url, guest)

    host_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(host_page)
    guest_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(guest_page, people=2)
    assert guest_page.locator("#room-player").get_attribute("controls") is not None
    guest_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    host_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")

    guest_page.evaluate(f"() => {{ {PLAYER}.currentTime = 4.0; }}")
    guest_page.wait_for_function(f"() => !{PLAYER}.seeking")
    host_page.wait_for_function(
        f"() => Math.abs({PLAYER}.currentTime - 4.0) < {SYNC_TOLERANCE}", timeout=SYNC_WITHIN_MS
    )
    assert host_page.evaluate(f"() => {PLAYER}.paused")

    # The host takes the control back; the guest's player loses its controls live.
    host_page.uncheck("#id_guests_can_control")
    host_page.click("#settings-form button[type=submit]")
    guest_page.wait_for_function(f"() => !{PLAYER}.controls")
    assert guest_page.inner_text("#room-control-hint") == "The host controls playback."
    guest_context.close()
    host_context.close()


def test_a_guest_who_may_control_holds_its_correcting_seeks_without_pausing_the_room(
    live_server_url, chromium, host, guest, video
):
    """The guest's player follows the host's seeks in a playing room (and the room's position
    as it joins) by seeking paused and playing at a set moment (room_sync.js `seekHold`).
    That pause is the page's own: a guest allowed to control must not send it to the room."""
    room = services.room_create(user=host, video_id=video.pk, guests_can_control=True)
    host_context, host_page = signed_in(chromium, live_server_url, host)
    guest_context, guest_page = signed_in(chromium, live_server_url, guest)
    sent_by_guest: list[dict] = []
    guest_page.on(
        "websocket",
        lambda socket: socket.on(
            "framesent", lambda frame: sent_by_guest.append(json.loads(frame))
        ),
    )
    host_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(host_page)
    host_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    host_page.evaluate(f"() => {PLAYER}.play()")
    host_page.wait_for_function(f"() => {PLAYER}.currentTime > 0.3")
    guest_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(guest_page, people=2)
    wait_in_sync_with(guest_page, host_page)
    guest_page.evaluate(
        f"() => {{ window.__pauses = 0;"
        f" {PLAYER}.addEventListener('pause', () => {{ window.__pauses += 1; }}); }}"
    )

    for position in (3.0, 6.0):
        host_page.evaluate(f"(p) => {{ {PLAYER}.currentTime = p; }}", position)
        host_page.wait_for_function(
            f"() => !{PLAYER}.seeking && {PLAYER}.currentTime >= {position}"
        )
        landed = wait_in_sync_with(guest_page, host_page)
        assert not landed["paused"]

    assert guest_page.evaluate("() => window.__pauses") >= 1  # the seeks were held
    assert Room.objects.get(pk=room.pk).is_playing
    assert {frame["type"] for frame in sent_by_guest} <= {"ping", "sync_request", "typing"}
    guest_context.close()
    host_context.close()


def test_a_dropped_socket_reconnects_and_resyncs_to_what_happened_meanwhile(
    live_server_url, chromium, screenshot, host, guest, video
):
    room = services.room_create(user=host, video_id=video.pk)
    host_context, host_page = signed_in(chromium, live_server_url, host)
    # The guest on a phone: the room page must fit it too.
    guest_context = chromium.new_context(viewport=MOBILE, is_mobile=True, device_scale_factor=2)
    guest_page = guest_context.new_page()
    guest_page.set_default_timeout(15_000)
    # Keep a handle on the page's sockets, so the test can drop one like a flaky network does.
    guest_page.add_init_script(
        """window.__roomSockets = [];
        window.WebSocket = class extends window.WebSocket {
            constructor(...args) { super(...args); window.__roomSockets.push(this); }
        };"""
    )
    guest_page.goto(f"{live_server_url}/accounts/login")
    guest_page.fill("#id_username", guest.username)
    guest_page.fill("#id_password", PASSWORD)
    guest_page.click("main button[type=submit]")
    guest_page.wait_for_load_state()

    host_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(host_page)
    guest_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(guest_page, people=2)
    guest_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    overflow = guest_page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the room page scrolls sideways on a phone"
    screenshot(guest_page, "room-mobile")

    guest_page.evaluate("() => window.__roomSockets[0].close()")
    guest_page.wait_for_selector("#room-banner:not([hidden])")
    assert guest_page.inner_text("#room-banner") == "Reconnecting…"
    host_page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    host_page.evaluate(f"() => {{ {PLAYER}.currentTime = 6.0; }}")
    host_page.wait_for_function(f"() => !{PLAYER}.seeking")

    guest_page.wait_for_selector("#room-banner", state="hidden")
    assert guest_page.evaluate("() => window.__roomSockets.length") == 2
    followed = wait_in_sync_with(guest_page, host_page)
    assert followed["paused"]
    assert abs(followed["t"] - 6.0) < SYNC_TOLERANCE
    guest_context.close()
    host_context.close()


def test_when_the_host_ends_the_room_the_guest_sees_it_closed(
    live_server_url, chromium, host, guest, video
):
    room = services.room_create(user=host, video_id=video.pk)
    host_context, host_page = signed_in(chromium, live_server_url, host)
    guest_context, guest_page = signed_in(chromium, live_server_url, guest)
    host_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(host_page)
    guest_page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(guest_page, people=2)

    host_page.on("dialog", lambda dialog: dialog.accept())
    host_page.click("#room-leave")
    host_page.wait_for_url(f"{live_server_url}/rooms")
    guest_page.wait_for_selector("#room-ended:not([hidden])")
    assert guest_page.inner_text("#room-ended-title") == "This room has closed"
    assert guest_page.inner_text("#room-ended-message") == "The host ended the room."
    # Final: no "Reconnecting…" after the server closed the socket with 4000.
    guest_page.wait_for_timeout(1_500)
    assert guest_page.locator("#room-banner").is_hidden()
    guest_context.close()
    host_context.close()


def test_slow_mode_counts_down_on_the_guests_send_button(
    live_server_url, chromium, host, guest, video
):
    room = services.room_create(user=host, video_id=video.pk, message_delay=30)
    context, page = signed_in(chromium, live_server_url, guest)
    page.goto(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(page)
    assert page.locator("#chat-slow").is_visible()

    page.fill("#chat-input", "first!")
    page.press("#chat-input", "Enter")
    page.locator("#chat-log .chat-message:not(.chat-pending)", has_text="first!").wait_for()
    send = page.locator("#chat-send")
    assert send.is_disabled()
    assert send.inner_text() in {"Wait 30s", "Wait 29s"}
    # Enter does nothing while the countdown runs: nothing pending, nothing refused.
    page.fill("#chat-input", "second")
    page.press("#chat-input", "Enter")
    assert page.locator("#chat-log .chat-pending").count() == 0
    assert page.input_value("#chat-input") == "second"
    context.close()


def test_a_full_room_says_so_instead_of_reconnecting(live_server_url, chromium, host, guest, video):
    room = services.room_create(user=host, video_id=video.pk, max_participants=2)
    services.room_join(room_id=room.pk, user=UserFactory(username="fay"))
    context, page = signed_in(chromium, live_server_url, guest)

    page.goto(f"{live_server_url}/rooms/{room.pk}")

    page.wait_for_selector("#room-ended:not([hidden])")
    assert page.inner_text("#room-ended-title") == "This room is full"
    assert page.locator("#room-banner").is_hidden()
    context.close()


def test_invitation_accepted_from_the_rooms_list_opens_the_private_room(
    live_server_url, chromium, screenshot, host, guest, video
):
    room = services.room_create(user=host, video_id=video.pk, is_private=True)
    services.room_invite(room_id=room.pk, actor=host, username=guest.username)
    services.room_create(user=UserFactory(username="pia"), video_id=video.pk)
    context, page = signed_in(chromium, live_server_url, guest)

    page.goto(f"{live_server_url}/rooms")
    row = page.locator("[data-invitation-id]", has_text="Rooftop party")
    row.wait_for()
    screenshot(page, "rooms")
    row.locator("button[data-invitation-action=accept]").click()
    page.wait_for_url(f"{live_server_url}/rooms/{room.pk}")
    wait_in_room(page)
    context.close()


# --- The browser's maths against the server's ------------------------------------------------

STATES = [
    PlaybackState(position=10.0, is_playing=True, rate=1.0, server_time=1000.0, seq=3),
    PlaybackState(position=10.0, is_playing=False, rate=1.0, server_time=1000.0, seq=4),
    PlaybackState(position=5.0, is_playing=True, rate=1.5, server_time=1000.0, seq=5),
]
DRIFT_CASES = [
    # (local position, local paused, state index, now, settling until)
    (12.0, False, 0, 1002.0, 0.0),  # in sync
    (12.03, False, 0, 1002.0, 0.0),  # under 0.05 s
    (11.9, False, 0, 1002.0, 0.0),  # behind: nudge up
    (12.1, False, 0, 1002.0, 0.0),  # ahead: nudge down
    (11.0, False, 0, 1002.0, 0.0),  # 1 s behind: nudge capped at 5%
    (9.0, False, 0, 1002.0, 0.0),  # 3 s behind: seek
    (12.0, True, 0, 1002.0, 0.0),  # paused while the room plays: seek
    (10.0, False, 1, 1002.0, 0.0),  # playing while the room is paused: seek
    (10.3, True, 1, 1002.0, 0.0),  # paused but elsewhere: seek
    (9.0, False, 0, 1002.0, 1003.0),  # settling after a seek: nothing
    (7.9, False, 2, 1002.0, 0.0),  # rate 1.5
]
OFFSET_CASES = [
    [],
    [(100.0, 105.2, 100.4)],
    [(100.0, 105.2, 100.4), (101.0, 106.05, 101.1), (102.0, 107.9, 103.0)],
    [(float(i), i + 5.0 + i / 100, i + 0.5 - i / 40) for i in range(12)],
]

LATENCY_CASES = [(0.0, 0.08), (0.08, 0.04), (0.1, 7.5), (0.2, -0.5)]


def test_browser_sync_maths_matches_rooms_sync(live_server_url, chromium, transactional_db):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server_url}/")
    states = [asdict(state) for state in STATES]
    browser = page.evaluate(
        """async ([states, driftCases, offsetCases, latencyCases]) => {
            const sync = await import('/static/js/room_sync.js');
            return {
                positions: states.flatMap((s) => [
                    sync.currentPosition(s, 1003.0),
                    sync.currentPosition(s, 1003.0, 12.0),
                    sync.currentPosition(s, 990.0),
                ]),
                drifts: driftCases.map(([local, paused, i, now, settle]) =>
                    sync.driftDecision({localPosition: local, localPaused: paused,
                                        state: states[i], now, settlingUntil: settle})),
                offsets: offsetCases.map((samples) => sync.clockOffset(samples)),
                latencies: latencyCases.map(([previous, measured]) =>
                    sync.seekLatencyEstimate(previous, measured)),
                holds: latencyCases.map(([previous, measured]) => sync.seekHold(measured)),
            };
        }""",
        [states, DRIFT_CASES, OFFSET_CASES, LATENCY_CASES],
    )
    context.close()

    positions = [
        value
        for state in STATES
        for value in (
            current_position(state, now=1003.0),
            current_position(state, now=1003.0, duration=12.0),
            current_position(state, now=990.0),
        )
    ]
    drifts = [
        drift_decision(
            local_position=local,
            local_paused=paused,
            state=STATES[index],
            now=now,
            settling_until=settle,
        )
        for local, paused, index, now, settle in DRIFT_CASES
    ]
    offsets = [clock_offset(list(samples)) for samples in OFFSET_CASES]

    assert browser["positions"] == pytest.approx(positions)
    assert [d["action"] for d in browser["drifts"]] == [d.action for d in drifts]
    assert [d["rate"] for d in browser["drifts"]] == pytest.approx([d.rate for d in drifts])
    assert [d["target"] for d in browser["drifts"]] == pytest.approx([d.target for d in drifts])
    assert {d.action for d in drifts} == {"none", "nudge", "seek"}
    assert browser["offsets"] == pytest.approx(offsets)
    assert browser["latencies"] == pytest.approx(
        [seek_latency_estimate(previous, measured) for previous, measured in LATENCY_CASES]
    )
    assert browser["holds"] == pytest.approx([seek_hold(measured) for _, measured in LATENCY_CASES])
