"""Group fan-out latency of the two channels_redis layers, measured in one run.

A watch room is one channel-layer group; every control event, chat message and state change
is one `group_send` to it. This measures how long a `group_send` takes to reach every member:

    .venv/bin/python bench/channel_layer.py                       # 10 and 50 receivers
    .venv/bin/python bench/channel_layer.py --receivers 10 100 --messages 300

For each layer and group size it runs two bounded loops over the local Redis (db 2 by
default, its keys are prefixed and left to expire):

- latency: one message at a time, waiting until every receiver has it; per message the time
  until the *last* receiver got it (what a room's slowest member sees), p50 and p99;
- burst: `--messages` messages sent back to back; the time until every receiver has all of
  them, as messages per second (a busy room: chat plus seeks).

The receivers are spread over `--processes` layer instances, each standing for one server
process (its own connections, its own receive loop), as in production, where a room's
sockets sit on several daphne processes; the sender has its own instance. Only 127.0.0.1.
"""

import argparse
import asyncio
import statistics
import sys
import time
import uuid

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

LAYERS = {
    "core (RedisChannelLayer)": RedisChannelLayer,
    "pubsub (RedisPubSubChannelLayer)": RedisPubSubChannelLayer,
}
# Every wait is bounded: a lost message fails the run instead of hanging it.
DELIVERY_TIMEOUT = 10.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Receiver:
    """One socket's consumer: a channel in the group, reading as a consumer does."""

    def __init__(self, layer, channel: str):
        self.layer = layer
        self.channel = channel
        self.arrivals: dict[int, float] = {}
        self.waiters: dict[int, asyncio.Event] = {}
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            self.arrivals[message["n"]] = time.perf_counter()
            event = self.waiters.get(message["n"])
            if event is not None:
                event.set()

    def expect(self, n: int) -> asyncio.Event:
        event = self.waiters.setdefault(n, asyncio.Event())
        if n in self.arrivals:
            event.set()
        return event


async def measure(layer_class, *, url: str, receivers: int, messages: int, processes: int):
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    config = {"hosts": [url], "prefix": prefix}
    sender = layer_class(**config)
    instances = [layer_class(**config) for _ in range(processes)]
    group = f"room_{uuid.uuid4().hex[:8]}"
    members = []
    for index in range(receivers):
        layer = instances[index % processes]
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        members.append(Receiver(layer, channel))
    for member in members:
        member.task = asyncio.create_task(member.run())

    async def send_and_wait(n: int) -> float:
        waits = [member.expect(n) for member in members]
        sent = time.perf_counter()
        await sender.group_send(group, {"type": "room.event", "n": n, "text": f'{{"seq": {n}}}'})
        await asyncio.wait_for(asyncio.gather(*(w.wait() for w in waits)), DELIVERY_TIMEOUT)
        return max(member.arrivals[n] for member in members) - sent

    try:
        for n in range(-20, 0):  # warm-up: connections, subscriptions, scripts
            await send_and_wait(n)
        latencies = [await send_and_wait(n) for n in range(messages)]

        base = 1_000_000
        waits = [member.expect(base + messages - 1) for member in members]
        start = time.perf_counter()
        for n in range(base, base + messages):
            await sender.group_send(
                group, {"type": "room.event", "n": n, "text": f'{{"seq": {n}}}'}
            )
        await asyncio.wait_for(asyncio.gather(*(w.wait() for w in waits)), DELIVERY_TIMEOUT)
        burst_seconds = time.perf_counter() - start
        # The core layer's per-channel queues are capped (capacity 100 by default) and drop
        # the oldest when full, so count what really arrived.
        arrived = sum(sum(1 for n in member.arrivals if n >= base) for member in members)
        delivered = arrived / (receivers * messages)
    finally:
        for member in members:
            member.task.cancel()
        await asyncio.gather(*(m.task for m in members), return_exceptions=True)
        for member in members:
            await member.layer.group_discard(group, member.channel)
        for layer in [sender, *instances]:
            await layer.flush()  # the run's keys (core) or subscriptions (pubsub)
    return {
        "p50": statistics.median(latencies) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "burst_rate": messages / burst_seconds,
        "delivered": delivered,
    }


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--receivers", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.redis.startswith(("redis://127.0.0.1", "redis://localhost", "unix://")):
        parser.error("the benchmark only talks to a local Redis")

    print(
        f"group_send fan-out over {args.redis}, {args.messages} messages per loop, "
        f"receivers over {args.processes} layer instances\n"
    )
    header = f"{'layer':34} {'recv':>5} {'p50 ms':>8} {'p99 ms':>8} {'burst msg/s':>12} {'kept':>6}"
    print(header)
    print("-" * len(header))
    results = {}
    for receivers in args.receivers:
        for name, layer_class in LAYERS.items():
            result = await measure(
                layer_class,
                url=args.redis,
                receivers=receivers,
                messages=args.messages,
                processes=args.processes,
            )
            results[name, receivers] = result
            print(
                f"{name:34} {receivers:5d} {result['p50']:8.2f} {result['p99']:8.2f} "
                f"{result['burst_rate']:12.0f} {result['delivered']:6.0%}"
            )
    print()
    core, pubsub = LAYERS
    for receivers in args.receivers:
        a, b = results[core, receivers], results[pubsub, receivers]
        print(
            f"{receivers:4d} receivers: core/pubsub latency p50 x{a['p50'] / b['p50']:.2f}, "
            f"p99 x{a['p99'] / b['p99']:.2f}; burst rate pubsub/core "
            f"x{b['burst_rate'] / a['burst_rate']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
