"""Figures' image files: checked, stripped of metadata, resized (Pillow; Django-free).

`check_image` decides whether bytes that someone uploaded are a picture we
take, from their content and never from their name: a PNG, JPEG or TIFF that
decodes completely, with no more pixels and pages than allowed. Everything
else is refused with a message for the person who uploaded it
(`ImageRefused`). What it returns is the original to store: the same pixels
with EXIF, XMP, IPTC, text chunks and every other kind of metadata removed
(a camera's serial number, GPS position or a patient's name in an
ImageDescription must not reach the public); only the ICC colour profile,
transparency and resolution are kept, as they change how the picture looks.

`make_derivatives` makes the web copies (thumbnail, screen-size JPEG,
screen-size WebP) from a stored original; a Celery task calls it.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's names of the formats taken -> (content type, file extension).
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "TIFF": ("image/tiff", "tif"),
}
ACCEPTED = "PNG, JPEG or TIFF"
# What a stored original keeps of its file's information: they change how it looks.
KEPT_INFO = ("icc_profile", "transparency", "dpi")

# Web derivatives: name -> (longest side in pixels, Pillow format, content type, extension).
DERIVATIVES = {
    "thumbnail": (320, "JPEG", "image/jpeg", "jpg"),
    "screen": (1600, "JPEG", "image/jpeg", "jpg"),
    "webp": (1600, "WEBP", "image/webp", "webp"),
}

# The first bytes of files that are surely not pictures, and what to call them.
_NOT_IMAGES = (
    (b"MZ", "a Windows program (an .exe or .dll)"),
    (b"\x7fELF", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"#!", "a script"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
)


class ImageRefused(ValueError):
    """The file is not a picture we take; the message says why, for the uploader."""


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # the original to store: metadata removed
    format: str  # PNG, JPEG, TIFF
    width: int
    height: int
    pages: int  # in the uploaded file; only the first is kept

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _what_it_is(head: bytes) -> str | None:
    for magic, name in _NOT_IMAGES:
        if head.startswith(magic):
            return name
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html")) or b"<svg" in head.lower():
        return "an SVG or other markup file (it can carry script)"
    return None


def check_image(data: bytes, *, max_bytes: int, max_pixels: int, max_pages: int) -> CheckedImage:
    """The picture in `data`, ready to store; ImageRefused says why not."""
    if not data:
        raise ImageRefused("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRefused(
            f"The file is {_megabytes(len(data))}; figures can be at most {_megabytes(max_bytes)}."
        )
    named = _what_it_is(data[:1024])
    if named:
        raise ImageRefused(
            f"This file is {named}, not a picture: upload a {ACCEPTED} image "
            "(the type is read from the file's content, not from its name)."
        )
    with warnings.catch_warnings():
        # Pillow warns past its own pixel limit; ours is checked below, before decoding.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except Image.DecompressionBombError as exc:
            # Past twice Pillow's own limit: refused by Pillow before we see the size.
            raise ImageRefused(_too_many_pixels(_pixels_in(exc), max_pixels)) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ImageRefused(
                f"This file is not a {ACCEPTED} image (the type is read from the file's "
                "content, not from its name)."
            ) from None
        # A camera's JPEG with a second picture in it (MPO) is a JPEG: its first is kept.
        fmt = "JPEG" if image.format == "MPO" else image.format
        if fmt not in FORMATS:  # pragma: no cover - formats= limits the plugins
            raise ImageRefused(f"{image.format} images are not taken: upload {ACCEPTED}.")
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRefused(_too_many_pixels((width, height), max_pixels))
        pages = _count_pages(image, max_pages)
        try:
            image.load()
        except Image.DecompressionBombError:
            raise ImageRefused(_too_many_pixels((width, height), max_pixels)) from None
        except Exception:  # any decoder failure means a damaged file
            raise ImageRefused(
                f"This {fmt} file is damaged or cut short: its image data could not "
                "be read to the end. Export it again from the original."
            ) from None
        try:
            stored = _without_metadata(image, fmt)
        except Exception:  # a mode or layout that cannot be written back as it came
            raise ImageRefused(
                f"This {fmt} file could not be re-written without its metadata (an unusual "
                "colour mode or layout): export it as an ordinary RGB PNG or JPEG."
            ) from None
    return CheckedImage(stored, fmt, width, height, pages)


def _pixels_in(exc: Exception) -> int | None:
    """The pixel count in Pillow's "Image size (2500000000 pixels) exceeds limit..."."""
    match = re.search(r"\((\d+) pixels\)", str(exc))
    return int(match.group(1)) if match else None


def _too_many_pixels(size: tuple[int, int] | int | None, max_pixels: int) -> str:
    allowed = f"at most {max_pixels / 1e6:g} million pixels are taken"
    if size is None:
        return f"The image has far too many pixels to open safely; {allowed}."
    if isinstance(size, int):
        return (
            f"The image has {size / 1e6:,.0f} million pixels, far too many to open safely; "
            f"{allowed}. Reduce it, or upload the panel that matters."
        )
    width, height = size
    return (
        f"The image is {width:,} \u00d7 {height:,} pixels ({width * height / 1e6:,.0f} million); "
        f"{allowed}. Reduce it, or upload the panel that matters."
    )


def _count_pages(image: Image.Image, max_pages: int) -> int:
    """Pages of a multi-page file, reading at most `max_pages` + 1 of them."""
    if not getattr(image, "is_animated", False) and image.format != "TIFF":
        return 1
    try:
        image.seek(max_pages)
    except EOFError:
        pass
    except Exception:  # a broken page table
        raise ImageRefused(
            f"This {image.format} file's pages could not be read: it is damaged."
        ) from None
    else:
        raise ImageRefused(
            f"This {image.format} file has more than {max_pages} pages; figures can have at "
            f"most {max_pages} (only the first is shown). Save the panel you want on its own."
        )
    pages = image.tell() + 1
    image.seek(0)
    return pages


def _without_metadata(image: Image.Image, fmt: str) -> bytes:
    """The picture re-written with none of its file's metadata (see the module's note)."""
    kept = {key: image.info[key] for key in KEPT_INFO if key in image.info}
    orientation = image.getexif().get(0x0112, 1)
    out = io.BytesIO()
    # ("keep" needs Pillow's plain JPEG file: an MPO's first picture is re-encoded.)
    if image.format == "JPEG" and orientation == 1:
        # The same quantisation and subsampling as the original: no visible loss.
        image.info = kept
        image.save(out, "JPEG", quality="keep", subsampling="keep", **kept)
        return out.getvalue()
    # A copy is a plain Image: nothing of the TIFF's tags or the PNG's chunks comes along.
    clean = ImageOps.exif_transpose(image) if orientation != 1 else image.copy()
    clean.info = kept
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=95, **kept)
    elif fmt == "PNG":
        clean.save(out, "PNG", **kept)
    else:
        clean.save(out, "TIFF", compression="tiff_deflate", **kept)
    return out.getvalue()


def make_derivatives(original: bytes) -> dict[str, bytes]:
    """Thumbnail, screen-size JPEG and WebP of a stored original (see DERIVATIVES)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(original), formats=list(FORMATS)) as image:
            image.load()
            rgb = _as_rgb(image)
    made = {}
    for name, (side, fmt, _type, _ext) in DERIVATIVES.items():
        copy = rgb.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if fmt == "JPEG":
            copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        else:
            copy.save(out, fmt, quality=80)
        made[name] = out.getvalue()
    return made


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale (some microscopes' TIFFs and PNGs) to 8 bits.
        return image.convert("I").point(lambda v: v / 256).convert("RGB")
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


# -- deep zoom ------------------------------------------------------------------------

# A picture larger than this on its longest side also gets a Deep Zoom (DZI) tile
# pyramid, for OpenSeadragon: the screen copy (1600 px) would lose its detail.
DEEP_ZOOM_FROM = 2400
TILE_SIZE = 254  # + 1 px overlap on each inner side: 256 px tiles, as OpenSeadragon's own
TILE_OVERLAP = 1


def needs_deep_zoom(width: int, height: int) -> bool:
    return max(width, height) > DEEP_ZOOM_FROM


def deep_zoom_descriptor(width: int, height: int) -> bytes:
    """The .dzi file (Microsoft's Deep Zoom format, which OpenSeadragon reads)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" '
        f'TileSize="{TILE_SIZE}" Overlap="{TILE_OVERLAP}" Format="jpg">'
        f'<Size Width="{width}" Height="{height}"/></Image>\n'
    ).encode()


def deep_zoom_tiles(original: bytes):
    """(level, column, row, JPEG bytes) of every tile, largest level first.

    Level L is the picture scaled by 1/2^(top - L), top = ceil(log2(longest
    side)); level 0 is one pixel. Each level is made from the one above it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(original), formats=list(FORMATS)) as image:
            image.load()
            level_image = _as_rgb(image)
    top = max(level_image.size) - 1
    top = top.bit_length()  # ceil(log2(longest side))
    for level in range(top, -1, -1):
        width, height = level_image.size
        for column in range(-(-width // TILE_SIZE)):
            for row in range(-(-height // TILE_SIZE)):
                left = max(0, column * TILE_SIZE - TILE_OVERLAP)
                upper = max(0, row * TILE_SIZE - TILE_OVERLAP)
                right = min(width, (column + 1) * TILE_SIZE + TILE_OVERLAP)
                lower = min(height, (row + 1) * TILE_SIZE + TILE_OVERLAP)
                out = io.BytesIO()
                level_image.crop((left, upper, right, lower)).save(out, "JPEG", quality=85)
                yield level, column, row, out.getvalue()
        if level:
            level_image = level_image.resize(
                (max(1, -(-width // 2)), max(1, -(-height // 2))), Image.Resampling.LANCZOS
            )
