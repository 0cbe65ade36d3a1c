import pytest

from videohost.testing import VideoFactory, sample_clip_bytes


@pytest.fixture
def clip() -> bytes:
    """The bytes of a real 3-second H.264 clip (what VideoFactory stores too)."""
    return sample_clip_bytes()


@pytest.fixture
def make_video(channel):
    """A ready video with a real file in Alice's channel unless told otherwise."""

    def make(**fields):
        fields.setdefault("channel", channel)
        return VideoFactory(**fields)

    return make
