"""QR codes read back from images, as a phone's camera app reads them: QR codes only.

Asked for every format, zxing-cpp also finds a short ITF (1D) barcode in the
modules of about one QR code in 600 (tickets with random tokens made the
check-in test fail now and then).
"""

import zxingcpp
from PIL import Image


def qr_codes(image: Image.Image) -> list[str]:
    """The text of every QR code in `image`."""
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
