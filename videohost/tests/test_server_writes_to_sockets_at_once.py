"""videohost.server.write_at_once: a write to an idle socket goes out at once; whatever the
kernel does not take is queued by Twisted as before, and bytes never change order.

A Twisted TCP connection over one end of a socketpair, with a reactor that only records
whether the connection asked to be told when it may write (what a queued write does).
"""

import socket

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol

import videohost.server  # noqa: F401 - installs write_at_once


class RecordingReactor:
    def __init__(self):
        self.writers = set()

    def addWriter(self, writer):  # noqa: N802 - Twisted's interface
        self.writers.add(writer)

    def removeWriter(self, writer):  # noqa: N802
        self.writers.discard(writer)

    def addReader(self, reader):  # noqa: N802
        pass

    def removeReader(self, reader):  # noqa: N802
        pass


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    reactor = RecordingReactor()
    connection = tcp.Connection(ours, Protocol(), reactor=reactor)
    connection.connected = True
    yield connection, theirs, reactor
    ours.close()
    theirs.close()


def read_all(theirs: socket.socket, expected: int, connection=None) -> bytes:
    """What the other end receives, letting Twisted flush its queue as the reactor would."""
    theirs.setblocking(False)
    received = b""
    while len(received) < expected:
        if connection is not None and connection in connection.reactor.writers:
            connection.doWrite()
        try:
            received += theirs.recv(1 << 20)
        except BlockingIOError:
            pass
    return received


def test_a_write_to_an_idle_socket_is_sent_without_waiting_for_the_loop(pair):
    connection, theirs, reactor = pair
    connection.write(b"seek_event")
    theirs.setblocking(False)
    assert theirs.recv(100) == b"seek_event"  # already there: no turn of any loop happened
    assert connection not in reactor.writers  # nothing left for the loop to do


def test_what_the_kernel_does_not_take_is_queued_and_sent_later_in_order(pair):
    connection, theirs, reactor = pair
    big = bytes(range(256)) * 40_000  # ~10 MB: more than both socket buffers hold
    connection.write(big)
    assert connection in reactor.writers  # the rest waits for the socket to drain
    connection.write(b"after")  # queued behind it, not sent ahead of it
    received = read_all(theirs, len(big) + 5, connection)
    assert received == big + b"after"


def test_a_closing_connection_leaves_its_writes_to_twisted(pair):
    connection, theirs, reactor = pair
    connection.disconnecting = True
    connection.write(b"late")
    assert connection in reactor.writers
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(100)
