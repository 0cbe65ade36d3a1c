"""Transcoding to an HLS ladder and a scrub sprite: the ffmpeg side of the media pipeline.

No database and no Django storage here: `transcode` reads a local file and writes a local
folder, so it is tested on its own and timed against the same command run by hand
(bench/pipeline_overhead.py). videos.services.video_process moves files in and out of storage
and records the outcome.

One ffmpeg run decodes the source once and encodes every rendition, the audio and the sprite
from it. Keyframes are forced on segment boundaries (`-force_key_frames`, not a GOP length, so
any frame rate lines up) and scene-cut keyframes are off, so every rendition's segments start
at the same instants and a player can switch quality at any segment.
"""

import logging
import math
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from videos.media_tools import ffmpeg_binary

logger = logging.getLogger(__name__)

SEGMENT_SECONDS = 4
AUDIO_BITRATE = 128_000
# Video bitrates by rendition height (bits/s): the usual ladder of the big platforms, rounded.
BITRATES = {240: 400_000, 360: 800_000, 480: 1_400_000, 720: 2_800_000, 1080: 5_000_000}
BITS_PER_PIXEL = BITRATES[720] / (1280 * 720)  # heights outside the table scale from 720p
SPRITE_TILE_WIDTH = 160
SPRITE_COLUMNS = 10
SPRITE_MAX_TILES = 100
PLAYLIST = "master.m3u8"
RENDITION_NAME = re.compile(r"^[0-9]{2,4}p$")
SEGMENT_NAME = re.compile(r"^seg_[0-9]{5}\.ts$")
# The tail of ffmpeg's log kept as a failure reason.
REASON_LENGTH = 400


class TranscodeError(Exception):
    """ffmpeg failed; the message is the reason shown to the video's owner."""


@dataclass(frozen=True, slots=True)
class Rendition:
    name: str
    width: int
    height: int
    bandwidth: int  # video + audio, bits/s, as the master playlist announces it

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Sprite:
    interval: float  # seconds between tiles
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int

    def as_dict(self) -> dict:
        return asdict(self)


def _even(value: float) -> int:
    # H.264 with 4:2:0 chroma needs even dimensions.
    return max(2, int(round(value / 2)) * 2)


def video_bitrate(height: int) -> int:
    if height in BITRATES:
        return BITRATES[height]
    width = height * 16 / 9
    return int(round(width * height * BITS_PER_PIXEL, -3))


def build_ladder(
    *, width: int, height: int, heights: list[int], has_audio: bool
) -> list[Rendition]:
    """The renditions for a source of `width`×`height`: each configured height not above the
    source's (never upscale), or one rendition at the source's own size when all are above."""
    if width <= 0 or height <= 0:
        raise ValueError("The source has no picture size.")
    chosen = sorted({h for h in heights if h <= height}) or [_even(height)]
    audio = AUDIO_BITRATE if has_audio else 0
    return [
        Rendition(
            name=f"{h}p",
            width=_even(width * h / height),
            height=_even(h),
            bandwidth=video_bitrate(h) + audio,
        )
        for h in chosen
    ]


def plan_sprite(*, duration: float, source_width: int, source_height: int) -> Sprite:
    count = max(1, min(SPRITE_MAX_TILES, math.ceil(duration)))
    tile_height = _even(SPRITE_TILE_WIDTH * source_height / source_width)
    columns = min(SPRITE_COLUMNS, count)
    return Sprite(
        interval=duration / count,
        count=count,
        columns=columns,
        rows=math.ceil(count / columns),
        tile_width=SPRITE_TILE_WIDTH,
        tile_height=tile_height,
    )


def hls_command(
    *,
    source: str | Path,
    output: str | Path,
    ladder: list[Rendition],
    has_audio: bool,
    sprite: Sprite | None = None,
    preset: str = "veryfast",
) -> list[str]:
    """The one ffmpeg invocation: every rendition (+ audio) as HLS, and the sprite."""
    output = Path(output)
    outputs = len(ladder) + (1 if sprite else 0)
    graph = [f"[0:v]split={outputs}" + "".join(f"[s{i}]" for i in range(outputs))]
    graph += [f"[s{i}]scale={r.width}:{r.height}[v{i}]" for i, r in enumerate(ladder)]
    if sprite:
        graph.append(
            f"[s{len(ladder)}]fps={1 / sprite.interval:.6f},"
            f"scale={sprite.tile_width}:{sprite.tile_height},"
            f"tile={sprite.columns}x{sprite.rows}[sprite]"
        )
    command = [
        ffmpeg_binary(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-nostats",
        "-i",
        str(source),
        "-filter_complex",
        ";".join(graph),
    ]
    stream_map = []
    for i, rendition in enumerate(ladder):
        rate = video_bitrate(rendition.height)
        command += [
            "-map",
            f"[v{i}]",
            f"-b:v:{i}",
            str(rate),
            f"-maxrate:v:{i}",
            str(int(rate * 1.1)),
            f"-bufsize:v:{i}",
            str(rate * 2),
        ]
        if has_audio:
            command += ["-map", "0:a:0"]
        stream_map.append(
            f"v:{i},a:{i},name:{rendition.name}" if has_audio else f"v:{i},name:{rendition.name}"
        )
    command += [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-pix_fmt",
        "yuv420p",
        "-sc_threshold",
        "0",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
    ]
    if has_audio:
        command += ["-c:a", "aac", "-b:a", str(AUDIO_BITRATE), "-ac", "2"]
    command += [
        "-f",
        "hls",
        "-hls_time",
        str(SEGMENT_SECONDS),
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "independent_segments",
        "-hls_segment_type",
        "mpegts",
        "-hls_segment_filename",
        str(output / "%v" / "seg_%05d.ts"),
        "-master_pl_name",
        PLAYLIST,
        "-var_stream_map",
        " ".join(stream_map),
        str(output / "%v" / "index.m3u8"),
    ]
    if sprite:
        command += [
            "-map",
            "[sprite]",
            "-frames:v",
            "1",
            "-c:v",
            "mjpeg",
            "-q:v",
            "5",
            "-update",
            "1",
            str(output / "sprite.jpg"),
        ]
    return command


def run_with_progress(
    command: list[str],
    *,
    duration: float,
    on_progress: Callable[[int], None],
    timeout: float,
    report_every: float = 1.0,
) -> None:
    """Run ffmpeg, calling `on_progress(percent)` at most every `report_every` seconds.

    The percent comes from ffmpeg's `-progress` output (`out_time_us`) against the probed
    duration, and stays below 100 until ffmpeg has finished. A raising `on_progress` (the
    job was superseded) stops ffmpeg.
    """
    started = time.monotonic()
    last_report = 0.0
    with subprocess.Popen(  # noqa: S603 — a fixed argument list, no shell
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    ) as process:
        try:
            for line in process.stdout:
                key, _, value = line.strip().partition("=")
                now = time.monotonic()
                if now - started > timeout:
                    raise TranscodeError(f"Processing took longer than {timeout:g} s.")
                if key == "out_time_us" and value.isdigit() and now - last_report >= report_every:
                    last_report = now
                    done = int(value) / 1_000_000
                    on_progress(min(99, int(done / duration * 100)) if duration > 0 else 0)
            process.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except BaseException:
            process.kill()
            process.wait()
            raise
        errors = process.stderr.read()
    if process.returncode != 0:
        tail = errors.strip()[-REASON_LENGTH:] or f"ffmpeg exited with {process.returncode}"
        raise TranscodeError(f"Transcoding failed: {tail}")


def transcode(
    *,
    source: str | Path,
    output: str | Path,
    width: int,
    height: int,
    duration: float,
    has_audio: bool,
    heights: list[int],
    on_progress: Callable[[int], None] = lambda percent: None,
    timeout: float = 6 * 3600,
    preset: str = "veryfast",
) -> tuple[list[Rendition], Sprite]:
    """Source file → `output`/master.m3u8, `output`/<rendition>/…, `output`/sprite.jpg."""
    output = Path(output)
    ladder = build_ladder(width=width, height=height, heights=heights, has_audio=has_audio)
    sprite = plan_sprite(duration=duration, source_width=width, source_height=height)
    for rendition in ladder:
        (output / rendition.name).mkdir(parents=True, exist_ok=True)
    command = hls_command(
        source=source,
        output=output,
        ladder=ladder,
        has_audio=has_audio,
        sprite=sprite,
        preset=preset,
    )
    run_with_progress(command, duration=duration, on_progress=on_progress, timeout=timeout)
    if not (output / PLAYLIST).exists():
        raise TranscodeError("Transcoding produced no master playlist.")
    return ladder, sprite
