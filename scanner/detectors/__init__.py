"""Detectors: passages in, findings with evidence out. One module per family, discovered here."""

from __future__ import annotations

import importlib
import pkgutil

from .base import Detector, register, registered

__all__ = ["Detector", "register", "registered"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base" and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
