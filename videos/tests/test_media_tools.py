"""Probing refuses what is not a complete video; ffmpeg is found with or without a system one."""

import subprocess

import pytest
from PIL import Image

from videos import media_tools
from videos.media_tools import NotAVideo, generate_clip, probe_video


def test_a_generated_clip_is_probed_with_its_real_length_and_size(tmp_path):
    clip = generate_clip(tmp_path / "clip.mp4", seconds=2, size="160x120")
    probe = probe_video(clip)
    assert probe.duration == pytest.approx(2.0, abs=0.1)
    assert (probe.width, probe.height, probe.mime_type) == (160, 120, "video/mp4")


@pytest.mark.parametrize("faststart", [True, False])
def test_a_truncated_clip_is_refused(tmp_path, faststart):
    clip = generate_clip(tmp_path / "clip.mp4", seconds=3, faststart=faststart)
    data = clip.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(NotAVideo):
        probe_video(truncated)


@pytest.mark.parametrize("image_format", ["PNG", "GIF", "JPEG"])
def test_pictures_are_refused_even_though_ffmpeg_sees_a_video_stream_in_them(
    tmp_path, image_format
):
    path = tmp_path / "picture.mp4"
    Image.new("RGB", (64, 64), "red").save(path, format=image_format)
    with pytest.raises(NotAVideo):
        probe_video(path)


def test_ffmpeg_comes_from_the_pip_package_when_path_has_none(monkeypatch):
    monkeypatch.setattr(media_tools.shutil, "which", lambda name: None)
    binary = media_tools.ffmpeg_binary()
    assert "imageio_ffmpeg" in binary
    result = subprocess.run([binary, "-hide_banner", "-version"], capture_output=True, timeout=30)
    assert result.returncode == 0
    assert b"ffmpeg version" in result.stdout


def test_an_svg_with_a_script_is_refused(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        "<script>alert(1)</script><rect width='64' height='64'/></svg>"
    )
    with pytest.raises(NotAVideo):
        probe_video(path)
