"""API list: `GET /api/videos` (a page of 20) over 10,000 videos on PostgreSQL.

    .venv/bin/python bench/api_list.py                       # 10,000 videos, 15 s per load
    .venv/bin/python bench/api_list.py --videos 50000 --seconds 30
    BENCH_QUICK=1 .venv/bin/python bench/api_list.py         # 5 s per load

A throw-away PostgreSQL database gets `--videos` ready videos (bulk-created rows over 100
channels, a mix of public, subscriber and sponsor videos, one minute apart; no files: a
listing reads none). Then:

- queries per request, in this process with Django's CaptureQueriesContext around the test
  client: page 1, page 400 and the last page, anonymously and as a viewer with a Bearer
  token and subscriptions — constant means the same count on every page;
- requests per second, with `wrk` (one thread, `--connections` connections, as many as the
  process's database pool holds) against one `python -m videohost.server` process serving
  `bench/api_list_app.py`: the project's application plus `/bare/videos`, a bare Django
  view returning the same page of the same JSON from one `.values()` query (checked equal
  to the API's answer first). Pages 1 and 400, each after a 2 s warm-up.

Printed: the counts, req/s and latency of both, and ours / bare (goal ≥ 0.5).
"""

import argparse
import json
import random
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    QUICK,
    ROOT,
    CpuMeter,
    Workspace,
    banner,
    create_users,
    load_average,
)

REDIS_DB = 13
GOAL_RATIO = 0.5
CHANNELS = 100


def populate(count: int):
    from django.db import connection

    from channels_app.models import Channel, Subscription
    from videos.models import AccessLevel, Video, VideoStatus

    owners, _ = create_users("bench-author-", CHANNELS)
    channels = Channel.objects.bulk_create(
        Channel(owner=owner, title=f"Channel {i}") for i, owner in enumerate(owners)
    )
    rng = random.Random(5)
    levels = [AccessLevel.PUBLIC] * 12 + [AccessLevel.SUBSCRIBER] * 5 + [AccessLevel.SPONSOR] * 3
    Video.objects.bulk_create(
        (
            Video(
                channel=channels[i % CHANNELS],
                title=f"Video {i}",
                description="A benchmark video. " * 5,
                access_level=rng.choice(levels),
                has_ads=rng.random() < 0.3,
                status=VideoStatus.READY,
                duration=rng.uniform(30, 3600),
                view_count=rng.randrange(100_000),
                mime_type="video/mp4",
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    # bulk_create stamps every row with the same created_at (auto_now_add): spread them.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Video._meta.db_table} SET created_at = now() - id * interval '1 minute'"  # noqa: S608
        )
        cursor.execute(f"ANALYZE {Video._meta.db_table}")
    viewers, tokens = create_users("bench-viewer-", 1)
    Subscription.objects.bulk_create(
        Subscription(user=viewers[0], channel=channel, is_sponsor=i % 3 == 0)
        for i, channel in enumerate(channels[:20])
    )
    return tokens[0]


def query_counts(token: str, last_page: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for who, headers in (("anonymous", {}), ("viewer", {"Authorization": f"Bearer {token}"})):
        client = Client(HTTP_HOST="127.0.0.1", headers=headers)
        for page in (1, 400, last_page):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/api/videos?page={page}")
            assert response.status_code == 200, response.content[:300]  # noqa: S101
            counts[(who, page)] = len(queries)
    client = Client(HTTP_HOST="127.0.0.1")
    for page in (1, 400):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/bare/videos?page={page}")
        counts[("bare", page)] = len(queries)
    return counts


def same_json() -> bool:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    for page in (1, 400):
        ours = json.loads(client.get(f"/api/videos?page={page}").content)
        bare = json.loads(client.get(f"/bare/videos?page={page}").content)
        if ours["results"] != bare["results"] or ours["count"] != bare["count"]:
            return False
    return True


def wrk(url: str, seconds: float, connections: int) -> dict:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout

    def latency(label: str) -> float:
        found = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(found.group(1)), found.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "non_2xx": int(bad.group(1)) if bad else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5 if QUICK else 15)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    banner("API list: GET /api/videos, page of 20, PostgreSQL")
    with Workspace("api", redis_db=REDIS_DB) as work:
        env = work.env(PYTHONPATH=str(ROOT / "bench"))
        work.use_django(PYTHONPATH=env["PYTHONPATH"])
        import api_list_app  # noqa: F401 - adds /bare/videos to this process's URLs too

        token = populate(args.videos)
        last_page = -(-args.videos // 20)
        counts = query_counts(token, last_page)
        identical = same_json()
        server = work.start_server(env=env, args=["api_list_app:application"])
        print(f"{args.videos} videos; wrk: 1 thread, {args.connections} connections, ")
        print(f"{args.seconds:.0f} s per measurement after a 2 s warm-up; one server process\n")
        print("queries per request:")
        for who in ("anonymous", "viewer"):
            pages = ", ".join(f"page {p}: {counts[(who, p)]}" for p in (1, 400, last_page))
            print(f"  /api/videos as {who:<9} {pages}")
        print(f"  /bare/videos               page 1: {counts[('bare', 1)]}, ", end="")
        print(f"page 400: {counts[('bare', 400)]}")
        constant = all(
            counts[(who, 1)] == counts[(who, 400)] == counts[(who, last_page)]
            for who in ("anonymous", "viewer")
        )
        print(f"constant across pages: {'yes' if constant else 'NO'}")
        print(f"bare view's JSON equal to the API's (pages 1 and 400): {identical}\n")
        print("  page  server        req/s   p50 ms   p99 ms  non-2xx  server CPU")
        rows = {}
        for page in (1, 400):
            for label, path in (("api", "/api/videos"), ("bare view", "/bare/videos")):
                url = f"{server.url}{path}?page={page}"
                wrk(url, 2, args.connections)
                meter = CpuMeter([server.pid])
                result = wrk(url, args.seconds, args.connections)
                cpu = meter.read()[0]
                rows[(page, label)] = result
                print(
                    f"  {page:>4}  {label:<10} {result['rps']:8.0f} {result['p50']:8.1f} "
                    f"{result['p99']:8.1f} {result['non_2xx']:8d}  {cpu * 100:5.0f}%",
                    flush=True,
                )
        errors = server.errors()
    print("\nours / bare view (goal ≥ 0.5):")
    for page in (1, 400):
        ratio = rows[(page, "api")]["rps"] / rows[(page, "bare view")]["rps"]
        print(f"  page {page:>3}: {ratio:.2f}×   {'PASS' if ratio >= GOAL_RATIO else 'MISS'}")
    print(f"queries constant: {'PASS' if constant else 'MISS'}")
    print(f"server errors logged: {len(errors)}")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
