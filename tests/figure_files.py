"""Pictures for the figure tests, made here: good ones, and the hostile ones of issue 18."""

from __future__ import annotations

import io
import random
import struct
import zlib
from functools import cache

import pytest
from PIL import Image


@pytest.fixture
def figure_storage(settings, tmp_path):
    """The `figures` storage in a folder of the test's own; its path."""
    folder = tmp_path / "figures"
    settings.STORAGES = {
        **settings.STORAGES,
        "figures": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder, "base_url": None},
        },
    }
    return folder


def stored_files(folder) -> list[str]:
    """Every file in the storage's folder (none when it was never made)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _noise(size=(400, 300), seed=1) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    image.putdata(
        [
            (rng.randrange(256), rng.randrange(120), rng.randrange(256))
            for _ in range(size[0] * size[1])
        ]
    )
    return image


def jpeg(size=(400, 300), exif: bool = False, seed=1) -> bytes:
    """A JPEG; with `exif`, a camera's make, a GPS position and an artist's name in it."""
    image = _noise(size, seed)
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "MicroscopeCam"  # Make
        tags[0x013B] = "Dr Example, patient Jane Roe"  # Artist
        tags[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
        image.save(out, "JPEG", quality=90, exif=tags)
    else:
        image.save(out, "JPEG", quality=90)
    return out.getvalue()


def png(size=(400, 300), text: dict | None = None, seed=2) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    _noise(size, seed).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def tiff(size=(300, 200), pages: int = 1, description: str = "") -> bytes:
    out = io.BytesIO()
    first = _noise(size, 3)
    extra = {"description": description} if description else {}
    if pages == 1:
        first.save(out, "TIFF", **extra)
    else:
        rest = [Image.new("L", (1, 1)) for _ in range(pages - 1)]
        first.save(out, "TIFF", save_all=True, append_images=rest, **extra)
    return out.getvalue()


def many_page_tiff(pages: int = 5000) -> bytes:
    """A valid TIFF of `pages` 1 x 1 grey pages, written directly (Pillow takes a
    second per 200 pages to write one)."""
    entries = 9
    ifd_size = 2 + entries * 12 + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for page in range(pages):
        start = 8 + page * (ifd_size + 2)
        pixel_at = start + ifd_size
        following = 0 if page == pages - 1 else start + ifd_size + 2
        tags = [  # (tag, type SHORT=3 / LONG=4, value)
            (256, 4, 1),
            (257, 4, 1),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, pixel_at),
            (277, 3, 1),
            (278, 4, 1),
            (279, 4, 1),
        ]
        out += struct.pack("<H", entries)
        for tag, kind, value in tags:
            packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        out += struct.pack("<I", following)
        out += b"\x80\x00"  # the pixel, and a pad byte (IFDs start on a word boundary)
    return bytes(out)


def truncated_jpeg() -> bytes:
    data = jpeg(size=(800, 600), seed=4)
    return data[: len(data) // 2]


def renamed_executable() -> bytes:
    """What a Windows program starts with (the DOS header), as if saved as figure.png."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(2000)


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def png_bomb(side: int = 50_000) -> bytes:
    """A real, complete 1-bit PNG of side x side pixels: a few hundred KB on disk,
    gigabytes once decoded."""
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte, then the row's bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )
