"""What a benchmark ran on, printed with its figures so they can be compared fairly later."""

import os
import platform
import subprocess
import sys
from importlib import metadata

PACKAGES = ["Django", "daphne", "Twisted", "channels", "djangorestframework", "av", "tuspy"]


def _memory_gib() -> float:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ffmpeg_version() -> str:
    from videos.media_tools import ffmpeg_binary

    output = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout
    return output.splitlines()[0] if output else "unknown"


def describe() -> str:
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return "\n".join(
        [
            f"machine: {os.cpu_count()} cores ({_cpu_model()}), {_memory_gib():.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}",
            f"python:  {sys.version.split()[0]}; {', '.join(versions)}",
            f"ffmpeg:  {_ffmpeg_version()}",
        ]
    )
