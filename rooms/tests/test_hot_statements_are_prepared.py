"""The hot statements (a chat message, a playback control) are planned once per database
connection on PostgreSQL: prepared the first time, then only executed. Everything else keeps
Django's client-side cursors, which never prepare."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import services
from videohost.testing import VideoFactory


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (CI's PostgreSQL run has them)")


@pytest.fixture
def room(viewer, channel, subscriber):
    """Victor hosts, Sam is a guest."""
    room = services.room_create(user=viewer, video_id=VideoFactory(channel=channel).pk)
    services.room_join(room_id=room.pk, user=subscriber)
    return room


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return sorted(row[0] for row in cursor.fetchall())


def use_the_room(room, viewer, subscriber, times: int) -> None:
    for number in range(times):
        services.playback_control(room_id=room.pk, user=viewer, action="seek", position=number % 3)
        services.chat_post(room_id=room.pk, user=viewer, message=f"host {number}")
        services.room_update(room_id=room.pk, actor=viewer, message_delay=0)  # through the ORM


def test_a_control_and_a_chat_message_each_prepare_their_read_and_their_store_once(
    room, viewer, subscriber, monkeypatch
):
    monkeypatch.setattr(services, "FLOOD_WINDOW", 1e-6)  # more than 5 messages in a row
    # Two rounds: psycopg prepares per parameter types, and a sender's first message compares
    # with NULL (no message yet), a typeless parameter, where later ones pass a time.
    use_the_room(room, viewer, subscriber, times=2)
    first = prepared_statements()

    use_the_room(room, viewer, subscriber, times=20)

    assert prepared_statements() == first  # planned once, then only executed
    assert len(first) == 5
    hot = [
        sql.split("%(")[0].strip()  # stored with $1, $2 … for the named parameters
        for sql in (
            services._CONTROL_FACTS_SQL,
            services._CONTROL_STORE_SQL,
            services._CHAT_FACTS_SQL,
            services._CHAT_STORE_SQL,
        )
    ]
    assert all(any(start in statement for statement in first) for start in hot)
    # and nothing else: room_update's UPDATE, the ORM's reads, went through Django's cursors
    assert all(any(start in statement for start in hot) for statement in first)


def test_with_preparing_turned_off_the_same_statements_run_unprepared(
    room, viewer, subscriber, monkeypatch
):
    connection.ensure_connection()
    # what DATABASE_PREPARED=0 sets; put back afterwards, the connection serves later tests
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)

    state = services.playback_control(room_id=room.pk, user=viewer, action="play", position=3.0)
    message = services.chat_post(room_id=room.pk, user=subscriber, message="unprepared")

    assert (state.seq, state.position) == (1, 3.0)
    assert message.pk is not None
    assert prepared_statements() == []


def test_prepared_statements_reach_the_query_log_with_their_text(room, viewer):
    services.playback_control(room_id=room.pk, user=viewer, action="play", position=1.0)

    with CaptureQueriesContext(connection) as captured:  # what DEBUG's connection.queries gets
        services._last_controls.clear()  # a first control in this process: read, then store
        services.playback_control(room_id=room.pk, user=viewer, action="pause")

    logged = [query["sql"] for query in captured.captured_queries]
    assert services._CONTROL_FACTS_SQL in logged
    assert services._CONTROL_STORE_SQL in logged
