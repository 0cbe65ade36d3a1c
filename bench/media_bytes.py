"""Media bytes: ranged reads of a 1 GiB video through the app's delivery path, against nginx.

    .venv/bin/python bench/media_bytes.py                    # 1 GiB, 15 s per measurement
    .venv/bin/python bench/media_bytes.py --size-mib 256 --seconds 5
    BENCH_QUICK=1 .venv/bin/python bench/media_bytes.py      # 256 MiB, 5 s

A 1 GiB file of random bytes is written into a throw-away MEDIA_ROOT's private folder (it
stays in the page cache: every side reads from memory, so this measures the servers, not
the disk) and registered as a ready public video over a throw-away PostgreSQL database. Then
`wrk` (`--connections` connections, one thread, a Lua script setting `Range`) reads 1 MiB
ranges for `--seconds`, sequentially (consecutive MiB) and at random offsets, from:

- `django`: `GET /api/videos/<id>/stream` from `python -m videohost.server` with
  MEDIA_DELIVERY=django — the access check, then this process sends the bytes;
- `nginx static` (the baseline): nginx serving the same file from its folder;
- `nginx + X-Accel`: the same /stream URL through the deployment's nginx site
  (deploy/nginx/videohost.conf) in front of a second server process with
  MEDIA_DELIVERY=nginx — Django checks, nginx sends, and nginx reuses Django's yes for
  MEDIA_CHECK_REUSE_SECONDS (5) for the same URL and credentials;
- `X-Accel, ask each`: the same, with MEDIA_CHECK_REUSE_SECONDS=0 — Django is asked for every
  range (what the path did before the reuse).

nginx is /usr/sbin/nginx with a config written to the temporary folder (one worker each,
sendfile, `user root;` when run as root so the worker can read the temporary files); the
baseline is a second server block of the first nginx. Printed: MiB/s
and requests/s per path, pattern and range size (`--range-mib`: 1 and 16 MiB), and ours /
nginx static (goal ≥ 0.5).

Also one whole-file GET (no Range) of the django path with the server's RSS sampled every
50 ms: time to first byte, time to the last, and the server's memory growth meanwhile.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    QUICK,
    CpuMeter,
    Workspace,
    author_with_video,
    banner,
    free_port,
    load_average,
    stop_process,
    wait_until_listening,
)

from videohost.nginx_site import loopback_site  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIB = 1024 * 1024
GOAL_RATIO = 0.5

NGINX_CONF = """
worker_processes 1;
{user}
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    types {{ video/mp4 mp4; }}
    default_type application/octet-stream;
    # The deployment's site (deploy/nginx/videohost.conf) in front of the app.
    include {work}/site.conf;
    # The baseline: the same folder, served statically by the same worker.
    server {{
        listen 127.0.0.1:{static_port};
        location /files/ {{ alias {private}/; }}
    }}
}}
"""

RANGES_LUA = """
local size = {size}
local chunk = {chunk}
local count = math.floor(size / chunk)
local n = 0
math.randomseed(5)
request = function()
    local index
    if "{pattern}" == "sequential" then
        index = n % count
        n = n + 1
    else
        index = math.random(0, count - 1)
    end
    local first = index * chunk
    local range = "bytes=" .. first .. "-" .. (first + chunk - 1)
    return wrk.format("GET", "{path}", {{["Range"] = range}})
end
"""


def write_random_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(8 * MIB)
    with path.open("wb") as file:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            file.write(piece)
            written += len(piece)


def wrk(url: str, script: Path, *, seconds: float, connections: int) -> dict:
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?)B", out)
    scale = {"": 1 / MIB, "K": 1 / 1024, "M": 1, "G": 1024}[transfer.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": requests,
        "mib_s": float(transfer.group(1)) * scale,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


class Nginx:
    def __init__(self, work: Path, media_root: Path, app_port: int):
        self.port, self.static_port = free_port(), free_port()
        work.mkdir(exist_ok=True)
        (work / "site.conf").write_text(
            loopback_site(
                app=f"127.0.0.1:{app_port}",
                port=self.port,
                checks_port=free_port(),
                media_root=media_root,
                cache_root=work / "media-checks",
            )
        )
        conf = work / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                work=work,
                static_port=self.static_port,
                private=media_root / "private",
            )
        )
        self.process = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(work)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if not wait_until_listening(self.process, self.port, timeout=20):
            stop_process(self.process, timeout=10)
            raise RuntimeError(f"nginx did not start: {self.process.stderr.read()!r}")

    @property
    def pids(self) -> list[int]:
        """The worker processes: they do the work. The master only waits, and the cache
        loader exits a minute after start (a vanished process would break the CPU meter)."""
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid), "-f", "worker process"],
            capture_output=True,
            text=True,
            check=False,
        )
        return [int(pid) for pid in found.stdout.split()]

    def stop(self) -> None:
        stop_process(self.process, timeout=10)


def whole_file_get(server, path: str, size: int) -> dict:
    """One GET without Range through the django path, with the server's RSS sampled."""
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(server.rss_kib())
            time.sleep(0.05)

    before = server.rss_kib()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    done = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{time_starttransfer} %{time_total} %{size_download}",
            f"{server.url}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    stop.set()
    sampler.join()
    status, first_byte, total, downloaded = done.stdout.split()
    return {
        "status": status,
        "first_byte": float(first_byte),
        "total": float(total),
        "complete": int(downloaded) == size,
        "growth_mib": (max(samples, default=before) - before) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256 if QUICK else 1024)
    parser.add_argument("--seconds", type=float, default=5 if QUICK else 15)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--range-mib", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    banner("Media bytes: 1 MiB ranges of a large video, app against nginx")
    size = args.size_mib * MIB
    print(
        f"file {args.size_mib} MiB of random bytes (page cache); 1 MiB ranges; wrk, 1 thread, "
        f"{args.connections} connections, {args.seconds:.0f} s per measurement\n"
    )
    with Workspace("media", redis_db=None) as work:
        name = "videos/benchmedia/original.mp4"
        file = work.media_root / "private" / name
        started = time.monotonic()
        write_random_file(file, size)
        print(f"wrote the file in {time.monotonic() - started:.1f} s")
        work.use_django()
        _, _, video = author_with_video("bench-author", file_name=name)
        video.file_size = size
        video.save(update_fields=["file_size"])
        django_server = work.start_server(env=work.env(MEDIA_DELIVERY="django"))
        accel_server = work.start_server(env=work.env(MEDIA_DELIVERY="nginx"))
        nginx = Nginx(work.folder / "nginx", work.media_root, accel_server.port)
        asking_server = work.start_server(
            env=work.env(MEDIA_DELIVERY="nginx", MEDIA_CHECK_REUSE_SECONDS="0")
        )
        asking_nginx = Nginx(work.folder / "nginx-asking", work.media_root, asking_server.port)
        stream = f"/api/videos/{video.pk}/stream"
        targets = {
            "django": (f"{django_server.url}{stream}", [django_server.pid]),
            "nginx static": (f"http://127.0.0.1:{nginx.static_port}/files/{name}", nginx.pids),
            "X-Accel, ask each": (
                f"http://127.0.0.1:{asking_nginx.port}{stream}",
                [asking_server.pid, *asking_nginx.pids],
            ),
            "nginx + X-Accel": (
                f"http://127.0.0.1:{nginx.port}{stream}",
                [accel_server.pid, *nginx.pids],
            ),
        }
        patterns = [
            (f"{pattern} {mib} MiB", pattern, mib)
            for mib in args.range_mib
            for pattern in ("sequential", "random")
        ]
        scripts = {}
        for name_, pattern, mib in patterns:
            for label, (url, _) in targets.items():
                path = "/" + url.split("127.0.0.1:", 1)[1].split("/", 1)[1]
                script = work.folder / f"{pattern}-{mib}-{label.replace(' ', '_')}.lua"
                script.write_text(
                    RANGES_LUA.format(size=size, chunk=mib * MIB, pattern=pattern, path=path)
                )
                scripts[(name_, label)] = script
        results = {}
        try:
            print(
                "  ranges             path                 MiB/s   req/s  non-2xx   "
                "CPU (server[+nginx])"
            )
            for name_, _, _ in patterns:
                for label, (url, pids) in targets.items():
                    script = scripts[(name_, label)]
                    # A short warm-up: connections, the pool, nginx's open files.
                    wrk(url, script, seconds=1, connections=args.connections)
                    meter = CpuMeter(pids)
                    result = wrk(url, script, seconds=args.seconds, connections=args.connections)
                    cpu = "+".join(f"{share * 100:.0f}%" for share in meter.read())
                    results[(name_, label)] = result
                    errors = f"  socket errors: {result['socket_errors']}"
                    print(
                        f"  {name_:<18} {label:<18} {result['mib_s']:7.0f} "
                        f"{result['requests']:7.0f} {result['non_2xx']:8d}   {cpu}"
                        + (errors if result["socket_errors"] else ""),
                        flush=True,
                    )
            whole = whole_file_get(django_server, stream, size)
        finally:
            nginx.stop()
            asking_nginx.stop()
        errors = django_server.errors() + accel_server.errors() + asking_server.errors()
    print("\nours / nginx static (goal ≥ 0.5):")
    for name_, _, _ in patterns:
        baseline = results[(name_, "nginx static")]["mib_s"]
        for label in ("django", "X-Accel, ask each", "nginx + X-Accel"):
            ratio = results[(name_, label)]["mib_s"] / baseline
            verdict = "PASS" if ratio >= GOAL_RATIO else "MISS"
            print(f"  {name_:<18} {label:<18} {ratio:5.2f}×   {verdict}")
    print(
        f"\nwhole file, no Range, django path: HTTP {whole['status']}, first byte after "
        f"{whole['first_byte']:.2f} s, all {args.size_mib} MiB after {whole['total']:.2f} s "
        f"({'complete' if whole['complete'] else 'INCOMPLETE'}); server RSS growth "
        f"{whole['growth_mib']:.0f} MiB"
    )
    print(f"server errors logged: {len(errors)}")
    for line in errors[:5]:
        print("  " + line.rstrip())
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
