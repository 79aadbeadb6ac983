"""A speaker's uploaded photo, checked and made safe to publish.

Whatever arrives is decoded by Pillow only after its header passed the size
checks (a small file may declare billions of pixels: a decompression bomb),
then drawn afresh as a JPEG of at most SPEAKER_PHOTO_MAX_SIDE pixels a side.
The new file carries no metadata: EXIF (camera, GPS position, time), XMP and
comments stay behind, after the EXIF orientation has been applied.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# What browsers show everywhere; anything else (SVG with scripts, TIFF, PSD, ...) is refused.
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
JPEG_QUALITY = 85


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def process_photo(upload) -> ProcessedPhoto:
    """The uploaded file `upload` (any file-like object with .size or a readable stream) as a safe JPEG.

    Raises ValidationError with a message for the speaker when the file is too
    big, is not a JPEG, PNG, WebP or GIF image, is damaged, or has more pixels
    than SPEAKER_PHOTO_MAX_PIXELS.
    """
    max_bytes = settings.SPEAKER_PHOTO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise _invalid(
            _("This file is %(size)s; a photo may be at most %(max)s.")
            % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
            "photo_too_big",
        )
    not_an_image = _invalid(
        _("This file is not a photo we can read. Upload a JPEG, PNG, WebP or GIF image."), "photo_not_image"
    )
    upload.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice that: both are refused here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(upload)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise not_an_image from None
        with image:
            if image.format not in ACCEPTED_FORMATS:
                raise not_an_image
            width, height = image.size
            max_pixels = settings.SPEAKER_PHOTO_MAX_PIXELS
            if width < 1 or height < 1 or width * height > max_pixels:
                raise _too_large()
            try:
                image.load()
                # Turned upright as the camera meant, before the EXIF that says so is dropped.
                image = ImageOps.exif_transpose(image)
                image = _flattened(image)
                side = settings.SPEAKER_PHOTO_MAX_SIDE
                image.thumbnail((side, side), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                # No exif=, icc_profile= or comment=: the new file carries none of the old metadata.
                image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise not_an_image from None
    return ProcessedPhoto(data=out.getvalue(), width=image.width, height=image.height)


def _too_large() -> ValidationError:
    megapixels = settings.SPEAKER_PHOTO_MAX_PIXELS / 1_000_000
    return _invalid(
        _("This image has too many pixels: a photo may have at most %(max)s million. Make it smaller and try again.")
        % {"max": f"{megapixels:g}"},
        "photo_too_large",
    )


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
