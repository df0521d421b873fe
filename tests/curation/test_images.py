"""curation/images.py: what a figure's file must be, read from its content (no database)."""

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from curation.images import (
    DERIVATIVES,
    ImageRefused,
    check_image,
    deep_zoom_descriptor,
    deep_zoom_tiles,
    make_derivatives,
    needs_deep_zoom,
)
from tests.figure_files import (
    SVG_WITH_SCRIPT,
    jpeg,
    many_page_tiff,
    png,
    png_bomb,
    renamed_executable,
    tiff,
    truncated_jpeg,
)

LIMITS = {"max_bytes": 25 * 1024 * 1024, "max_pixels": 80_000_000, "max_pages": 10}


def refusal(data: bytes, **limits) -> str:
    with pytest.raises(ImageRefused) as caught:
        check_image(data, **{**LIMITS, **limits})
    return str(caught.value)


def test_a_png_named_anything_is_read_as_a_png():
    checked = check_image(png(), **LIMITS)
    assert (checked.format, checked.content_type, checked.extension) == ("PNG", "image/png", "png")
    assert (checked.width, checked.height) == (400, 300)


def test_a_renamed_executable_is_refused_as_a_program():
    assert "Windows program" in refusal(renamed_executable())


def test_an_svg_with_script_is_refused():
    message = refusal(SVG_WITH_SCRIPT)
    assert "SVG" in message and "script" in message
    assert "SVG" in refusal(b"  \n<svg onload='alert(1)'></svg>")


def test_text_that_is_not_a_picture_is_refused():
    assert "not a PNG, JPEG or TIFF image" in refusal(b"just some text, not a picture at all")


def test_a_50000_by_50000_png_bomb_is_refused_before_it_is_decoded():
    bomb = png_bomb()
    assert len(bomb) < 1_000_000  # small on disk
    message = refusal(bomb)
    assert "2,500 million pixels" in message
    assert "at most 80 million" in message


def test_an_image_over_the_pixel_setting_is_refused_with_its_size():
    message = refusal(png(size=(200, 100)), max_pixels=10_000)
    assert "200 \u00d7 100 pixels" in message


def test_a_truncated_jpeg_is_refused():
    assert "damaged or cut short" in refusal(truncated_jpeg())


def test_a_tiff_with_thousands_of_pages_is_refused():
    assert "more than 10 pages" in refusal(many_page_tiff(5000))


def test_a_tiff_with_a_few_pages_keeps_its_first():
    checked = check_image(tiff(pages=3), **LIMITS)
    assert checked.pages == 3
    stored = Image.open(io.BytesIO(checked.data))
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.size == (300, 200)


def test_a_file_over_the_size_limit_is_refused_with_both_sizes():
    message = refusal(png(), max_bytes=1024)
    assert message == f"The file is {len(png()) // 1024} KB; figures can be at most 1 KB."
    assert "at most 25.0 MB" in refusal(
        b"\x89PNG" + bytes(25 * 1024 * 1024), max_bytes=25 * 1024 * 1024
    )


def test_an_empty_file_is_refused():
    assert "empty" in refusal(b"")


def test_exif_is_stripped_from_a_jpeg_and_its_pixels_kept():
    original = jpeg(exif=True)
    assert Image.open(io.BytesIO(original)).getexif()  # the test file has EXIF
    checked = check_image(original, **LIMITS)
    stored = Image.open(io.BytesIO(checked.data))
    assert not stored.getexif()
    assert b"Jane Roe" not in checked.data and b"MicroscopeCam" not in checked.data
    # The same quantisation tables (a smooth picture, as a micrograph is): the pixels barely move.
    smooth = Image.linear_gradient("L").resize((400, 300)).convert("RGB")
    out = io.BytesIO()
    smooth.save(out, "JPEG", quality=90, exif=Image.open(io.BytesIO(original)).getexif())
    again = Image.open(io.BytesIO(check_image(out.getvalue(), **LIMITS).data))
    before = Image.open(io.BytesIO(out.getvalue())).convert("RGB")
    assert max(ImageStat.Stat(ImageChops.difference(before, again.convert("RGB"))).mean) < 1


def test_text_chunks_are_stripped_from_a_png():
    checked = check_image(png(text={"Comment": "patient Jane Roe, MRN 12345"}), **LIMITS)
    assert b"Jane Roe" not in checked.data
    assert (
        Image.open(io.BytesIO(checked.data)).tobytes() == Image.open(io.BytesIO(png())).tobytes()
    )


def test_the_description_tag_is_stripped_from_a_tiff():
    checked = check_image(tiff(description="patient Jane Roe"), **LIMITS)
    assert b"Jane Roe" not in checked.data


def test_an_exif_rotation_is_applied_before_the_tag_goes():
    image = Image.new("RGB", (40, 20), "red")
    tags = Image.Exif()
    tags[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=tags)
    checked = check_image(out.getvalue(), **LIMITS)
    assert Image.open(io.BytesIO(checked.data)).size == (20, 40)


def test_derivatives_are_a_thumbnail_a_screen_jpeg_and_a_webp():
    copies = make_derivatives(check_image(jpeg(size=(2400, 1200)), **LIMITS).data)
    assert set(copies) == set(DERIVATIVES)
    sizes = {name: Image.open(io.BytesIO(data)) for name, data in copies.items()}
    assert sizes["thumbnail"].size == (320, 160) and sizes["thumbnail"].format == "JPEG"
    assert sizes["screen"].size == (1600, 800) and sizes["screen"].format == "JPEG"
    assert sizes["webp"].size == (1600, 800) and sizes["webp"].format == "WEBP"


def test_a_small_image_is_not_enlarged():
    copies = make_derivatives(check_image(png(size=(200, 100)), **LIMITS).data)
    assert Image.open(io.BytesIO(copies["screen"])).size == (200, 100)


def test_a_large_picture_gets_a_deep_zoom_pyramid_with_overlapping_tiles():
    assert not needs_deep_zoom(2400, 1000) and needs_deep_zoom(2401, 1000)
    tiles = {
        (level, column, row): data
        for level, column, row, data in deep_zoom_tiles(jpeg(size=(600, 300)))
    }
    # 600 px: 10 levels (1, 2, 3, 5, 10, 19, 38, 75, 150, 300, 600 px wide: 0..10).
    assert max(level for level, _, _ in tiles) == 10
    assert tiles.keys() >= {(10, 0, 0), (10, 1, 0), (10, 2, 1), (0, 0, 0)}
    assert (10, 3, 0) not in tiles  # 600 px: three columns of 254
    sizes = {key: Image.open(io.BytesIO(data)).size for key, data in tiles.items()}
    assert sizes[(10, 0, 0)] == (255, 255)  # the overlap on its inner sides only
    assert sizes[(10, 1, 1)] == (256, 47)  # 300 - 254 + 1 above
    assert sizes[(10, 2, 0)] == (93, 255)  # 600 - 508 + 1 left
    assert sizes[(0, 0, 0)] == (1, 1)
    descriptor = deep_zoom_descriptor(600, 300).decode()
    assert 'TileSize="254" Overlap="1" Format="jpg"' in descriptor
    assert '<Size Width="600" Height="300"/>' in descriptor


def test_a_cameras_jpeg_with_a_second_picture_is_a_jpeg_of_its_first():
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    checked = check_image(out.getvalue(), **LIMITS)
    assert (checked.format, checked.content_type) == ("JPEG", "image/jpeg")
    stored = Image.open(io.BytesIO(checked.data))
    assert stored.format == "JPEG" and getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((10, 10))[0] > 200  # red: the first picture
