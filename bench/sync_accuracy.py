"""Sync accuracy: how far simulated players are from the room's true position 5 s after a seek.

    .venv/bin/python bench/sync_accuracy.py                   # 20 clients, 10 seeks per model
    .venv/bin/python bench/sync_accuracy.py --seeks 20
    BENCH_QUICK=1 .venv/bin/python bench/sync_accuracy.py     # 3 seeks per model

Against the real server: one `python -m videohost.server` process (PostgreSQL and Redis of
its own), one room playing, its host on a plain socket with the true clock. `--clients`
guests connect over real WebSockets, each with

- a clock offset drawn from ±2 s (its `Date.now()` is the true time plus the offset), and
- a one-way delay on every frame both ways, applied in the client in arrival order (a TCP
  stream does not reorder), drawn from 20–200 ms by one of two models:
  `jitter`, every frame its own delay; `asymmetric`, a fixed delay per client and
  direction (the case NTP-style sync cannot see: the error is half the difference).

Each guest runs the room page's sync loop (static/js/room.js with static/js/room_sync.js,
which mirror rooms/sync.py; the maths here *is* rooms/sync.py): `ping` 3× on join 400 ms
apart and every 30 s, the clock offset from the sample with the smallest round trip of the
last 8 (`clock_offset`), `sync_request` every 5 s, a tick every 250 ms and on every event
applying `drift_decision` (nudge the rate up to ±5% for 0.05–2 s of drift, hard seek above
or for a `seek_event` more than 0.25 s away, then 1.5 s of settling), events dropped by
`seq`. The player is simulated: its position advances with the true clock × its
playbackRate, and a seek stalls it for 20–100 ms (the time a browser takes to resume at a
buffered position), during which ticks wait as room.js does while `video.seeking`. A hard
seek in a playing room is held as room.js holds it: the player waits, paused, for twice the
expected seek and at least 120 ms (`seek_hold`), then plays from where the room is by then,
or as soon as the seek is done if it took longer.

The host seeks to a random position every 6–8 s; the true position is the server's own
state (from a `sync_request` right after the seek): `position + (t − server_time) × rate`.
At `server_time + 5 s` every guest's position is compared with it. Printed per model: max
and p95 of |client − true| over every guest and seek (goal ≤ 100 ms), and the clock offsets'
estimation errors.
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
    Workspace,
    author_with_video,
    banner,
    create_users,
    load_average,
    percentile,
    ws_connect,
)

from rooms.sync import (  # noqa: E402
    CLOCK_SAMPLES,
    DRIFT_TOLERANCE,
    PlaybackState,
    clock_offset,
    current_position,
    drift_decision,
    seek_hold,
    seek_latency_estimate,
)

REDIS_DB = 11
GOAL_MS = 100.0
MEASURE_AFTER = 5.0
MAX_OFFSET = 2.0
DELAY_RANGE = (0.020, 0.200)
SEEK_STALL = (0.020, 0.100)
# static/js/room.js and room_sync.js
TICK = 0.250
SYNC_REQUEST_EVERY = 5.0
PING_EVERY = 30.0
JOIN_PINGS = 3
JOIN_PING_SPACING = 0.400
SETTLE_SECONDS = 1.5
SEEK_EVENT_TOLERANCE = 0.25
CONTROL_EVENTS = {"play_event", "pause_event", "seek_event", "rate_event"}


def state_from(frame: dict) -> PlaybackState:
    return PlaybackState(
        position=float(frame["position"]),
        is_playing=bool(frame["is_playing"]),
        rate=float(frame["rate"]),
        server_time=float(frame["server_time"]),
        seq=int(frame["seq"]),
    )


class DelayedLink:
    """A socket whose frames each way arrive a drawn delay late, in order."""

    def __init__(self, websocket, delay_up, delay_down):
        self.websocket = websocket
        self.delay_up, self.delay_down = delay_up, delay_down
        self.outgoing: asyncio.Queue = asyncio.Queue()
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.last_out = self.last_in = 0.0
        self.tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._receive())]

    def send(self, frame: dict) -> None:
        self.last_out = max(self.last_out, time.monotonic() + self.delay_up())
        self.outgoing.put_nowait((self.last_out, json.dumps(frame)))

    async def _send(self) -> None:
        while True:
            at, text = await self.outgoing.get()
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            await self.websocket.send(text)

    async def _receive(self) -> None:
        async for text in self.websocket:
            self.last_in = max(self.last_in, time.monotonic() + self.delay_down())
            self.incoming.put_nowait((self.last_in, text))

    async def frames(self):
        while True:
            at, text = await self.incoming.get()
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            yield json.loads(text)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()


class SimulatedGuest:
    """room.js's sync loop over a simulated <video>, on a clock `offset` seconds off."""

    def __init__(self, offset: float, link: DelayedLink, rng: random.Random):
        self.offset = offset
        self.link = link
        self.rng = rng
        self.samples: list[tuple[float, float, float]] = []
        self.estimate = 0.0  # server − client, as the client believes
        self.state: PlaybackState | None = None
        self.last_seq = -1
        self.settling_until = 0.0
        self.force_hard = False
        # The player, in true time: position `pos` at `at`, frozen until `stalled_until`.
        self.pos = 0.0
        self.at = time.time()
        self.stalled_until = 0.0
        self.held_until = 0.0  # a held seek (room.js `hold`) plays from then on
        self.seek_started: float | None = None
        self.seek_latency = 0.0
        self.paused = True
        self.rate = 1.0
        self.tasks: list[asyncio.Task] = []

    # --- clocks and the player -------------------------------------------------------------

    def client_now(self) -> float:
        return time.time() + self.offset

    def server_now(self) -> float:
        return self.client_now() + self.estimate

    def position(self, t: float | None = None) -> float:
        t = time.time() if t is None else t
        if self.paused:
            return self.pos
        return (
            self.pos + max(0.0, t - max(self.at, self.stalled_until, self.held_until)) * self.rate
        )

    def _rebase(self) -> None:
        now = time.time()
        self.pos, self.at = self.position(now), now

    def set_rate(self, rate: float) -> None:
        if abs(self.rate - rate) > 1e-9:
            self._rebase()
            self.rate = rate

    def seek_player(self, target: float) -> None:
        self._rebase()
        self.pos = target
        self.stalled_until = self.at + self.rng.uniform(*SEEK_STALL)

    def set_paused(self, paused: bool) -> None:
        if self.paused != paused:
            self._rebase()
            self.paused = paused

    # --- room.js ------------------------------------------------------------------------------

    def hard_seek(self, target: float) -> None:
        self.settling_until = self.server_now() + SETTLE_SECONDS
        self.set_rate(self.state.rate)
        # room.js: a playing player holds the seek and plays from where the room will be at a
        # set moment (`seek_hold`).
        hold = seek_hold(self.seek_latency) if self.state.is_playing else 0.0
        if abs(self.position() - target) > DRIFT_TOLERANCE:
            self.seek_player(target + hold * self.state.rate)
            self.held_until = self.at + hold
            self.seek_started = time.time()
        self.set_paused(not self.state.is_playing)

    def tick(self, hard: bool = False) -> None:
        if hard:
            self.force_hard = True
        if self.state is None or time.time() < max(self.stalled_until, self.held_until):
            return  # no state yet, or the player is still seeking or holding its seek
        if self.seek_started is not None:
            # room.js's `seeked` handler: how long that seek took, for the next one.
            self.seek_latency = seek_latency_estimate(
                self.seek_latency, self.stalled_until - self.seek_started
            )
            self.seek_started = None
        hard, self.force_hard = self.force_hard, False
        now = self.server_now()
        local = self.position()
        decision = drift_decision(
            local_position=local,
            local_paused=self.paused,
            state=self.state,
            now=now,
            settling_until=0.0 if hard else self.settling_until,
        )
        if decision.action == "seek" or (
            hard and abs(decision.target - local) > SEEK_EVENT_TOLERANCE
        ):
            self.hard_seek(decision.target)
        elif decision.action == "nudge":
            self.set_rate(self.state.rate * decision.rate)
        else:
            self.set_rate(self.state.rate)

    def handle(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "room_state":
            self.state = state_from(frame["state"])
            self.last_seq = self.state.seq
            self.settling_until = 0.0
            self.start_timers()
            self.tick(hard=True)
        elif kind in CONTROL_EVENTS:
            state = state_from(frame)
            if self.state is None or state.seq <= self.last_seq:
                return
            self.state, self.last_seq = state, state.seq
            self.tick(hard=kind == "seek_event")
        elif kind == "state_sync":
            state = state_from(frame)
            if self.state is None or state.seq < self.last_seq:
                return
            self.state, self.last_seq = state, state.seq
            self.tick()
        elif kind == "pong":
            t1 = self.client_now()
            self.samples = [*self.samples, (float(frame["t0"]), frame["server_time"], t1)]
            self.samples = self.samples[-CLOCK_SAMPLES:]
            self.estimate = clock_offset(self.samples)
            if len(self.samples) == 1:
                self.tick(hard=True)

    def start_timers(self) -> None:
        async def pings() -> None:
            for _ in range(JOIN_PINGS):
                self.link.send({"type": "ping", "t0": self.client_now()})
                await asyncio.sleep(JOIN_PING_SPACING)
            while True:
                await asyncio.sleep(PING_EVERY - JOIN_PINGS * JOIN_PING_SPACING)
                self.link.send({"type": "ping", "t0": self.client_now()})

        async def every(seconds: float, action) -> None:
            while True:
                await asyncio.sleep(seconds)
                action()

        self.tasks += [
            asyncio.create_task(pings()),
            asyncio.create_task(
                every(SYNC_REQUEST_EVERY, lambda: self.link.send({"type": "sync_request"}))
            ),
            asyncio.create_task(every(TICK, self.tick)),
        ]

    async def run(self) -> None:
        async for frame in self.link.frames():
            self.handle(frame)

    def clock_error(self) -> float:
        """How far the client's estimate of the server's clock is off, in seconds."""
        return abs(self.estimate - (-self.offset))


async def measure(server, room_id, host_token, tokens, *, model: str, seeks: int, seed: int):
    rng = random.Random(seed)
    url = f"{server.ws_url}/ws/rooms/{room_id}/"
    guests: list[SimulatedGuest] = []
    sockets = []
    errors: list[float] = []
    async with ws_connect(url, host_token, server.url) as host:
        host_frames: asyncio.Queue = asyncio.Queue()

        async def host_reader() -> None:
            async for text in host:
                host_frames.put_nowait(json.loads(text))

        reader = asyncio.create_task(host_reader())
        await host.send(json.dumps({"type": "play", "position": 10.0}))
        for token in tokens:
            if model == "jitter":

                def up(r=rng):
                    return r.uniform(*DELAY_RANGE)

                down = up
            else:
                fixed_up, fixed_down = rng.uniform(*DELAY_RANGE), rng.uniform(*DELAY_RANGE)

                def up(d=fixed_up):
                    return d

                def down(d=fixed_down):
                    return d

            websocket = await ws_connect(url, token, server.url).__aenter__()
            sockets.append(websocket)
            guest = SimulatedGuest(rng.uniform(-MAX_OFFSET, MAX_OFFSET), None, rng)
            guest.link = DelayedLink(websocket, up, down)
            guest.tasks.append(asyncio.create_task(guest.run()))
            guests.append(guest)
        await asyncio.sleep(6)  # joined, clocks synced, players caught up
        for _ in range(seeks):
            target = round(rng.uniform(100, 3000), 3)
            await host.send(json.dumps({"type": "seek", "position": target}))
            await host.send(json.dumps({"type": "sync_request"}))
            while True:
                frame = await asyncio.wait_for(host_frames.get(), 10)
                if (
                    frame.get("type") == "state_sync"
                    and abs(current_position(state_from(frame), now=frame["server_time"]) - target)
                    < 1
                ):
                    truth = state_from(frame)
                    break
            moment = truth.server_time + MEASURE_AFTER
            await asyncio.sleep(max(0.0, moment - time.time()))
            true_position = current_position(truth, now=moment)
            errors += [abs(guest.position(moment) - true_position) * 1000 for guest in guests]
            await asyncio.sleep(rng.uniform(1, 3))
        clock_errors = [guest.clock_error() * 1000 for guest in guests]
        reader.cancel()
    for guest in guests:
        for task in guest.tasks:
            task.cancel()
        guest.link.close()
    await asyncio.gather(*(websocket.close() for websocket in sockets), return_exceptions=True)
    return {
        "model": model,
        "samples": len(errors),
        "max": max(errors),
        "p95": percentile(errors, 0.95),
        "p50": percentile(errors, 0.50),
        "clock_p50": percentile(clock_errors, 0.50),
        "clock_max": max(clock_errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seeks", type=int, default=3 if QUICK else 10)
    parser.add_argument("--models", nargs="+", default=["jitter", "asymmetric"])
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    banner("Sync accuracy: |client − true position| 5 s after a seek")
    print(
        f"{args.clients} clients, clock offsets within ±{MAX_OFFSET:.0f} s, one-way delays "
        f"{DELAY_RANGE[0] * 1000:.0f}–{DELAY_RANGE[1] * 1000:.0f} ms, seek stall "
        f"{SEEK_STALL[0] * 1000:.0f}–{SEEK_STALL[1] * 1000:.0f} ms; {args.seeks} seeks per "
        f"model; the real server (one process, PostgreSQL, Redis)\n"
    )
    results = []
    with Workspace("sync", redis_db=REDIS_DB) as work:
        work.use_django()
        from rooms import services

        host, host_token, video = author_with_video("bench-host")
        _, tokens = create_users("bench-sync-", args.clients)
        rooms = [
            services.room_create(user=host, video_id=video.pk, max_participants=None)
            for _ in args.models
        ]
        server = work.start_server()
        for model, room in zip(args.models, rooms, strict=True):
            results.append(
                asyncio.run(
                    measure(
                        server,
                        room.pk,
                        host_token,
                        tokens,
                        model=model,
                        seeks=args.seeks,
                        seed=args.seed,
                    )
                )
            )
        errors = server.errors()
    print("  model        samples   p50 ms   p95 ms   max ms   clock error p50 / max ms   goal")
    for result in results:
        verdict = "PASS" if result["max"] <= GOAL_MS and result["p95"] <= GOAL_MS else "MISS"
        print(
            f"  {result['model']:<12} {result['samples']:>7} {result['p50']:8.1f} "
            f"{result['p95']:8.1f} {result['max']:8.1f}   {result['clock_p50']:10.1f} / "
            f"{result['clock_max']:6.1f}          {verdict}"
        )
    print(f"server errors logged: {len(errors)}")
    print(f"goal: max and p95 ≤ {GOAL_MS:.0f} ms; load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
