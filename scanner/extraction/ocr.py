"""Optical character recognition for scanned pages and images, through the optional ``ocr`` extra.

The engine is RapidOCR (``rapidocr-onnxruntime``, whose wheel carries its Chinese/English models, so
it works offline). Loading it takes about a second, so it is loaded once per process, on first use,
and kept. Recognised lines go through :mod:`scanner.extraction.layout` to become paragraphs, and every
block carries the ``ocr`` flag so a reviewer knows the text was read off an image.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..data import Block, Location
from ..errors import UnsupportedFormatError
from .layout import Line, join_lines, paragraphs

if TYPE_CHECKING:
    import numpy as np

    from ..settings import Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'midian[ocr]'"
OCR_FLAGS = ("ocr",)

_engine: Any = None
_engine_lock = threading.Lock()


def installed() -> bool:
    """True when the ``ocr`` extra (rapidocr-onnxruntime) can be imported."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def enabled(settings: Settings) -> bool:
    """True when OCR may run: the extra is installed and ``settings.ocr`` is on."""
    return settings.ocr and installed()


def unavailable_reason(settings: Settings) -> str:
    """What to do to get OCR, for warnings and errors."""
    if not installed():
        return f"install the OCR extra ({INSTALL_HINT}) to read it"
    return "OCR is switched off; set MIDIAN_OCR=true to read it"


def require(settings: Settings, what: str) -> None:
    """Raise :class:`UnsupportedFormatError` naming the missing extra when OCR cannot run."""
    if not enabled(settings):
        raise UnsupportedFormatError(f"{what} has text only as pixels; {unavailable_reason(settings)}")


def engine() -> Any:
    """The process's RapidOCR engine, loaded on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                try:
                    from rapidocr_onnxruntime import RapidOCR
                except ImportError as exc:  # installed() said yes, but it does not import
                    raise UnsupportedFormatError(f"the OCR extra does not import ({exc}); reinstall it: {INSTALL_HINT}") from exc
                log.debug("loading the RapidOCR engine")
                _engine = RapidOCR()
    return _engine


def recognise(image: np.ndarray) -> list[Line]:
    """Text lines in a BGR (or grey) image, top to bottom, with their boxes in pixels."""
    result, _ = engine()(image)
    lines: list[Line] = []
    for box, text, _score in result or ():
        text = str(text).strip()
        if not text:
            continue
        xs = [float(p[0]) for p in box]
        ys = [float(p[1]) for p in box]
        lines.append(Line(text, min(xs), min(ys), max(xs), max(ys)))
    return lines  # RapidOCR returns boxes in reading order: top to bottom, left to right within a row


def ocr_blocks(image: np.ndarray, location: Location) -> Iterator[Block]:
    """Paragraph blocks, flagged ``ocr``, of the text recognised in ``image``."""
    for para in paragraphs(recognise(image)):
        text = join_lines(ln.text for ln in para)
        if text:
            yield Block(text=text, location=location, flags=OCR_FLAGS)
