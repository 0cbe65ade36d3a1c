"""daphne, with request bodies read when the application asks for them and oversize bodies
refused from their headers.

daphne 4 (`WebRequest.process`) copies a request's whole body — which Twisted has already
spooled to a temporary file — into the application's queue before the application reads a
byte of it, so a 2 GiB upload costs 2 GiB of memory. Twisted also receives the whole body
before the application is called, so Django's 413 from `Content-Length` came only after the
server had stored everything. Here:

- the application's `receive()` reads the next chunk of Twisted's spool file each time it is
  called (`RequestBody`); `http.disconnect` and WebSockets go through daphne as before;
- a request that declares (or sends) more than the largest body the site accepts is answered
  413 in the API's error envelope as soon as its headers are in, and its body is dropped
  unstored (`StreamingWebRequest.refuse`);
- every write to a socket is tried at once, queued only if the kernel does not take it all
  (`write_at_once`), rather than after a turn of the loop;
- a response body is sent at the pace the client reads it (`SendWindow`), not buffered in
  this process as fast as the application produces it;
- Twisted's own parsing of form bodies into `request.args`, which reads a whole multipart
  upload into memory and which nothing here uses, is off.

Run it as daphne is run (same options; the application defaults to this project's):

    python -m videohost.server -b 0.0.0.0 -p 8000 --proxy-headers

`make run` and docker-compose do; the tests' live server runs it through
`StreamingDaphneProcess`.
"""

# daphne.server installs Twisted's asyncio reactor when imported, which must happen before
# anything imports twisted.internet.reactor.
import daphne.server  # isort:skip

import asyncio
import importlib
import io
import json
import logging
import sys
import traceback
from typing import BinaryIO

from daphne.cli import CommandLineInterface
from daphne.endpoints import build_endpoint_description_strings
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.testing import DaphneProcess, _reinstall_reactor
from twisted.internet import tcp

logger = logging.getLogger(__name__)


# --- Writing to sockets at once ----------------------------------------------------------------


def write_at_once(self: tcp.Connection, data: bytes) -> None:
    """`tcp.Connection.write` that tries the socket straight away when nothing is queued.

    Twisted only ever queues a write: the socket is registered with epoll, the loop turns,
    the bytes are sent, the socket is unregistered — three system calls and a turn of the
    loop for every frame to every socket. A room event to 100 guests paid that 100 times
    (bench/room_fanout.py). asyncio's own transports send at once and queue only what the
    kernel did not take; this does the same, and leaves everything else (a backlog, a
    closing connection, an error to report) to Twisted's queued path.
    """
    if (
        data
        and self.connected
        and not self.disconnecting
        and not self._writeDisconnected
        and not self._tempDataBuffer
        and len(self.dataBuffer) == self.offset
    ):
        try:
            sent = self.socket.send(data)
        except OSError:
            sent = 0  # full (EAGAIN) or failing: Twisted's doWrite finds out and reports it
        if sent == len(data):
            return
        data = data[sent:]
    _queued_write(self, data)


_queued_write = tcp.Connection.write
tcp.Connection.write = write_at_once

DEFAULT_APPLICATION = "videohost.asgi:application"
# Bytes per `http.request` message: large enough that a 2 GiB body is ~2000 messages, small
# enough that a few uploads at once stay a few MiB of memory.
BODY_CHUNK_SIZE = 1024 * 1024
# After a 413, how long a client still sending its body may go on before the connection is
# cut (nginx's lingering_time); meanwhile what it sends is read and dropped.
LINGER_SECONDS = 30


def body_limit() -> int:
    """The largest request body the site accepts: an upload at MAX_UPLOAD_SIZE in its
    multipart framing. Read for each request, so settings overridden in tests apply."""
    from django.conf import settings

    from videos.uploads import MULTIPART_ALLOWANCE

    return settings.MAX_UPLOAD_SIZE + MULTIPART_ALLOWANCE


def payload_too_large() -> bytes:
    """A complete HTTP/1.1 413 response carrying the API's error envelope."""
    from videohost.api.errors import error_body
    from videos.uploads import too_large_message

    body = json.dumps(error_body(413, too_large_message())).encode()
    head = (
        "HTTP/1.1 413 Payload Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class EventQueue(asyncio.Queue):
    """daphne's queue of events for one HTTP request, without its copy of the body.

    `WebRequest.process` still runs its copy loop, over an empty stand-in for the body, and
    so queues one empty `http.request` before the application starts; `RequestBody` serves
    the body instead, so that message is dropped.
    """

    def put_nowait(self, item):
        if item.get("type") == "http.request":
            return
        super().put_nowait(item)


class RequestBody:
    """The ASGI `receive` of one HTTP request: the body from Twisted's spool file, one chunk
    per call, then whatever daphne queues (`http.disconnect`)."""

    def __init__(self, file: BinaryIO, events: asyncio.Queue):
        self.file = file
        self.events = events
        self.remaining = file.seek(0, io.SEEK_END)
        file.seek(0)
        self.done = False

    async def receive(self) -> dict:
        # A queued disconnect wins over the rest of the body, and a closed file means the
        # request already ended (a response sent early, or the connection lost).
        if not self.done and self.events.empty() and not self.file.closed:
            # A blocking read on the event loop, as Twisted's own writes to this file are: a
            # megabyte from a file just written (in the page cache) takes well under 1 ms.
            chunk = self.file.read(min(BODY_CHUNK_SIZE, self.remaining))
            self.remaining -= len(chunk)
            self.done = self.remaining <= 0 or not chunk
            return {"type": "http.request", "body": chunk, "more_body": not self.done}
        return await self.events.get()


class SendWindow:
    """A push producer on the response: Twisted pauses it while the socket's send buffer is
    full and resumes it once that drained, and the application's `send` of the next body
    chunk waits in between.

    daphne writes every `http.response.body` to the transport at once, however slowly the
    client reads: a 1 GiB video sent to a phone on a slow link sat in this process's memory
    until the phone had it all."""

    def __init__(self):
        self.open = asyncio.Event()
        self.open.set()

    def pauseProducing(self):
        self.open.clear()

    def resumeProducing(self):
        self.open.set()

    def stopProducing(self):
        # The connection is going away: nothing more will be written, nobody should wait.
        self.open.set()


class StreamingWebRequest(WebRequest):
    """daphne's HTTP request, which hands its spool file to `RequestBody` rather than copying
    it into memory, and refuses an oversize body as soon as its size is known."""

    refused = False
    received = 0
    limit = 0
    spooled_body: BinaryIO | None = None
    _linger_call = None

    def __init__(self, channel, *args, **kwargs):
        # Twisted would otherwise parse every multipart or urlencoded POST into `self.args`,
        # reading the whole body into memory (and more, in the email parser) at once; daphne
        # never reads `args`, and Django parses the body itself.
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(channel, *args, **kwargs)

    # --- Receiving the body (Twisted calls these while the request arrives) ---------------

    def gotLength(self, length):
        # Called once the headers are parsed, before any byte of the body (and before
        # Twisted's automatic `100 Continue`): `length` is the Content-Length, None if chunked.
        self.limit = body_limit()
        if length is not None and length > self.limit:
            self.refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            return  # the sink: a refused body is read off the connection and dropped
        self.received += len(data)
        # A chunked body has no length to refuse up front: the running count is checked.
        if self.received > self.limit:
            self.refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.refused:
            # The client sent all of a refused body after all: nothing to wait for any more.
            self.channel.loseConnection()
            return
        super().requestReceived(command, path, version)

    def refuse(self):
        """Answer 413 now, drop whatever of the body arrives, and close the connection."""
        self.refused = True
        if self.content is not None:
            self.content.close()
            self.content = None
        # The answer is final: Twisted must not invite the body with `100 Continue` after it.
        self.requestHeaders.removeHeader(b"Expect")
        channel = self.channel
        transport = channel.transport
        transport.write(payload_too_large())
        self.log_refusal()
        # As HTTPChannel.loseConnection does: a producer still registered (paused) on the
        # transport would hold the close back.
        channel._networkProducer.unregisterProducer()
        if channel.isSecure() or not hasattr(transport, "loseWriteConnection"):
            # A plain shutdown of the socket's write side would skip TLS's close_notify.
            transport.loseConnection()
            return
        # Half-close: the client gets the answer and then EOF, while what it still sends is
        # read and dropped. Closing outright with its body unread would make our kernel reset
        # the connection, and a client still sending would never see the 413.
        transport.loseWriteConnection()
        from twisted.internet import reactor

        self._linger_call = reactor.callLater(LINGER_SECONDS, transport.abortConnection)

    def log_refusal(self):
        channel = self.channel
        try:
            self.server.log_action(
                "http",
                "complete",
                {
                    "path": getattr(channel, "_path", b"").decode("ascii", "replace"),
                    "status": 413,
                    "method": getattr(channel, "_command", b"").decode("ascii", "replace"),
                    "client": f"{self.client.host}:{self.client.port}"
                    if hasattr(self.client, "host")
                    else None,
                    "time_taken": 0,
                    "size": 0,
                },
            )
        except Exception:
            logger.error(traceback.format_exc())

    # --- Sending the response at the client's pace ------------------------------------------

    window: SendWindow | None = None

    def send_window(self) -> SendWindow:
        self.window = SendWindow()
        self.registerProducer(self.window, True)
        return self.window

    def finish(self):
        if self.producer is not None:
            self.unregisterProducer()
        super().finish()
        self.close_body()

    # --- Handing the body to the application -----------------------------------------------

    def take_body(self) -> BinaryIO:
        """Twisted's spool file of the body, for `RequestBody` to read from; daphne's copy
        loop in `process` gets an empty stand-in."""
        self.spooled_body, self.content = self.content, io.BytesIO()
        return self.spooled_body

    def close_body(self):
        if self.spooled_body is not None:
            self.spooled_body.close()

    def connectionLost(self, reason):
        if self.window is not None:
            self.window.stopProducing()  # a sender waiting for a client that left
        if self._linger_call is not None and self._linger_call.active():
            self._linger_call.cancel()
        super().connectionLost(reason)
        self.close_body()


class StreamingHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = StreamingWebRequest
        return protocol


class StreamingServer(daphne.server.Server):
    """daphne's Server with `StreamingWebRequest` for HTTP; WebSockets are untouched."""

    # Server.run() sets `self.http_factory = HTTPFactory(self)` and listens with it straight
    # away, with no hook in between: assigning daphne's factory installs ours instead.
    @property
    def http_factory(self) -> HTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        if not isinstance(factory, StreamingHTTPFactory):
            factory = StreamingHTTPFactory(self)
        self._http_factory = factory

    def create_application(self, protocol, scope):
        if scope["type"] != "http" or not isinstance(protocol, StreamingWebRequest):
            return super().create_application(protocol, scope)
        # As daphne's, but `receive` reads the body from its spool file on demand.
        assert "application_instance" not in self.connections[protocol]  # noqa: S101
        events = EventQueue()
        receive = RequestBody(protocol.take_body(), events).receive
        window = protocol.send_window()

        async def send(message):
            await self.handle_reply(protocol, message)
            if message["type"] == "http.response.body" and message.get("more_body"):
                await window.open.wait()

        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(scope=scope, receive=receive, send=send)
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return events


class StreamingDaphneProcess(DaphneProcess):
    """daphne.testing.DaphneProcess serving with `StreamingServer`: the tests' live server."""

    def run(self):
        # As DaphneProcess.run. The forked child needs a reactor of its own, and
        # _reinstall_reactor re-imports daphne.server for it; this module is re-imported too,
        # so that StreamingServer's base (whose `run` uses its module's reactor) is that one.
        _reinstall_reactor()
        sys.modules.pop(__name__, None)
        server_class = importlib.import_module(__name__).StreamingServer
        from twisted.internet import reactor

        application = self.get_application()
        try:
            self.server = server_class(
                application=application,
                endpoints=build_endpoint_description_strings(host=self.host, port=self.port.value),
                signal_handlers=False,
                **self.kwargs,
            )
            reactor.callLater(0.1, self.resolve_port)
            if self.setup is not None:
                self.setup()
            try:
                self.server.run()
            finally:
                if self.teardown is not None:
                    self.teardown()
        except BaseException as exc:
            self.errors.put((exc, traceback.format_exc()))


class StreamingCommandLineInterface(CommandLineInterface):
    """daphne's command line (every option of `daphne --help`), serving with StreamingServer."""

    description = "VideoHost's HTTP/WebSocket server (daphne, streaming request bodies)"
    server_class = StreamingServer

    def __init__(self):
        super().__init__()
        self.parser.prog = "python -m videohost.server"
        # The application is optional here: `python -m videohost.server -b HOST -p PORT`.
        for action in self.parser._actions:
            if action.dest == "application":
                action.nargs = "?"
                action.required = False
                action.default = DEFAULT_APPLICATION


def main(argv: list[str] | None = None) -> None:
    StreamingCommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
