"""Room fan-out: the delay from the host's `seek` to each guest's `seek_event`.

    .venv/bin/python bench/room_fanout.py                       # N = 10, 100, 500; 50 seeks
    .venv/bin/python bench/room_fanout.py --guests 10 100 --seeks 100
    BENCH_QUICK=1 .venv/bin/python bench/room_fanout.py         # N = 10, 50; 20 seeks

Two `python -m videohost.server` processes share a Redis database (the pub/sub channel layer)
and a throw-away PostgreSQL database (migrated first). One room, its host a channel owner
(no participant cap); the guests are spread evenly over both processes and the host sits on
the first. For each N the host sends `seek` frames one at a time (each with a position of its
own), waits until every guest has the `seek_event` (or 10 s), pauses 50–150 ms, and sends the
next; the first few are a warm-up and not counted. A guest's delay is its arrival time minus
the host's send time: every client is on this machine, in processes sharing one
CLOCK_MONOTONIC, so no clock sync is involved.

Baseline, same clients and N: a minimal broadcast server written with the `websockets`
package (one process; each message relayed verbatim to every other connection). Printed: p50
and p99 of the guests' delays per N, the delay of the *last* guest of each seek, ours /
baseline, and the goal (p99 ≤ 50 ms at N = 100, ratio ≤ 3).

The clients (`websockets`, compression off on both sides, as daphne does not negotiate it)
run in `--client-processes` processes beside the host's, so that one Python process
decoding every guest's frames does not become the bottleneck; each reports its CPU share and
its event loop's lag while seeks run, which says whether the clients kept up.
"""

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    PYTHON,
    QUICK,
    CpuMeter,
    ServerProcess,
    Workspace,
    author_with_video,
    banner,
    create_users,
    load_average,
    percentile,
    raise_nofile,
    ws_connect,
)

GOAL_P99_MS = 50.0
GOAL_AT_N = 100
GOAL_RATIO = 3.0
WARMUP_SEEKS = 5
SEEK_TIMEOUT = 10.0
CONNECT_CONCURRENCY = 16
REDIS_DB = 8


# --- The baseline: a minimal broadcast server -------------------------------------------------


async def serve_baseline(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    connections = set()

    async def relay(websocket) -> None:
        connections.add(websocket)
        try:
            async for message in websocket:
                broadcast([other for other in connections if other is not websocket], message)
        finally:
            connections.discard(websocket)

    async with serve(relay, "127.0.0.1", port, compression=None, max_size=2**20):
        await asyncio.get_running_loop().create_future()


# --- Clients --------------------------------------------------------------------------------


def guest_worker(conn, targets: list[tuple[str, str, str]], expects_state: bool) -> None:
    """One client process: its share of the guests, each recording when a seek reaches it."""
    asyncio.run(_guest_worker(conn, targets, expects_state))


async def _guest_worker(conn, targets, expects_state) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    arrivals: list[tuple[float, float]] = []
    counts: dict[float, int] = defaultdict(int)
    total = len(targets)
    opened = 0
    failures: list[str] = []
    all_open = asyncio.Event()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets = []

    async def guest(url: str, token: str, origin: str) -> None:
        nonlocal opened
        try:
            async with gate:
                websocket = await ws_connect(url, token, origin).__aenter__()
                if expects_state:
                    first = json.loads(await websocket.recv())
                    if first.get("type") != "room_state":
                        raise RuntimeError(f"first frame {first.get('type')}")
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failures.append(repr(exc))
            opened += 1
            if opened == total:
                all_open.set()
            return
        sockets.append(websocket)
        opened += 1
        if opened == total:
            all_open.set()
        try:
            async for message in websocket:
                # Only seeks are decoded: the other frames (user_joined…) cost a substring test.
                if '"seek' not in message:
                    continue
                now = time.monotonic()
                key = round(json.loads(message)["position"], 3)
                arrivals.append((key, now))
                counts[key] += 1
                if counts[key] == total - len(failures):
                    conn.send(("done", key))
        except Exception:  # noqa: BLE001, S110 - closed at the end, or by room_closed
            pass

    tasks = [asyncio.create_task(guest(*target)) for target in targets]
    await all_open.wait()
    conn.send(("ready", len(sockets), failures[:5], len(failures)))
    lags: list[float] = []
    probing = False

    async def lag_probe() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            if probing:
                lags.append(time.monotonic() - before - 0.005)

    probe = asyncio.create_task(lag_probe())
    while True:
        command = await commands.get()
        if command == "measure":
            probing = True
        elif command == "stop":
            probing = False
            conn.send(("lag", percentile(lags, 0.99), max(lags, default=0.0)))
        elif command == "close":
            break
    probe.cancel()
    await asyncio.gather(*(websocket.close() for websocket in sockets), return_exceptions=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(("arrivals", arrivals))
    loop.remove_reader(conn.fileno())


class Workers:
    """The client processes of one measurement, and the host's end of their pipes."""

    def __init__(self, targets: list[tuple[str, str, str]], count: int, expects_state: bool):
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        self.inbox: list[asyncio.Queue] = []
        shares = [targets[i::count] for i in range(count)]
        for share in shares:
            if not share:
                continue
            here, there = context.Pipe()
            process = context.Process(target=guest_worker, args=(there, share, expects_state))
            process.start()
            self.pipes.append(here)
            self.processes.append(process)
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            queue: asyncio.Queue = asyncio.Queue()
            loop.add_reader(pipe.fileno(), self._read, pipe, queue)
            self.inbox.append(queue)

    @staticmethod
    def _read(pipe, queue: asyncio.Queue) -> None:
        try:
            queue.put_nowait(pipe.recv())
        except EOFError:  # the worker has finished
            asyncio.get_running_loop().remove_reader(pipe.fileno())

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def send(self, command) -> None:
        for pipe in self.pipes:
            pipe.send(command)

    async def expect(self, kind: str, timeout: float) -> list[tuple]:
        answers = []
        for queue in self.inbox:
            while True:
                answer = await asyncio.wait_for(queue.get(), timeout)
                if answer[0] == kind:
                    answers.append(answer)
                    break
        return answers

    async def wait_done(self, key: float, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for queue in self.inbox:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    answer = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    return False
                if answer[0] == "done" and answer[1] == key:
                    break
        return True

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            loop.remove_reader(pipe.fileno())
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join()


async def measure(
    *,
    label: str,
    host_target: tuple[str, str | None, str],
    guest_targets: list[tuple[str, str, str]],
    expects_state: bool,
    server_pids: list[int],
    seeks: int,
    client_processes: int,
    close_frame: dict | None,
) -> dict:
    n = len(guest_targets)
    workers = Workers(guest_targets, client_processes, expects_state)
    started = time.monotonic()
    host_url, host_token, host_origin = host_target
    async with ws_connect(host_url, host_token, host_origin) as host:
        drain = asyncio.create_task(_drain(host))
        ready = await workers.expect("ready", timeout=600)
        connected = sum(answer[1] for answer in ready)
        failed = sum(answer[3] for answer in ready)
        connect_seconds = time.monotonic() - started
        if failed:
            print(f"  {label}: {failed} guests failed to connect, e.g. {ready[0][2]}")
        # Let the joins' user_joined frames drain before the first seek.
        await asyncio.sleep(2 + n / 250)
        sends: dict[float, float] = {}
        lost_seeks = 0
        meter = None
        workers.send("measure")
        for k in range(WARMUP_SEEKS + seeks):
            if k == WARMUP_SEEKS:
                meter = CpuMeter([*server_pids, *workers.pids])
            key = round(100.0 + k * 1.5 + random.random() / 10, 3)
            sent_at = time.monotonic()
            await host.send(json.dumps({"type": "seek", "position": key}))
            if k >= WARMUP_SEEKS:
                sends[key] = sent_at
            if not await workers.wait_done(key, SEEK_TIMEOUT):
                lost_seeks += 1
            await asyncio.sleep(random.uniform(0.05, 0.15))
        cpu = meter.read()
        workers.send("stop")
        lags = await workers.expect("lag", timeout=30)
        if close_frame is not None:
            await host.send(json.dumps(close_frame))
            await asyncio.sleep(1 + n / 500)
        drain.cancel()
    workers.send("close")
    results = await workers.expect("arrivals", timeout=120)
    workers.close()
    delays: list[float] = []
    last: dict[float, float] = {}
    received = 0
    for answer in results:
        for key, at in answer[1]:
            if key in sends:
                delay = (at - sends[key]) * 1000
                delays.append(delay)
                last[key] = max(last.get(key, 0.0), delay)
                received += 1
    expected = connected * seeks
    return {
        "label": label,
        "n": n,
        "connected": connected,
        "connect_seconds": connect_seconds,
        "p50": percentile(delays, 0.50),
        "p99": percentile(delays, 0.99),
        "max": max(delays, default=float("nan")),
        "last_p50": percentile(list(last.values()), 0.50),
        "last_p99": percentile(list(last.values()), 0.99),
        "lost": expected - received,
        "lost_seeks": lost_seeks,
        "server_cpu": cpu[: len(server_pids)],
        "client_cpu": cpu[len(server_pids) :],
        "client_lag_p99": max(answer[1] for answer in lags) * 1000,
    }


async def _drain(websocket) -> None:
    try:
        async for _ in websocket:
            pass
    except Exception:  # noqa: BLE001, S110 - the socket closes at the end
        pass


def print_row(result: dict) -> None:
    servers = "+".join(f"{share * 100:.0f}%" for share in result["server_cpu"])
    clients = "+".join(f"{share * 100:.0f}%" for share in result["client_cpu"])
    print(
        f"  {result['n']:>4}  {result['label']:<10} {result['p50']:7.1f} {result['p99']:7.1f} "
        f"{result['max']:7.1f}   {result['last_p50']:6.1f} / {result['last_p99']:6.1f}   "
        f"{result['lost']:>4}   {servers:>9}  {clients:>9}  {result['client_lag_p99']:6.1f}"
        f"   {result['connect_seconds']:5.1f}",
        flush=True,
    )


def run(args) -> list[tuple[dict, dict]]:
    limit = raise_nofile()
    print(f"RLIMIT_NOFILE {limit}; {args.seeks} seeks per N after {WARMUP_SEEKS} warm-up ones;")
    print(f"{args.client_processes} client processes (+ the host's)\n")
    with Workspace("fanout", redis_db=REDIS_DB) as work:
        work.use_django()
        from rooms import services

        host, host_token, video = author_with_video("bench-host")
        _, tokens = create_users("bench-guest-", max(args.guests))
        # One room per N, so that the guests of one measurement are not in the next.
        rooms = [
            services.room_create(user=host, video_id=video.pk, max_participants=None)
            for _ in args.guests
        ]
        ours = [work.start_server(), work.start_server()]
        baseline = ServerProcess([PYTHON, __file__, "--baseline-server"], work.env())
        work.servers.append(baseline)
        print(f"server pids: ours {[s.pid for s in ours]}, baseline {baseline.pid}\n", flush=True)
        pairs = asyncio.run(measure_all(args, ours, baseline, rooms, host_token, tokens))
        errors = [line for server in ours for line in server.errors()]
        print(f"\nserver errors logged: {len(errors)}")
        for line in errors[:10]:
            print("  " + line.rstrip())
    return pairs


async def measure_all(args, ours, baseline, rooms, host_token, tokens):
    print(
        "     N  server         p50     p99     max  last guest p50/p99  lost  "
        "server CPU  client CPU  lag p99  connect"
    )
    print(
        "                        ms      ms      ms           ms                "
        "                            ms        s"
    )
    pairs = []
    for n, room in zip(args.guests, rooms, strict=True):
        path = f"/ws/rooms/{room.pk}/"
        targets = [(ours[i % 2].ws_url + path, tokens[i], ours[i % 2].url) for i in range(n)]
        mine = await measure(
            label="videohost",
            host_target=(ours[0].ws_url + path, host_token, ours[0].url),
            guest_targets=targets,
            expects_state=True,
            server_pids=[server.pid for server in ours],
            seeks=args.seeks,
            client_processes=args.client_processes,
            close_frame={"type": "leave"},
        )
        print_row(mine)
        plain = [(baseline.ws_url + "/", "", baseline.url)] * n
        theirs = await measure(
            label="baseline",
            host_target=(baseline.ws_url + "/", None, baseline.url),
            guest_targets=plain,
            expects_state=False,
            server_pids=[baseline.pid],
            seeks=args.seeks,
            client_processes=args.client_processes,
            close_frame=None,
        )
        print_row(theirs)
        pairs.append((mine, theirs))
    return pairs


def report(pairs: list[tuple[dict, dict]]) -> None:
    print("\nours / baseline (goal ≤ 3):")
    for mine, theirs in pairs:
        p50 = mine["p50"] / theirs["p50"]
        p99 = mine["p99"] / theirs["p99"]
        verdict = "PASS" if p99 <= GOAL_RATIO and p50 <= GOAL_RATIO else "MISS"
        print(f"  N = {mine['n']:>4}: p50 {p50:5.2f}×, p99 {p99:5.2f}×   {verdict}")
    at_goal = [mine for mine, _ in pairs if mine["n"] == GOAL_AT_N]
    if at_goal:
        p99 = at_goal[0]["p99"]
        verdict = "PASS" if p99 <= GOAL_P99_MS else "MISS"
        print(f"p99 at N = {GOAL_AT_N}: {p99:.1f} ms (goal ≤ {GOAL_P99_MS:.0f} ms)   {verdict}")
    print(f"load average at the end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--guests", type=int, nargs="+", default=[10, 50] if QUICK else [10, 100, 500]
    )
    parser.add_argument("--seeks", type=int, default=20 if QUICK else 50)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--baseline-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-b", help=argparse.SUPPRESS)
    parser.add_argument("-p", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        asyncio.run(serve_baseline(args.p))
        return
    banner("Room fan-out: host seek → every guest's seek_event")
    report(run(args))


if __name__ == "__main__":
    main()
