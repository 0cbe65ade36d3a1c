"""Idle connections: 2,000 room sockets held on one server process for 60 s.

    .venv/bin/python bench/idle_connections.py                    # 2,000 sockets, 60 s
    .venv/bin/python bench/idle_connections.py --sockets 500 --hold 30
    BENCH_QUICK=1 .venv/bin/python bench/idle_connections.py      # 300 sockets, 20 s

One `python -m videohost.server` process over a throw-away PostgreSQL database and its own
Redis database; `--sockets` users, each with a token, spread over rooms of `--room-size`
(hosted by a channel owner, so no participant cap applies; the hosts stay away). The clients
(`websockets`, one asyncio process) open every socket through the real join path (Bearer
header, Origin), then hold them for `--hold` seconds with heartbeats both ways: each client
sends the protocol's `ping` every 10 s (jittered) and expects its `pong`, and daphne's and
the client library's WebSocket pings run as configured (20 s). Rooms are paused, as most are
most of the time, so what a socket costs is its presence and its periodic tick.

Printed: connect time, every failure (refused or dropped handshakes, unexpected closes,
missing pongs, error frames, errors in the server's log), the pong round trip, the server's
CPU share while holding, and memory per connection: the server's RSS once everything is held
minus its RSS before the first socket (after a warm-up socket), divided by the sockets.
Goal: every socket held for the whole time with no error.
"""

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    QUICK,
    CpuMeter,
    Workspace,
    author_with_video,
    banner,
    create_users,
    load_average,
    percentile,
    raise_nofile,
    ws_connect,
)

REDIS_DB = 10
PING_EVERY = 10.0
PONG_TIMEOUT = 5.0
# Joins in flight at once. Every join is a few database calls on the server process's one
# database thread, and daphne drops a handshake not accepted within 5 s
# (--websocket_connect_timeout): at 20 in flight on a loaded machine a few handshakes were
# dropped (docs/PERFORMANCE.md), so the ramp here is 10.
CONNECT_CONCURRENCY = 10


class Client:
    def __init__(self, url: str, token: str, origin: str):
        self.url, self.token, self.origin = url, token, origin
        self.websocket = None
        self.error: str | None = None
        self.closed_early = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.reader: asyncio.Task | None = None
        self.pongs: list[float] = []
        self.missing_pongs = 0
        self.error_frames = 0
        self.waiting: dict[float, asyncio.Future] = {}

    async def open(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                self.websocket = await ws_connect(self.url, self.token, self.origin).__aenter__()
                first = json.loads(await asyncio.wait_for(self.websocket.recv(), 60))
                if first.get("type") != "room_state":
                    raise RuntimeError(f"first frame: {first.get('type')}")
            except Exception as exc:  # noqa: BLE001 - counted
                self.error = repr(exc)[:200]
                return
        # Read from the start: an unread socket stops reading after 16 frames (the joins of
        # the others), and then misses its keepalive pongs too.
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for message in self.websocket:
                if '"pong"' in message:
                    frame = json.loads(message)
                    waiter = self.waiting.pop(frame.get("t0"), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(time.monotonic())
                elif '"type": "error"' in message:
                    self.error_frames += 1
        except Exception as exc:  # noqa: BLE001 - reported through closed_early
            self.close_reason = f"{exc!r} at {time.monotonic():.1f}"
        self.closed_early = True
        self.close_code = self.websocket.close_code

    async def heartbeat(self, until: float) -> None:
        await asyncio.sleep(random.uniform(0, PING_EVERY))
        while time.monotonic() < until and not self.closed_early:
            t0 = time.monotonic()
            waiter = asyncio.get_running_loop().create_future()
            self.waiting[t0] = waiter
            try:
                await self.websocket.send(json.dumps({"type": "ping", "t0": t0}))
                arrived = await asyncio.wait_for(waiter, PONG_TIMEOUT)
                self.pongs.append((arrived - t0) * 1000)
            except Exception:  # noqa: BLE001 - a missing pong is the failure counted
                self.missing_pongs += 1
                self.waiting.pop(t0, None)
            await asyncio.sleep(PING_EVERY * random.uniform(0.9, 1.1))


async def hold(server, targets, hold_seconds: float, concurrency: int) -> dict:
    gate = asyncio.Semaphore(concurrency)
    # Warm-up: one socket in and out, so that imports and pools are not counted per socket.
    warm = Client(*targets[0])
    await warm.open(gate)
    if warm.websocket is not None:
        await warm.websocket.close()
    await asyncio.sleep(2)
    rss_before = server.rss_kib()
    clients = [Client(*target) for target in targets]
    started = time.monotonic()
    await asyncio.gather(*(client.open(gate) for client in clients))
    connect_seconds = time.monotonic() - started
    held = [client for client in clients if client.error is None]
    await asyncio.sleep(3)  # the last joins' user_joined frames
    rss_connected = server.rss_kib()
    meter = CpuMeter([server.pid])
    until = time.monotonic() + hold_seconds
    samples = []

    async def sample_rss() -> None:
        while time.monotonic() < until:
            samples.append(server.rss_kib())
            await asyncio.sleep(1)

    sampler = asyncio.create_task(sample_rss())
    await asyncio.gather(*(client.heartbeat(until) for client in held))
    await sampler
    cpu = meter.read()[0]
    rss_held = server.rss_kib()
    closed_early = sum(client.closed_early for client in held)
    close_codes = sorted({client.close_code for client in held if client.closed_early}, key=str)
    await asyncio.gather(*(client.websocket.close() for client in held), return_exceptions=True)
    for client in held:
        client.reader.cancel()
    pongs = [rtt for client in clients for rtt in client.pongs]
    return {
        "sockets": len(targets),
        "connect_seconds": connect_seconds,
        "failed_connects": [client.error for client in clients if client.error],
        "closed_early": closed_early,
        "close_codes": close_codes,
        "missing_pongs": sum(client.missing_pongs for client in clients),
        "error_frames": sum(client.error_frames for client in clients),
        "pongs": len(pongs),
        "pong_p50": percentile(pongs, 0.5),
        "pong_p99": percentile(pongs, 0.99),
        "pong_max": max(pongs, default=float("nan")),
        "cpu": cpu,
        "rss_before": rss_before,
        "rss_connected": rss_connected,
        "rss_held": rss_held,
        "rss_peak": max(samples, default=rss_held),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=300 if QUICK else 2000)
    parser.add_argument("--hold", type=float, default=20 if QUICK else 60)
    parser.add_argument("--room-size", type=int, default=100)
    parser.add_argument("--connect-concurrency", type=int, default=CONNECT_CONCURRENCY)
    args = parser.parse_args()
    banner("Idle connections: sockets held on one server process")
    limit = raise_nofile()
    print(f"RLIMIT_NOFILE {limit}; {args.sockets} sockets in rooms of {args.room_size};")
    print(
        f"{args.connect_concurrency} joins in flight while connecting; held {args.hold:.0f} s; "
        f"protocol ping every {PING_EVERY:.0f} s per socket\n"
    )
    with Workspace("idle", redis_db=REDIS_DB) as work:
        work.use_django()
        from rooms import services

        host, _, video = author_with_video("bench-host")
        _, tokens = create_users("bench-idle-", args.sockets)
        rooms = [
            services.room_create(user=host, video_id=video.pk, max_participants=None)
            for _ in range(-(-args.sockets // args.room_size))
        ]
        server = work.start_server()
        targets = [
            (f"{server.ws_url}/ws/rooms/{rooms[i // args.room_size].pk}/", token, server.url)
            for i, token in enumerate(tokens)
        ]
        result = asyncio.run(hold(server, targets, args.hold, args.connect_concurrency))
        errors = server.errors()
        alive = server.process.poll() is None
    held = result["sockets"] - len(result["failed_connects"])
    per_socket = (result["rss_held"] - result["rss_before"]) / max(1, held)
    rate = held / result["connect_seconds"]
    print(
        f"connected:        {held} / {result['sockets']} in {result['connect_seconds']:.1f} s "
        f"({rate:.1f} joins/s)"
    )
    if result["failed_connects"]:
        print(f"  failed: {len(result['failed_connects'])}, e.g. {result['failed_connects'][0]}")
    print(f"closed early:     {result['closed_early']} (close codes {result['close_codes']})")
    pings = result["pongs"] + result["missing_pongs"]
    print(f"missing pongs:    {result['missing_pongs']} of {pings}")
    print(f"error frames:     {result['error_frames']}")
    print(f"server log:       {len(errors)} errors; process {'alive' if alive else 'DEAD'}")
    for line in errors[:5]:
        print("  " + line.rstrip())
    print(
        f"pong round trip:  p50 {result['pong_p50']:.1f} ms, p99 {result['pong_p99']:.1f} ms, "
        f"max {result['pong_max']:.1f} ms"
    )
    print(f"server CPU held:  {result['cpu'] * 100:.0f}% of one core")
    print(
        f"server RSS:       {result['rss_before'] / 1024:.1f} MiB before, "
        f"{result['rss_connected'] / 1024:.1f} MiB connected, "
        f"{result['rss_held'] / 1024:.1f} MiB after the hold (peak {result['rss_peak'] / 1024:.1f})"
    )
    print(f"memory per socket: {per_socket:.1f} KiB")
    ok = (
        held == result["sockets"]
        and not result["closed_early"]
        and not result["missing_pongs"]
        and not result["error_frames"]
        and not errors
        and alive
    )
    print(f"goal ({result['sockets']} held, no error): {'PASS' if ok else 'MISS'}")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
