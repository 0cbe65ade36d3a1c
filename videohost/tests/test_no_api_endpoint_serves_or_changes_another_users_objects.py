"""IDOR: every object endpoint refuses other users' objects, for every verb, and changes nothing.

One table, one row per (endpoint, verb, intruder). Alice owns a channel, videos (one ready,
one failed), a public and a private room, an invitation to Victor, and a complete resumable
upload; Victor owns a subscription to her channel. The intruders are Bob, who runs a channel
of his own (so no refusal is merely "you have no channel"), Victor where he is only a guest,
and Mona the moderator, whom the API's owner-only writes refuse too (moderation happens in the
admin). Several cells are also covered by their app's tests; they are repeated here so the
table is complete. After every request the whole database state that matters is compared
with the state before it: a refused request must not have written anything.
"""

import pytest

from accounts.models import User
from channels_app.models import Channel, Subscription
from rooms import services as rooms
from rooms.models import ChatMessage, Room, RoomBan, RoomInvitation, RoomParticipant
from uploads.models import Upload
from uploads.tests.conftest import tus_create, tus_delete, tus_head, tus_patch
from videohost.testing import SubscriptionFactory, VideoFactory, sample_clip_bytes
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db

NOT_YOURS = {403, 404}
DELETED_FIELDS = {"updated_at", "view_count"}


@pytest.fixture
def world(author, viewer, stranger, moderator, client_for):
    """Alice's objects (and Victor's subscription), by name."""
    video = VideoFactory(channel=author.channel, title="Alice's clip")
    failed = VideoFactory(
        channel=author.channel, title="Broken", status=VideoStatus.FAILED, with_file=False
    )
    subscription = SubscriptionFactory(user=viewer, channel=author.channel)
    room = rooms.room_create(user=author, video_id=video.pk)
    rooms.room_join(room_id=room.pk, user=viewer)
    rooms.chat_post(room_id=room.pk, user=author, message="only for the room")
    private = rooms.room_create(user=author, video_id=video.pk, is_private=True)
    invitation = rooms.room_invite(room_id=private.pk, actor=author, user_id=viewer.pk)
    clip = sample_clip_bytes()
    alice = client_for(author)
    upload_url = tus_create(alice, len(clip))["Location"]
    assert tus_patch(alice, upload_url, clip, 0).status_code == 204
    return {
        "alice": author.pk,
        "victor": viewer.pk,
        "channel": author.channel.pk,
        "video": video.pk,
        "failed": failed.pk,
        "subscription": subscription.pk,
        "room": room.pk,
        "private": private.pk,
        "invitation": invitation.pk,
        "upload": upload_url.rstrip("/").rsplit("/", 1)[1],
    }


def database_state() -> dict:
    """Every row an intruder could hope to change, field by field."""

    def rows(model, *, exclude=()):
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in DELETED_FIELDS | set(exclude)
        ]
        return list(model.objects.order_by("pk").values_list(*fields))

    return {
        "users": rows(User, exclude=["last_login", "password"]),
        "channels": rows(Channel),
        "subscriptions": rows(Subscription),
        "videos": rows(Video),
        "rooms": rows(Room, exclude=["state_updated_at"]),
        "participants": rows(RoomParticipant),
        "bans": rows(RoomBan),
        "invitations": rows(RoomInvitation),
        "messages": rows(ChatMessage),
        "uploads": rows(Upload),
    }


def fill(template, ids: dict):
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


def api(method: str, body: dict | None = None):
    """A JSON API call; `{name}` in the body is filled in like the path."""

    def call(client, path: str, ids: dict):
        send = getattr(client, method)
        return send(path, fill(body, ids), format="json") if body is not None else send(path)

    return call


def tus(function, *args):
    return lambda client, path, ids: function(client, path, *args)


CHANNEL = "/api/channels/{channel}"
SUBSCRIPTION = "/api/subscriptions/{subscription}"
VIDEO = "/api/videos/{video}"
FAILED = "/api/videos/{failed}"
ROOM = "/api/rooms/{room}"
PRIVATE = "/api/rooms/{private}"
UPLOAD = "/api/uploads/{upload}"
INVITATION = "/api/invitations/{invitation}"
INVITE_BOB = {"username": "bob"}
VIDEO_FROM_UPLOAD = {"upload_id": "{upload}", "title": "Mine"}

# (intruder, verb, path template, call, allowed refusals, who may make the same call)
TABLE = [
    # Channels: readable by all, written by the owner only (API.md: 403).
    ("stranger", "PATCH", CHANNEL, api("patch", {"title": "Bob's"}), {403}, "author"),
    ("stranger", "PUT", CHANNEL, api("put", {"title": "x"}), {403, 405}, None),
    ("stranger", "DELETE", CHANNEL, api("delete"), {403}, "author"),
    ("moderator", "PATCH", CHANNEL, api("patch", {"title": "M"}), {403}, "author"),
    ("moderator", "DELETE", CHANNEL, api("delete"), {403}, "author"),
    ("viewer", "PATCH", CHANNEL, api("patch", {"description": "x"}), {403}, "author"),
    # Subscriptions: only the subscriber's own exist for them (404).
    ("stranger", "GET", SUBSCRIPTION, api("get"), NOT_YOURS, "viewer"),
    ("stranger", "PATCH", SUBSCRIPTION, api("patch", {"is_sponsor": True}), NOT_YOURS, "viewer"),
    ("stranger", "PUT", SUBSCRIPTION, api("put", {}), NOT_YOURS | {405}, None),
    ("stranger", "DELETE", SUBSCRIPTION, api("delete"), NOT_YOURS, "viewer"),
    ("author", "PATCH", SUBSCRIPTION, api("patch", {"is_sponsor": True}), NOT_YOURS, "viewer"),
    ("author", "DELETE", SUBSCRIPTION, api("delete"), NOT_YOURS, "viewer"),
    ("moderator", "DELETE", SUBSCRIPTION, api("delete"), NOT_YOURS, "viewer"),
    # Videos: the owner edits, deletes, watches processing and re-queues.
    ("stranger", "PATCH", VIDEO, api("patch", {"title": "Mine"}), {403}, "author"),
    ("stranger", "PATCH", VIDEO, api("patch", {"has_ads": True}), {403}, "author"),
    ("stranger", "PUT", VIDEO, api("put", {"title": "x"}), {403, 405}, None),
    ("stranger", "DELETE", VIDEO, api("delete"), {403}, "author"),
    ("stranger", "GET", VIDEO + "/processing", api("get"), NOT_YOURS, "author"),
    ("stranger", "GET", FAILED, api("get"), {404}, "author"),
    ("stranger", "PATCH", FAILED, api("patch", {"title": "x"}), NOT_YOURS, "author"),
    ("stranger", "DELETE", FAILED, api("delete"), NOT_YOURS, "author"),
    ("stranger", "GET", FAILED + "/processing", api("get"), NOT_YOURS, "author"),
    ("stranger", "POST", FAILED + "/requeue", api("post"), NOT_YOURS, "author"),
    ("stranger", "POST", VIDEO + "/requeue", api("post"), NOT_YOURS, None),
    ("moderator", "PATCH", VIDEO, api("patch", {"title": "M"}), {403}, "author"),
    ("moderator", "DELETE", VIDEO, api("delete"), {403}, "author"),
    ("subscriber", "PATCH", VIDEO, api("patch", {"title": "Sam's"}), {403}, "author"),
    # Rooms: the host changes and kicks; participants invite and read the chat.
    ("stranger", "PATCH", ROOM, api("patch", {"is_private": True}), {403}, "author"),
    ("viewer", "PATCH", ROOM, api("patch", {"guests_can_control": True}), {403}, "author"),
    ("stranger", "PUT", ROOM, api("put", {}), {403, 405}, None),
    ("stranger", "DELETE", ROOM, api("delete"), {403, 405}, None),
    ("stranger", "POST", ROOM + "/kick/{victor}", api("post"), {403}, "author"),
    ("viewer", "POST", ROOM + "/kick/{alice}", api("post"), {403}, None),
    ("stranger", "POST", ROOM + "/invite", api("post", INVITE_BOB), {403}, "viewer"),
    ("stranger", "GET", ROOM + "/messages", api("get"), {403}, "viewer"),
    ("stranger", "POST", ROOM + "/leave", api("post"), {403}, "viewer"),
    ("stranger", "GET", PRIVATE, api("get"), {404}, "viewer"),
    ("stranger", "PATCH", PRIVATE, api("patch", {"is_private": False}), NOT_YOURS, "author"),
    ("stranger", "POST", PRIVATE + "/join", api("post"), {403}, "viewer"),
    ("stranger", "GET", PRIVATE + "/messages", api("get"), NOT_YOURS, "author"),
    ("stranger", "POST", PRIVATE + "/invite", api("post", INVITE_BOB), NOT_YOURS, "author"),
    # Invitations: only the invitee answers.
    ("stranger", "POST", INVITATION + "/accept", api("post"), NOT_YOURS, "viewer"),
    ("stranger", "POST", INVITATION + "/decline", api("post"), NOT_YOURS, "viewer"),
    ("author", "POST", INVITATION + "/accept", api("post"), NOT_YOURS, "viewer"),
    ("author", "POST", INVITATION + "/decline", api("post"), NOT_YOURS, "viewer"),
    ("stranger", "GET", INVITATION, api("get"), NOT_YOURS | {405}, None),
    # Resumable uploads: only the creator sees one (404 for everyone else).
    ("stranger", "HEAD", UPLOAD, tus(tus_head), {404}, "author"),
    ("stranger", "PATCH", UPLOAD, tus(tus_patch, b"more", 0), {404}, None),
    ("stranger", "DELETE", UPLOAD, tus(tus_delete), {404}, "author"),
    ("moderator", "HEAD", UPLOAD, tus(tus_head), {404}, "author"),
    ("stranger", "POST", "/api/videos", api("post", VIDEO_FROM_UPLOAD), {404}, "author"),
]  # fmt: skip


ROW_IDS = [f"{row[0]}-{row[1]}-{row[2]}" for row in TABLE]


@pytest.mark.parametrize(
    ("intruder", "verb", "path", "send", "refusals", "rightful"), TABLE, ids=ROW_IDS
)
def test_intruder_is_refused_and_nothing_changes(
    request, world, client_for, intruder, verb, path, send, refusals, rightful
):
    client = client_for(request.getfixturevalue(intruder))
    before = database_state()
    response = send(client, fill(path, world), world)
    assert response.status_code in refusals, (response.status_code, response.content[:300])
    if verb != "HEAD":
        assert set(response.json()) == {"error"}, response.content[:300]
    assert "only for the room" not in response.content.decode()
    assert database_state() == before


RIGHTFUL = [row for row in TABLE if row[5] is not None]


@pytest.mark.parametrize(
    ("intruder", "verb", "path", "send", "refusals", "rightful"),
    RIGHTFUL,
    ids=[f"{row[5]}-{row[1]}-{row[2]}" for row in RIGHTFUL],
)
def test_the_same_call_succeeds_for_whoever_may_make_it(
    request, world, client_for, intruder, verb, path, send, refusals, rightful
):
    """The refusals above are about the caller, not a wrong path or a broken endpoint."""
    response = send(client_for(request.getfixturevalue(rightful)), fill(path, world), world)
    assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])


# --- Lists and the caller's own profile -------------------------------------------------------


def test_the_subscription_list_holds_only_the_callers_own(world, client_for, stranger, channel):
    own = SubscriptionFactory(user=stranger, channel=channel)
    listed = client_for(stranger).get("/api/subscriptions").json()["results"]
    assert [s["id"] for s in listed] == [own.pk]


def test_the_invitation_list_holds_only_the_callers_own(world, client_for, stranger, viewer):
    assert client_for(stranger).get("/api/invitations").json()["results"] == []
    listed = client_for(viewer).get("/api/invitations").json()["results"]
    assert [i["id"] for i in listed] == [world["invitation"]]


def test_a_private_room_is_not_listed_for_someone_neither_in_it_nor_invited(
    world, client_for, stranger
):
    listed = client_for(stranger).get("/api/rooms").json()["results"]
    assert [r["id"] for r in listed] == [world["room"]]


def test_auth_me_is_always_the_caller_whatever_the_request_names(
    world, client_for, stranger, author
):
    bob = client_for(stranger)
    assert bob.get(f"/api/auth/me?id={author.pk}&username=alice").json()["username"] == "bob"
    response = bob.patch(
        f"/api/auth/me?id={author.pk}",
        {"id": author.pk, "username": "alice", "display_name": "Bobby", "bio": "hi"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["username"]) == (stranger.pk, "bob")
    author.refresh_from_db()
    stranger.refresh_from_db()
    assert (author.display_name, author.bio) == ("Alice", "")
    assert (stranger.username, stranger.display_name) == ("bob", "Bobby")
