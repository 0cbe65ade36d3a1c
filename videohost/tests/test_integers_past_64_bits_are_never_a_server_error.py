"""Every integer the API takes (ids in paths, integer query parameters, tus headers, JSON body
fields), given a number no 64-bit column can hold: an answer in the error envelope (or an
empty page), never a 500.

Random Schemathesis runs found this twice (a channel filter, the kick route): a lookup through
a bare foreign-key column hands such a number to the database driver, and SQLite's raises
OverflowError; PostgreSQL compares it. CI's derandomized fuzzing had not generated one. This
sweep walks /api/schema, so an operation added later is covered without being named here.
"""

import re

import pytest

from rooms import services as room_services
from uploads.services import upload_create
from videohost.testing import SubscriptionFactory, VideoFactory

HUGE = [2**63, -(2**63) - 1, 10**30]
# Path parameters that are not integers, kept as they are while the others are swept.
NOT_INTEGERS = {"path": "master.m3u8"}


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def integer_parameters(operation: dict, where: str) -> list[str]:
    return [
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == where and parameter.get("schema", {}).get("type") == "integer"
    ]


def integer_body_fields(schema: dict, operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return [
        name
        for name, field in body.get("properties", {}).items()
        if field.get("type") == "integer" and not field.get("readOnly")
    ]


def calls(schema: dict, ids: dict[str, int | str], huge: int):
    """(method, url, body, headers) for each integer of each operation set to `huge`, the
    others real ids (of the collection the path names)."""
    for path, method, operation in operations(schema):
        real_ids = {
            "id": ids.get(path.split("/")[2]),
            "user_id": ids["users"],
            "upload_id": ids["uploads"],
            **NOT_INTEGERS,
        }
        real = path.format(**real_ids)
        for name in set(re.findall(r"{(\w+)}", path)) - set(NOT_INTEGERS):
            yield method, path.format(**{**real_ids, name: huge}), None, {}
        for name in integer_parameters(operation, "query"):
            yield method, f"{real}?{name}={huge}", None, {}
        for name in integer_parameters(operation, "header"):
            # The tus headers: with a body of the operation's own type where it takes one
            # (PATCH's offset+octet-stream), so the offset is read rather than the type refused.
            content = next(iter(operation.get("requestBody", {}).get("content", {})), None)
            tus = {name: str(huge), "Tus-Resumable": "1.0.0"}
            if content:
                tus["Content-Type"] = content
            yield method, real, b"x" if content else None, tus
        for name in integer_body_fields(schema, operation):
            yield method, real, {name: huge}, {}


@pytest.fixture
def ids(author, viewer, stranger):
    """Real objects of each collection, so that only the one huge number can be wrong."""
    video = VideoFactory(channel=author.channel)
    room = room_services.room_create(user=author, video_id=video.pk)
    room_services.room_join(room_id=room.pk, user=viewer)
    their_room = room_services.room_create(
        user=stranger, video_id=VideoFactory(channel=stranger.channel).pk
    )
    invitation = room_services.room_invite(room_id=their_room.pk, actor=stranger, user_id=author.pk)
    subscription = SubscriptionFactory(user=author, channel=stranger.channel)
    upload = upload_create(user=author, length=1024, metadata={"filename": "clip.mp4"})
    return {
        "channels": author.channel.pk,
        "videos": video.pk,
        "rooms": room.pk,
        "invitations": invitation.pk,
        "subscriptions": subscription.pk,
        "users": viewer.pk,
        "uploads": str(upload.pk),
    }


@pytest.mark.parametrize("huge", HUGE, ids=["2**63", "-2**63-1", "10**30"])
@pytest.mark.parametrize("caller", ["anonymous", "author"])
def test_no_operation_answers_an_integer_past_64_bits_with_a_server_error(
    client_for, author, ids, caller, huge
):
    schema = client_for(None).get("/api/schema?format=json").json()
    client = client_for(author if caller == "author" else None)
    tried, failures = 0, []
    for method, url, body, headers in calls(schema, ids, huge):
        if isinstance(body, bytes):
            response = getattr(client, method)(
                url, body, content_type=headers["Content-Type"], headers=headers
            )
        else:
            response = getattr(client, method)(url, body, format="json", headers=headers)
        tried += 1
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {url} {body}: {response.status_code}")
        elif response.status_code >= 400:
            assert set(response.json()) == {"error"}, (method, url, response.content[:200])
    assert failures == []
    assert tried >= 40, tried  # the sweep reached the schema's operations
