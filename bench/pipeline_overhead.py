"""Media pipeline wall time against the same ffmpeg command run by hand on the same clip.

    .venv/bin/python bench/pipeline_overhead.py                  # 60 s 1280x720 clip, 3 rounds
    .venv/bin/python bench/pipeline_overhead.py --seconds 20 --rounds 5

Generates an H.264/AAC test clip (`videos.media_tools.generate_clip`), sets Django up over a
throw-away SQLite database and MEDIA_ROOT, and alternates, `--rounds` times each:

- pipeline: `video_upload` (not timed) then `video_process`, timed whole — probe, the one
  ffmpeg run with its progress reports written to the database, storing the HLS ladder and
  the sprite, publishing;
- by hand: the very command `video_process` runs (`videos.processing.hls_command`, same
  ladder, sprite and preset from the settings) started with `subprocess.run`, timed alone.

It prints the medians and the pipeline's overhead over the bare command (goal: under 10%),
in wall time (the goal's measure) and in CPU time (this process and its children: what the
pipeline adds in work, which other load on a shared machine barely moves). Alternating keeps
a slow spell of a shared machine from landing on one side only.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_PERCENT = 10


def setup_django(work: Path) -> None:
    for key in ("REDIS_URL", "STORAGE_BACKEND"):
        os.environ.pop(key, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="videohost.settings",
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        MEDIA_ROOT=str(work / "media"),
        UPLOAD_TEMP_DIR=str(work / "uploads"),
        LOG_LEVEL="WARNING",  # no "uploaded"/"processed" lines between the figures
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Timer:
    """Wall time, and CPU time of this process plus its finished children (ffmpeg)."""

    @staticmethod
    def _cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu


def run_pipeline(owner, clip: Path, round_number: int) -> Timer:
    from django.core.files.uploadedfile import UploadedFile

    from videos.services import video_process, video_upload

    with clip.open("rb") as file:
        video = video_upload(
            user=owner,
            uploaded_file=UploadedFile(
                file, name=clip.name, content_type="video/mp4", size=clip.stat().st_size
            ),
            title=f"Bench round {round_number}",
        )
    with Timer() as timer:
        outcome = video_process(video_id=video.pk, token=video.processing_token)
    if outcome != "ready":
        video.refresh_from_db()
        raise RuntimeError(f"processing ended {outcome}: {video.failure_reason}")
    return timer


def hand_command(clip: Path, output: Path) -> list[str]:
    from django.conf import settings

    from videos.media_tools import probe_video
    from videos.processing import build_ladder, hls_command, plan_sprite

    probe = probe_video(clip)
    ladder = build_ladder(
        width=probe.width,
        height=probe.height,
        heights=settings.VIDEO_RENDITIONS,
        has_audio=probe.has_audio,
    )
    for rendition in ladder:
        (output / rendition.name).mkdir(parents=True, exist_ok=True)
    return hls_command(
        source=clip,
        output=output,
        ladder=ladder,
        has_audio=probe.has_audio,
        sprite=plan_sprite(
            duration=probe.duration, source_width=probe.width, source_height=probe.height
        ),
        preset=settings.VIDEO_X264_PRESET,
    )


def run_by_hand(clip: Path) -> Timer:
    with tempfile.TemporaryDirectory(prefix="videohost-bench-hls-") as output:
        command = hand_command(clip, Path(output))
        with Timer() as timer:
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return timer


def row(label: str, *seconds: float) -> str:
    wall_ours, wall_bare, cpu_ours, cpu_bare = seconds
    return f"{label:<8} {wall_ours:>9.2f}s {wall_bare:>9.2f}s  {cpu_ours:>9.2f}s {cpu_bare:>9.2f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="clip length (default 60)")
    parser.add_argument("--size", default="1280x720", help="clip size (default 1280x720)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="videohost-bench-pipeline-"))
    try:
        setup_django(work)
        from django.conf import settings
        from machine import describe

        from videohost.testing import ChannelFactory
        from videos.media_tools import generate_clip

        print(describe())
        clip = generate_clip(work / "clip.mp4", seconds=args.seconds, size=args.size)
        print(
            f"clip:    {args.seconds:g} s {args.size} H.264/AAC, "
            f"{clip.stat().st_size / 1024**2:.1f} MiB; renditions {settings.VIDEO_RENDITIONS} "
            f"(never above the source), preset {settings.VIDEO_X264_PRESET}, + sprite\n"
        )
        owner = ChannelFactory(owner__username="bench", title="Bench").owner

        pipeline, by_hand = [], []
        print(f"{'':<8} {'wall time':^21}  {'CPU time':^21}")
        print(f"{'round':<8} {'pipeline':>10} {'by hand':>10}  {'pipeline':>10} {'by hand':>10}")
        for number in range(1, args.rounds + 1):
            pipeline.append(run_pipeline(owner, clip, number))
            by_hand.append(run_by_hand(clip))
            print(
                row(
                    str(number),
                    pipeline[-1].wall,
                    by_hand[-1].wall,
                    pipeline[-1].cpu,
                    by_hand[-1].cpu,
                ),
                flush=True,
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    medians = {
        kind: (
            statistics.median(getattr(t, kind) for t in pipeline),
            statistics.median(getattr(t, kind) for t in by_hand),
        )
        for kind in ("wall", "cpu")
    }
    print(row("median", *medians["wall"], *medians["cpu"]))
    print()
    for kind, label in (("wall", "wall time"), ("cpu", "CPU time")):
        ours, bare = medians[kind]
        overhead = (ours - bare) / bare * 100
        line = f"{label}: pipeline / by hand = {ours / bare:.3f}, overhead {overhead:+.1f}%"
        if kind == "wall":
            verdict = "PASS" if overhead < GOAL_PERCENT else "FAIL"
            line += f" (goal < {GOAL_PERCENT}%: {verdict})"
        print(line)


if __name__ == "__main__":
    main()
