"""Extraction: bytes in, a list of text blocks out, each knowing where it came from.

``extract_path`` and ``extract_bytes`` never raise for a bad document: every failure becomes a typed
status in the returned :class:`~scanner.data.Extraction`. Formats live one per module in this package
and register themselves (see :mod:`scanner.extraction.base`); this module discovers them.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import pkgutil
from collections.abc import Iterator
from pathlib import Path

from ..data import Block, Extraction
from ..errors import LimitExceededError, UsageError, error_info, status_of
from ..settings import Settings, get_settings
from .base import Context, Extractor, MemberError, Source, choose, register, registered, run_extractor

__all__ = [
    "Context",
    "Extractor",
    "MemberError",
    "Source",
    "extract_blocks",
    "extract_bytes",
    "extract_path",
    "read_input",
    "register",
    "registered",
]

log = logging.getLogger(__name__)

_INTERNAL = {"base"}


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _INTERNAL and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_discover()


def extract_blocks(source: Source, ctx: Context) -> Iterator[Block]:
    """Blocks of ``source`` from the extractor its bytes call for (raises on failure)."""
    ctx.check_time()
    yield from run_extractor(choose(source), source, ctx)


def extract_bytes(
    name: str,
    data: bytes,
    *,
    settings: Settings | None = None,
    password: str | None = None,
    sha256: str | None = None,
) -> Extraction:
    """Extract one document held in memory; failures become a typed status, never an exception."""
    settings = settings or get_settings()
    digest = sha256 or hashlib.sha256(data).hexdigest()
    ctx = Context(settings=settings, password=password)
    source = Source(os.path.basename(name) or name, data)
    fmt: str | None = None
    try:
        cls = choose(source)
        fmt = cls.name
        blocks = tuple(run_extractor(cls, source, ctx))
    except Exception as exc:  # every failure is reported as a status, never raised
        log.debug("extraction of %s failed", name, exc_info=True)
        return Extraction(
            path=name,
            sha256=digest,
            status=status_of(exc),
            error=error_info(exc),
            warnings=tuple(ctx.warnings),
            format=fmt,
            size=len(data),
        )
    return Extraction(
        path=name,
        sha256=digest,
        blocks=blocks,
        warnings=tuple(ctx.warnings),
        format=fmt,
        size=len(data),
        member_errors=tuple(ctx.member_errors),
    )


def read_input(path: str | Path, settings: Settings) -> bytes:
    """The bytes of ``path`` (``-`` reads standard input), refusing files over the size limit."""
    if str(path) == "-":
        import sys

        data = sys.stdin.buffer.read(settings.max_file_bytes + 1)
    else:
        p = Path(path)
        try:
            size = p.stat().st_size
        except FileNotFoundError as exc:
            raise UsageError(f"{path}: no such file") from exc
        if size > settings.max_file_bytes:
            raise LimitExceededError(
                f"file is {size} bytes, above the limit of {settings.max_file_bytes}; raise MIDIAN_MAX_FILE_BYTES to scan it"
            )
        with p.open("rb") as fh:
            data = fh.read(settings.max_file_bytes + 1)
    if len(data) > settings.max_file_bytes:
        raise LimitExceededError(
            f"input is larger than the limit of {settings.max_file_bytes} bytes; raise MIDIAN_MAX_FILE_BYTES to scan it"
        )
    return data


def extract_path(path: str | Path, *, settings: Settings | None = None, password: str | None = None) -> Extraction:
    """Extract one file (or ``-`` for standard input); failures become a typed status."""
    settings = settings or get_settings()
    name = str(path)
    try:
        data = read_input(path, settings)
    except UsageError:
        raise
    except Exception as exc:
        return Extraction(path=name, sha256=_sha256_file(path), status=status_of(exc), error=error_info(exc))
    return extract_bytes(name, data, settings=settings, password=password)


def _sha256_file(path: str | Path) -> str:
    """Streaming SHA-256 of a file too large to read whole ("" for standard input or unreadable files)."""
    if str(path) == "-":
        return ""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()
