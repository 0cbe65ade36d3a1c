"""Small helpers shared by the videos tests."""

import io

from PIL import Image

from videohost.storage import private_storage, public_storage


def _walk(storage, folder: str = "") -> set[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return set()
    found = {f"{folder}{name}" for name in files}
    for name in folders:
        found |= _walk(storage, f"{folder}{name}/")
    return found


def stored_files() -> set[str]:
    """Every file in both media storages, through the storage API."""
    return {f"private:{name}" for name in _walk(private_storage())} | {
        f"public:{name}" for name in _walk(public_storage())
    }


def streamed_bytes(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def png_bytes(size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
