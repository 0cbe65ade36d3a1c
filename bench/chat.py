"""Chat: sustained messages per second in one room of 50, and the delivery delay.

    .venv/bin/python bench/chat.py                          # 50 participants, every step
    .venv/bin/python bench/chat.py --rates 100 200 300 --seconds 30
    BENCH_QUICK=1 .venv/bin/python bench/chat.py            # 10 s steps, fewer rates

Two `python -m videohost.server` processes (as room_fanout.py: a room's sockets sit on
several processes) over a throw-away PostgreSQL database and their own Redis database; one
room per step, its 50 participants spread over both. Every participant sends `chat_message`
frames at its share of the step's rate (evenly spaced, random phase, each with a
`client_id`), and every participant records when each `chat_message_event` reaches it — the
sender's own copy is its acknowledgement, sent only after the message is stored. A delay is
arrival minus the sender's send time (the clients share this machine's CLOCK_MONOTONIC);
the first 3 s of a step are a warm-up and not counted. The clients run in two processes so
that decoding 50 copies of every message is not their bottleneck.

Per step: messages offered and acknowledged per second, messages stored (counted in the
database afterwards), p50/p99/max delivery delay, refusals (error frames) and deliveries
missing. Goal: ≥ 200 msg/s at p99 ≤ 100 ms.

The flood guard (5 messages in 5 s per user, ROOM_PROTOCOL.md) caps a room of 50 at 50
msg/s sustained, however the messages are spread. The first step runs the stock server just
under that cap; the others run `bench/chat_guard_lifted.py` (the same application with the
guard's window shrunk to 50 ms: its query still runs for every message, only the refusal
is lifted) to find what the server itself sustains.
"""

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    QUICK,
    ROOT,
    CpuMeter,
    Workspace,
    author_with_video,
    banner,
    create_users,
    load_average,
    percentile,
    ws_connect,
)

REDIS_DB = 12
WARMUP = 3.0
DRAIN = 5.0
GOAL_RATE = 200
GOAL_P99_MS = 100.0
GUARD_CAP_RATE = 45  # 50 people × 0.9 msg/s: just under 5 per 5 s each


def chat_worker(conn, participants, rate_each: float, start_at: float, seconds: float) -> None:
    asyncio.run(_chat_worker(conn, participants, rate_each, start_at, seconds))


async def _chat_worker(conn, participants, rate_each, start_at, seconds) -> None:
    sent: dict[str, float] = {}
    arrivals: list[tuple[str, float]] = []
    refusals: list[str] = []
    failures: list[str] = []
    sockets = []

    async def reader(websocket) -> None:
        try:
            async for message in websocket:
                if '"chat_message_event"' in message:
                    now = time.monotonic()
                    arrivals.append((json.loads(message)["client_id"], now))
                elif '"type": "error"' in message:
                    refusals.append(json.loads(message).get("code", "?"))
        except Exception:  # noqa: BLE001, S110 - closed at the end
            pass

    async def open_one(url, token, origin):
        try:
            websocket = await ws_connect(url, token, origin).__aenter__()
            first = json.loads(await websocket.recv())
            if first.get("type") != "room_state":
                raise RuntimeError(first.get("type"))
        except Exception as exc:  # noqa: BLE001 - reported
            failures.append(repr(exc))
            return None
        sockets.append(websocket)
        return websocket

    opened = await asyncio.gather(*(open_one(*p[:3]) for p in participants))
    readers = [asyncio.create_task(reader(ws)) for ws in opened if ws is not None]
    conn.send(("ready", len(failures), failures[:3]))

    async def sender(websocket, name: str) -> None:
        interval = 1.0 / rate_each
        at = start_at + random.uniform(0, interval)
        n = 0
        while at < start_at + seconds:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            client_id = f"{name}-{n}"
            sent[client_id] = time.monotonic()
            await websocket.send(
                json.dumps(
                    {"type": "chat_message", "message": f"hello {n}", "client_id": client_id}
                )
            )
            n += 1
            at += interval

    senders = [
        asyncio.create_task(sender(ws, p[3]))
        for ws, p in zip(opened, participants, strict=True)
        if ws is not None
    ]
    await asyncio.gather(*senders)
    await asyncio.sleep(max(0.0, start_at + seconds + DRAIN - time.monotonic()))
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    for task in readers:
        task.cancel()
    conn.send(("done", sent, arrivals, refusals))


async def run_step(participants, rate: float, seconds: float, server_pids) -> dict:
    context = multiprocessing.get_context("spawn")
    shares = [participants[0::2], participants[1::2]]
    start_at = time.monotonic() + 10 + len(participants) * 0.1
    pipes, processes = [], []
    for share in shares:
        here, there = context.Pipe()
        process = context.Process(
            target=chat_worker,
            args=(there, share, rate / len(participants), start_at, seconds),
        )
        process.start()
        pipes.append(here)
        processes.append(process)
    loop = asyncio.get_running_loop()
    ready = [await loop.run_in_executor(None, pipe.recv) for pipe in pipes]
    failed = sum(answer[1] for answer in ready)
    await asyncio.sleep(max(0.0, start_at + WARMUP - time.monotonic()))
    meter = CpuMeter([*server_pids, *(p.pid for p in processes)])
    await asyncio.sleep(max(0.0, start_at + seconds - time.monotonic()))
    cpu = meter.read()
    results = [await loop.run_in_executor(None, pipe.recv) for pipe in pipes]
    for process in processes:
        process.join(timeout=30)
    sent: dict[str, float] = {}
    arrivals: list[tuple[str, float]] = []
    refusals: list[str] = []
    for _, s, a, r in results:
        sent.update(s)
        arrivals += a
        refusals += r
    counted = {key: at for key, at in sent.items() if at >= start_at + WARMUP}
    delays = [(at - counted[key]) * 1000 for key, at in arrivals if key in counted]
    acked_keys = {key for key, _ in arrivals}
    receivers = len(participants) - failed
    window = seconds - WARMUP
    return {
        "rate": rate,
        "failed_connects": failed,
        "offered": len(counted) / window,
        "acknowledged": len([key for key in counted if key in acked_keys]) / window,
        "sent_total": len(sent),
        "p50": percentile(delays, 0.5),
        "p99": percentile(delays, 0.99),
        "max": max(delays, default=float("nan")),
        "missing": len(counted) * receivers - len(delays),
        "refusals": refusals,
        "server_cpu": cpu[: len(server_pids)],
        "client_cpu": cpu[len(server_pids) :],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[100, 200] if QUICK else [100, 200, 250]
    )
    parser.add_argument("--seconds", type=float, default=10 if QUICK else 20)
    parser.add_argument("--servers", type=int, default=2)
    args = parser.parse_args()
    banner("Chat: one room, messages stored and broadcast")
    print(
        f"{args.participants} participants over {args.servers} server processes; steps of "
        f"{args.seconds:.0f} s (first {WARMUP:.0f} s not counted)\n"
    )
    rows = []
    with Workspace("chat", redis_db=REDIS_DB) as work:
        work.use_django()
        from rooms import services
        from rooms.models import ChatMessage

        host, _, video = author_with_video("bench-host")
        users, tokens = create_users("bench-chat-", args.participants)
        stock = [work.start_server() for _ in range(args.servers)]
        lifted_env = work.env(PYTHONPATH=str(ROOT / "bench"))
        lifted = [
            work.start_server(env=lifted_env, args=["chat_guard_lifted:application"])
            for _ in range(args.servers)
        ]
        steps = [("stock (guard on)", GUARD_CAP_RATE, stock)] + [
            ("guard lifted", rate, lifted) for rate in args.rates
        ]
        print(
            "  server             offered  acked  stored    p50     p99     max  missing  "
            "refused  server CPU   client CPU"
        )
        print("                      msg/s  msg/s              ms      ms      ms")
        for index, (label, rate, servers) in enumerate(steps):
            if index:
                time.sleep(10)  # a saturated step's backlog drains before the next one
            room = services.room_create(user=host, video_id=video.pk, max_participants=None)
            participants = [
                (
                    f"{servers[i % len(servers)].ws_url}/ws/rooms/{room.pk}/",
                    token,
                    servers[i % len(servers)].url,
                    f"u{i}",
                )
                for i, token in enumerate(tokens)
            ]
            result = asyncio.run(
                run_step(participants, rate, args.seconds, [s.pid for s in servers])
            )
            result["stored"] = ChatMessage.objects.filter(room=room).count()
            result["label"] = label
            rows.append(result)
            refused = len(result["refusals"])
            servers_cpu = "+".join(f"{c * 100:.0f}%" for c in result["server_cpu"])
            clients_cpu = "+".join(f"{c * 100:.0f}%" for c in result["client_cpu"])
            print(
                f"  {label:<18} {result['offered']:6.0f} {result['acknowledged']:6.0f} "
                f"{result['stored']:6d}/{result['sent_total']:<5d} {result['p50']:6.1f} "
                f"{result['p99']:7.1f} {result['max']:7.1f} {result['missing']:7d} "
                f"{refused:7d}   {servers_cpu:>10}  {clients_cpu:>10}",
                flush=True,
            )
            if result["failed_connects"]:
                print(f"    {result['failed_connects']} participants failed to connect")
            if refused:
                print(f"    refusals: {sorted(set(result['refusals']))}")
        errors = [line for server in stock + lifted for line in server.errors()]
    print(f"\nserver errors logged: {len(errors)}")
    for line in errors[:5]:
        print("  " + line.rstrip())
    passing = [
        row for row in rows if row["acknowledged"] >= GOAL_RATE * 0.98 and row["p99"] <= GOAL_P99_MS
    ]
    best = max(passing, key=lambda row: row["acknowledged"], default=None)
    if best:
        print(
            f"goal (≥ {GOAL_RATE} msg/s at p99 ≤ {GOAL_P99_MS:.0f} ms): PASS — "
            f"{best['acknowledged']:.0f} msg/s at p99 {best['p99']:.1f} ms"
        )
    else:
        print(f"goal (≥ {GOAL_RATE} msg/s at p99 ≤ {GOAL_P99_MS:.0f} ms): MISS")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
