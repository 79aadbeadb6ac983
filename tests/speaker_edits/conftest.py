import datetime
import io
import struct
import zlib

import pytest
from django.utils import timezone
from PIL import Image

from speaker_edits import services


@pytest.fixture
def organizer(series, make_team_member):
    user = make_team_member(series, "olga")
    user.email = "olga@example.edu"
    user.save()
    return user


@pytest.fixture
def invite(organizer):
    """Send the talk's speaker a link (through the service, as the staff page does)."""

    def invite(event, *, speaker=None, email="atlas@example.edu", days=7):
        return services.invite_speaker(
            event=event,
            speaker=speaker or event.speakers.get(),
            email=email,
            expires_at=timezone.now() + datetime.timedelta(days=days),
            actor=organizer,
        )

    return invite


def jpeg_bytes(size=(1200, 900), *, exif=None, color=(200, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def gps_exif() -> Image.Exif:
    """EXIF as a phone writes it: camera make and model, and where the photo was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0112] = 1  # Orientation
    exif[0x8825] = {1: "N", 2: (30.0, 17.0, 10.0), 3: "W", 4: (97.0, 44.0, 12.0)}  # GPS: Austin
    return exif


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` by `height` pixels: a decompression bomb as far as its header goes."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    # The IHDR chunk starts at byte 8: length (4), type (4), width (4), height (4), ...; CRC after its 13 bytes.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)
