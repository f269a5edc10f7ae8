"""Images: PNG, JPEG, TIFF (every page of a multi-page TIFF), BMP, GIF and WebP, read by OCR.

Text in an image can only be read with the ``ocr`` extra; without it an image is ``unsupported`` and
the message names the extra to install. Sizes are checked from the header before any pixel is decoded
(``settings.max_image_pixels``), so a decompression bomb costs nothing. EXIF orientation is applied
before recognition, and very large images are scaled down to what the recogniser can use.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ..data import Block, Location
from ..errors import CorruptDocumentError, ExtractionError, LimitExceededError
from . import ocr
from .base import Context, Extractor, Source, register

_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a")
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})  # DIB header sizes of real BMP files
OCR_MAX_SIDE_PX = 2000  # larger images are scaled down before OCR, as RapidOCR itself would do


def is_image(data: bytes) -> bool:
    """True when ``data`` starts like an image format this module reads."""
    if data.startswith(_MAGICS):
        return True
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data[:2] == b"BM" and len(data) >= 26 and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES


@register
class ImageExtractor(Extractor):
    """Raster images: OCR of each frame of a TIFF, or of the one picture of any other format."""

    name = "image"
    extensions = (".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".gif", ".webp")
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return is_image(source.head)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        ocr.require(ctx.settings, f"{source.name}: an image")
        image = _open(source)
        with image:
            # A TIFF's frames are pages; the frames of a GIF or WebP are an animation of one picture.
            frames = _decoding(source.name, lambda: getattr(image, "n_frames", 1) if image.format == "TIFF" else 1)
            ctx.check_pages(frames, "frames")
            for index in range(frames):
                if index >= ctx.settings.ocr_max_pages:
                    ctx.warn(f"only the first {index} of {frames} frames were OCR'd; raise MIDIAN_OCR_MAX_PAGES to read them all")
                    break
                ctx.check_time()
                location = Location(part=f"page:{index + 1}", page=index + 1) if frames > 1 else Location(part="body")
                yield from ocr.ocr_blocks(_pixels(image, index, source.name, ctx), location)


T = TypeVar("T")


def _decoding(name: str, step: Callable[[], T]) -> T:
    """Run one Pillow step on untrusted bytes: any failure of the decoder means a damaged file."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd EXIF or TIFF tags; the outcome is what counts
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return step()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitExceededError(f"{name}: {exc}; raise MIDIAN_MAX_IMAGE_PIXELS if the image is genuine") from exc
    except ExtractionError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, TypeError, struct.error ... on bad data
        raise CorruptDocumentError(f"{name}: image data cannot be decoded ({type(exc).__name__}: {exc}); "
                                   "the file is damaged or truncated") from exc


def _open(source: Source) -> Any:
    from PIL import Image

    return _decoding(source.name, lambda: Image.open(io.BytesIO(source.data)))


def _pixels(image: Any, index: int, name: str, ctx: Context) -> Any:
    """Frame ``index`` as a BGR array, upright, checked against the pixel limit before decoding."""
    import numpy as np
    from PIL import Image, ImageOps

    _decoding(name, lambda: image.seek(index))
    width, height = image.size
    limit = ctx.settings.max_image_pixels
    if width * height > limit:
        raise LimitExceededError(f"{name}: image of {width}x{height} pixels, above the limit of {limit}; "
                                 "raise MIDIAN_MAX_IMAGE_PIXELS to read it")

    def decode() -> Any:
        frame = (ImageOps.exif_transpose(image) if index == 0 else image.copy()).convert("RGB")
        if max(frame.size) > OCR_MAX_SIDE_PX:
            frame.thumbnail((OCR_MAX_SIDE_PX, OCR_MAX_SIDE_PX), Image.Resampling.LANCZOS)
        return np.ascontiguousarray(np.asarray(frame)[:, :, ::-1])

    return _decoding(name, decode)
