"""Probing, thumbnails and test clips: the only module that talks to FFmpeg.

Probing and thumbnails go through PyAV (FFmpeg's libraries, shipped in the wheel), so a fresh
machine needs no system package. The ffmpeg CLI (for generated clips now, transcoding later)
comes from PATH, else from the binary that imageio-ffmpeg ships.
"""

import io
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

# Containers we accept, by FFmpeg demuxer name → the MIME type we serve them with. Image
# demuxers (png_pipe, gif, image2, svg…) also expose a "video stream", so an allow-list is
# what keeps pictures, SVGs and polyglots out.
CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "video/mp4",
    "matroska,webm": "video/webm",
    "ogg": "video/ogg",
    "avi": "video/x-msvideo",
    "mpegts": "video/mp2t",
    "flv": "video/x-flv",
}
EXTENSIONS = {
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/x-matroska": ".mkv",
    "video/quicktime": ".mov",
    "video/ogg": ".ogv",
    "video/x-msvideo": ".avi",
    "video/mp2t": ".ts",
    "video/x-flv": ".flv",
}
WEBM_CODECS = {"vp8", "vp9", "av1"}
# A file whose packets stop this far before the length its header claims is truncated.
TRUNCATION_TOLERANCE = 0.05


class NotAVideo(Exception):
    """The file holds no decodable video stream in a container we accept."""


@dataclass(frozen=True)
class ProbeResult:
    duration: float
    width: int
    height: int
    video_codec: str
    mime_type: str
    has_audio: bool = False

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime_type]


def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _mime_type(container: av.container.InputContainer, codec: str) -> str:
    mime = CONTAINERS.get(container.format.name)
    if mime is None:
        raise NotAVideo(f"Unsupported container format ({container.format.name}).")
    if mime == "video/webm" and codec not in WEBM_CODECS:
        return "video/x-matroska"
    if mime == "video/mp4" and container.metadata.get("major_brand", "").startswith("qt"):
        return "video/quicktime"
    return mime


def probe_video(path: str | Path) -> ProbeResult:
    """Check that `path` is a complete, decodable video and measure it.

    Reads every packet of the video stream (demuxing only, which is cheap) to find the real
    length — so a truncated file whose header still claims the full duration is refused —
    and decodes the first frame to prove the stream is really decodable.
    """
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.video:
                raise NotAVideo("The file has no video stream.")
            if container.format.name not in CONTAINERS:
                raise NotAVideo(f"Unsupported container format ({container.format.name}).")
            stream = container.streams.video[0]
            if stream.codec_context is None:
                # A stream FFmpeg can name but has no decoder for (an SVG, say).
                raise NotAVideo("The video stream cannot be decoded.")
            codec = stream.codec_context.name
            mime = _mime_type(container, codec)
            has_audio = any(a.codec_context is not None for a in container.streams.audio)

            first_frame = next(container.decode(stream), None)
            if first_frame is None:
                raise NotAVideo("The video stream has no decodable frame.")
            width, height = first_frame.width, first_frame.height

            container.seek(0)
            end_ticks = None
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                packet_end = packet.pts + (packet.duration or 0)
                end_ticks = packet_end if end_ticks is None else max(end_ticks, packet_end)
            start = stream.start_time or 0
            measured = (
                float((end_ticks - start) * Fraction(stream.time_base))
                if end_ticks is not None
                else 0.0
            )
            claimed = container.duration / av.time_base if container.duration else 0.0
    except NotAVideo:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise NotAVideo(
            f"The file could not be read as a video ({exc.__class__.__name__})."
        ) from exc

    if measured <= 0:
        raise NotAVideo("The video stream is empty.")
    if claimed and measured < claimed * (1 - TRUNCATION_TOLERANCE) - 0.5:
        raise NotAVideo("The video is truncated: it ends before the length its header gives.")
    return ProbeResult(
        duration=round(measured, 3),
        width=width,
        height=height,
        video_codec=codec,
        mime_type=mime,
        has_audio=has_audio,
    )


def extract_thumbnail(path: str | Path, *, duration: float, max_width: int = 640) -> bytes:
    """One JPEG frame, a third of the way in (capped at 5 s) to skip black intros."""
    at = min(duration / 3, 5.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if at > 0 and stream.time_base:
            container.seek(int(at / stream.time_base), stream=stream, any_frame=False)
        frame = None
        for frame in container.decode(stream):
            if frame.time is None or frame.time >= at - 0.05:
                break
        if frame is None:
            raise NotAVideo("No frame to make a thumbnail from.")
        image = frame.to_image()
    image.thumbnail((max_width, max_width))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def generate_clip(
    path: str | Path,
    *,
    seconds: float = 3,
    size: str = "320x240",
    pattern: str = "testsrc2",
    rate: int = 25,
    faststart: bool = True,
) -> Path:
    """Write a short H.264/AAC test-pattern clip with ffmpeg (fixtures, demo data)."""
    path = Path(path)
    command = [
        ffmpeg_binary(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"{pattern}=size={size}:rate={rate}",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(rate),
        "-c:a",
        "aac",
        "-shortest",
    ]
    if faststart:
        command += ["-movflags", "+faststart"]
    command.append(str(path))
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603
    return path
