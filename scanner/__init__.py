"""Midian (秘点): find the trade secrets in documents before they leave the company.

The library reads top to bottom as extraction → segmentation → detectors → scoring → report; each
stage lives in the module named after it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .data import Block, Cell, Extraction, Location
from .errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    ExtractionError,
    ExtractionTimeout,
    LimitExceededError,
    MidianError,
    ModelError,
    PolicyError,
    RegistryError,
    UnsupportedFormatError,
    UsageError,
)
from .extraction import extract_bytes, extract_path
from .settings import Settings, get_settings

__all__ = [
    "Block",
    "Cell",
    "CorruptDocumentError",
    "EncryptedDocumentError",
    "Extraction",
    "ExtractionError",
    "ExtractionTimeout",
    "LimitExceededError",
    "Location",
    "MidianError",
    "ModelError",
    "PolicyError",
    "RegistryError",
    "Settings",
    "UnsupportedFormatError",
    "UsageError",
    "__version__",
    "extract_bytes",
    "extract_path",
    "get_settings",
]
