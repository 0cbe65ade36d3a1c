"""Whether the channel layer (Redis pub/sub) works for this process right now.

Redis can go away under open sockets. Publishing is then best-effort (rooms.events): the
change is already in the database, which is the room's truth, and the event is dropped with a
note of the time (`layer_failed`). Sockets stay open; chat is refused rather than stored
unheard, new sockets are asked to come back later, and once the layer answers again each
socket that lived through the failure gets a fresh `room_state` (rooms.consumers), so whatever
the events missed is caught up.

`layer_reachable()` answers from the last round trip through this process's own
subscription — after a Redis restart publishing works at once, but subscriptions come back
only when channels_redis's receiver has reconnected. The round trip goes through one probe
channel subscribed once per event loop and read by a task of its own, so probing never
subscribes or unsubscribes anything while that receiver reconnects.
"""

import asyncio
import logging
import math
import secrets
import time
import weakref

from channels.layers import InMemoryChannelLayer, get_channel_layer

from videohost.outages import note_outage, outage_of

logger = logging.getLogger("videohost.rooms")

# How often each event loop's probe refreshes, and how long its answer may take before the
# round trip counts as lost: generous while all is well (under a storm of connections the
# answer waits its turn behind every other publish and subscribe of the process), short
# while the layer is down (after a restart, early probes are lost until the receiver has
# resubscribed, and the next one should not wait long).
PROBE_INTERVAL = 1.0
ANSWER_TIMEOUT = 10.0
RECOVERY_ANSWER_TIMEOUT = 2.0
# Round trips lost in a row while publishing works before the subscriber connection is reset.
LOST_ROUND_TRIPS_BEFORE_RESET = 2

_last_failure_at = -math.inf  # monotonic time this process last saw the layer fail


def layer_failed(exc: BaseException | None = None, where: str = "the channel layer") -> None:
    global _last_failure_at
    _last_failure_at = time.monotonic()
    if exc is not None:
        note_outage("redis", exc, where)


def layer_failed_since(moment: float) -> bool:
    """Whether this process saw the layer fail after `moment` (monotonic)."""
    return _last_failure_at >= moment


class _Probe:
    """One event loop's probe: its channel, the task reading it, when it last worked."""

    def __init__(self) -> None:
        self.channel: str | None = None
        self.reader: asyncio.Task | None = None
        self.answers: asyncio.Queue = asyncio.Queue()
        self.started_at = -math.inf
        self.worked_at = time.monotonic()  # innocent until a failure says otherwise
        self.pending: asyncio.Task | None = None
        self.lost_round_trips = 0

    @property
    def ok(self) -> bool:
        return self.worked_at > _last_failure_at

    def refresh(self, layer) -> asyncio.Task:
        if self.pending is None:
            self.started_at = time.monotonic()
            self.pending = asyncio.get_running_loop().create_task(
                self.check(layer, self.started_at)
            )
        return self.pending

    async def read(self, layer) -> None:
        while True:
            message = await layer.receive(self.channel)
            self.answers.put_nowait(message.get("token"))

    async def round_trip(self, layer) -> None:
        # No timeouts of ours on the commands: Redis's socket timeouts bound a dead or hung
        # server, and under load a command only waits its turn (channels_redis sends one at
        # a time per connection), which is not an outage.
        if self.channel is None:
            # A publish first: subscribing while Redis is away leaves channels_redis holding
            # the new channel's queue, so subscribe only once Redis answers.
            await layer.group_send("layer_probe", {"type": "layer.probe"})
            self.channel = await layer.new_channel("layer-probe.")
            self.reader = asyncio.get_running_loop().create_task(self.read(layer))
        token = secrets.token_hex(8)
        await layer.send(self.channel, {"type": "layer.probe", "token": token})
        self.lost_round_trips += 1  # until the answer is in
        deadline = time.monotonic() + (ANSWER_TIMEOUT if self.ok else RECOVERY_ANSWER_TIMEOUT)
        while (  # answers to earlier, lost probes may come first
            await asyncio.wait_for(self.answers.get(), max(0.01, deadline - time.monotonic()))
            != token
        ):
            pass
        self.lost_round_trips = 0

    async def check(self, layer, started_at: float) -> None:
        try:
            await self.round_trip(layer)
        except Exception as exc:  # noqa: BLE001 - whatever fails, the layer is not usable now
            layer_failed(exc if outage_of(exc) else None)
            if self.lost_round_trips >= LOST_ROUND_TRIPS_BEFORE_RESET:
                self.lost_round_trips = 0
                await _reset_subscriber(layer)
            elif outage_of(exc) is None and not isinstance(exc, TimeoutError):
                logger.warning("Channel layer probe failed: %s: %s", type(exc).__name__, exc)
            # Keep asking until it works, whether or not anyone asks meanwhile: the sockets'
            # resync waits for it.
            asyncio.get_running_loop().call_later(PROBE_INTERVAL, self.refresh, layer)
        else:
            # Its start, not its end: a failure seen meanwhile is not cleared by a message
            # that may have gone out before it.
            self.worked_at = started_at
        finally:
            self.pending = None


_probes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Probe]" = (
    weakref.WeakKeyDictionary()
)


def layer_reachable() -> bool:
    """Whether the layer works for this process, as last seen: True unless a failure came
    after the last round trip that worked. Never waits: asking starts a round trip in the
    background when the last one is older than PROBE_INTERVAL, so a socket opening under
    load is not held up by it, and a quiet process still notices an outage and its end."""
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return True  # in this process's memory: nothing to lose touch with
    loop = asyncio.get_running_loop()
    probe = _probes.get(loop)
    if probe is None:
        probe = _probes[loop] = _Probe()
    if time.monotonic() - probe.started_at >= PROBE_INTERVAL:
        probe.refresh(layer)
    return probe.ok


async def layer_round_trip() -> bool:
    """Wait for a fresh round trip (tests, and whoever must know now)."""
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return True
    layer_reachable()
    probe = _probes[asyncio.get_running_loop()]
    await asyncio.shield(probe.refresh(layer))
    return probe.ok


async def _reset_subscriber(layer) -> None:
    """Publishing works but this process's subscription hears nothing: after a Redis restart,
    channels_redis's receiver and a subscribe (a socket opening or closing) can reconnect the
    one subscriber connection at the same time — redis-py does not serialise the two — and
    leave the subscriptions on a socket nobody reads. Dropping the connection lets the
    receiver reconnect alone and subscribe everything again. Internals of channels_redis 4
    (pinned in requirements.lock): if they change, this does nothing rather than fail."""
    shards = getattr(getattr(layer, "_get_layer", lambda: None)(), "_shards", ())
    for shard in shards:
        connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
        if connection is not None:
            logger.warning("Channel layer subscription hears nothing: reconnecting it")
            await connection.disconnect()
