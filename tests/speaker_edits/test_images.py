import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from speaker_edits.images import process_photo

from .conftest import gps_exif, jpeg_bytes, png_declaring


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_photo_comes_out_a_small_jpeg_without_its_exif_and_gps():
    original = jpeg_bytes((2400, 1800), exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry a position

    photo = process_photo(upload(original))

    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG"
    assert (image.width, image.height) == (800, 600) == (photo.width, photo.height)
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(0x8825) == {}
    assert "exif" not in image.info
    assert b"PhoneMaker" not in photo.data


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    photo = process_photo(upload(jpeg_bytes((400, 200), exif=exif)))
    assert (photo.width, photo.height) == (200, 400)


def test_a_transparent_png_is_laid_on_white():
    out = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(out, format="PNG")
    photo = process_photo(upload(out.getvalue(), "photo.png", "image/png"))
    assert Image.open(io.BytesIO(photo.data)).convert("RGB").getpixel((25, 25)) == (255, 255, 255)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7 not a photo at all",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        jpeg_bytes()[:200],  # cut off: the header reads, the pixels do not
        b"",
    ],
    ids=["pdf", "svg", "truncated-jpeg", "empty"],
)
def test_what_is_not_a_readable_photo_is_refused_with_a_clear_message(data):
    with pytest.raises(ValidationError) as caught:
        process_photo(upload(data))
    assert caught.value.code == "photo_not_image"
    assert "Upload a JPEG, PNG, WebP or GIF image" in caught.value.message


def test_a_tiff_is_refused_though_pillow_reads_it():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="TIFF")
    with pytest.raises(ValidationError) as caught:
        process_photo(upload(out.getvalue(), "photo.tiff", "image/tiff"))
    assert caught.value.code == "photo_not_image"


@pytest.mark.parametrize("side", [7000, 50_000], ids=["over-our-limit", "pillow-bomb"])
def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(side):
    data = png_declaring(side, side)
    assert len(data) < 100  # a few bytes claiming 49 million or 2.5 billion pixels

    with pytest.raises(ValidationError) as caught:
        process_photo(upload(data, "bomb.png", "image/png"))

    assert caught.value.code == "photo_too_large"
    assert "at most 40 million" in caught.value.message


def test_a_file_over_the_size_limit_is_refused_unread(settings):
    settings.SPEAKER_PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as caught:
        process_photo(upload(jpeg_bytes() + b"\0" * 1000))
    assert caught.value.code == "photo_too_big"
    assert "a photo may be at most 1000" in caught.value.message
