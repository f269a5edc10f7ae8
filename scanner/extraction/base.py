"""The extractor contract: a :class:`Source` in, :class:`~scanner.data.Block` objects out.

An extractor is a small class registered by format with :func:`register`; adding a format is one new
module in ``scanner/extraction/`` (discovered automatically) plus its tests. Each extractor says how
to recognise its format from the bytes (``sniff``) and which file name endings it owns
(``extensions``); the registry asks them in ``priority`` order.

Extractors never write member paths to disk, check :meth:`Context.check_time` in long loops, charge
every unpacked byte to :meth:`Context.charge`, and recurse into embedded files, attachments and
archive members only through :meth:`Context.extract_child`.
"""

from __future__ import annotations

import io
import time
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, ClassVar

from ..data import Block, Location
from ..errors import (
    CorruptDocumentError,
    ExtractionError,
    ExtractionTimeout,
    LimitExceededError,
    UnsupportedFormatError,
    error_info,
    status_of,
)
from ..settings import Settings

if TYPE_CHECKING:
    import olefile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


class Source:
    """The bytes of one document and what sniffing learns about them, computed lazily and once."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data

    def __repr__(self) -> str:
        return f"Source({self.name!r}, {len(self.data)} bytes)"

    @cached_property
    def suffix(self) -> str:
        """The lower-case file name ending with its dot (``.docx``), or ``""``."""
        return PurePosixPath(self.name.replace("\\", "/")).suffix.lower()

    @cached_property
    def head(self) -> bytes:
        return self.data[:8192]

    @cached_property
    def is_zip(self) -> bool:
        return self.data[:4] in ZIP_MAGICS

    @cached_property
    def is_ole(self) -> bool:
        return self.data[:8] == OLE_MAGIC

    @cached_property
    def zip_file(self) -> zipfile.ZipFile | None:
        """The bytes opened as a ZIP package, once (``None`` when this is not a readable ZIP).

        Sniffing and extraction share it, so a package's central directory is read only once.
        """
        if not self.is_zip:
            return None
        try:
            return zipfile.ZipFile(io.BytesIO(self.data))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            return None

    @cached_property
    def zip_names(self) -> frozenset[str]:
        """Member names of a ZIP package (empty when this is not a readable ZIP)."""
        return frozenset(self.zip_file.namelist()) if self.zip_file is not None else frozenset()

    @cached_property
    def ole_streams(self) -> frozenset[str]:
        """Lower-case ``/``-joined stream paths of an OLE2 compound file (empty when not OLE)."""
        if not self.is_ole:
            return frozenset()
        try:
            import olefile

            with olefile.OleFileIO(io.BytesIO(self.data)) as ole:
                return frozenset("/".join(parts).lower() for parts in ole.listdir(streams=True, storages=True))
        except Exception:  # olefile raises assorted errors on damaged files
            return frozenset()

    def open_zip(self) -> zipfile.ZipFile:
        """Open the bytes as a ZIP package or raise :class:`CorruptDocumentError`."""
        try:
            return zipfile.ZipFile(io.BytesIO(self.data))
        except NotImplementedError as exc:  # headers that claim a ZIP version or feature Python lacks
            raise UnsupportedFormatError(f"{self.name}: uses a ZIP feature Python cannot read ({exc})") from exc
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise CorruptDocumentError(f"{self.name}: not a readable ZIP package ({exc}); the file is damaged or truncated") from exc

    def open_ole(self) -> olefile.OleFileIO:
        """Open the bytes as an OLE2 compound file or raise :class:`CorruptDocumentError`."""
        import olefile

        try:
            return olefile.OleFileIO(io.BytesIO(self.data))
        except Exception as exc:
            raise CorruptDocumentError(f"{self.name}: not a readable OLE2 compound file ({exc}); the file is damaged or truncated") from exc


@dataclass
class _Budget:
    """Counters shared by a document and everything nested in it."""

    deadline: float
    expanded_bytes: int = 0
    blocks: int = 0
    chars: int = 0


@dataclass
class MemberError:
    """An embedded file, attachment or archive member that could not be read."""

    attachment: str
    status: str
    error: dict[str, str]


@dataclass
class Context:
    """Limits, password and bookkeeping for one extraction, shared with nested extractions."""

    settings: Settings
    password: str | None = None
    depth: int = 0
    attachment: str | None = None
    warnings: list[str] = field(default_factory=list)
    member_errors: list[MemberError] = field(default_factory=list)
    budget: _Budget | None = None

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = _Budget(deadline=time.monotonic() + self.settings.file_timeout_s)

    # --- limits ---------------------------------------------------------------------------
    def check_time(self) -> None:
        """Raise :class:`ExtractionTimeout` once the per-file time limit has run out."""
        assert self.budget is not None
        if time.monotonic() > self.budget.deadline:
            raise ExtractionTimeout(
                f"extraction took longer than {self.settings.file_timeout_s:g} s; "
                "raise MIDIAN_FILE_TIMEOUT_S to allow more time"
            )

    def charge(self, nbytes: int, what: str = "unpacked data") -> None:
        """Count ``nbytes`` of decompressed data against the per-document expansion budget."""
        assert self.budget is not None
        self.budget.expanded_bytes += nbytes
        if self.budget.expanded_bytes > self.settings.max_expanded_bytes:
            raise LimitExceededError(
                f"{what} expands to more than {self.settings.max_expanded_bytes} bytes "
                "(possible decompression bomb); raise MIDIAN_MAX_EXPANDED_BYTES if the file is genuine"
            )

    def check_ratio(self, compressed: int, uncompressed: int, what: str) -> None:
        """Refuse a member whose declared expansion ratio marks it as a decompression bomb."""
        ratio = uncompressed / max(compressed, 1)
        if uncompressed > 1_000_000 and ratio > self.settings.max_expansion_ratio:
            raise LimitExceededError(
                f"{what} expands {ratio:.0f}x ({compressed} -> {uncompressed} bytes), above the limit of "
                f"{self.settings.max_expansion_ratio:g}x (decompression bomb); raise MIDIAN_MAX_EXPANSION_RATIO if genuine"
            )

    def check_pages(self, count: int, what: str = "pages") -> None:
        if count > self.settings.max_pages:
            raise LimitExceededError(
                f"document has {count} {what}, above the limit of {self.settings.max_pages}; raise MIDIAN_MAX_PAGES to read it"
            )

    def warn(self, message: str) -> None:
        prefix = f"{self.attachment}: " if self.attachment else ""
        self.warnings.append(prefix + message)

    # --- locations ------------------------------------------------------------------------
    def located(self, location: Location) -> Location:
        """``location`` tagged with this context's attachment path (for nested documents)."""
        # Blocks from deeper levels already carry their full member path.
        if self.attachment is None or location.attachment is not None:
            return location
        return replace(location, attachment=self.attachment)

    # --- recursion ------------------------------------------------------------------------
    def extract_child(self, name: str, data: bytes) -> list[Block]:
        """Extract an embedded file, attachment or archive member, within the depth limit.

        Failures of the child never abort the parent: they are recorded in :attr:`member_errors`
        (the scan decides whether they block a verdict) and the parent goes on.
        """
        from . import extract_blocks  # late import: the registry imports this module

        child_path = f"{self.attachment}/{name}" if self.attachment else name
        if self.depth >= self.settings.max_archive_depth:
            self._member_failed(child_path, LimitExceededError(
                f"nested {self.depth + 1} levels deep, above the limit of {self.settings.max_archive_depth}; "
                "raise MIDIAN_MAX_ARCHIVE_DEPTH to read it"))
            return []
        child = Context(
            settings=self.settings,
            password=self.password,
            depth=self.depth + 1,
            attachment=child_path,
            warnings=self.warnings,
            member_errors=self.member_errors,
            budget=self.budget,
        )
        try:
            return list(extract_blocks(Source(name, data), child))
        except ExtractionTimeout:
            raise
        except Exception as exc:  # one bad member must not lose the rest of the container
            self._member_failed(child_path, exc)
            return []

    def _member_failed(self, path: str, exc: BaseException) -> None:
        self.member_errors.append(MemberError(path, status_of(exc), error_info(exc)))
        self.warnings.append(f"{path}: {status_of(exc)}: {error_info(exc)['message']}")


class Extractor(ABC):
    """Reads one family of formats into blocks."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 50  # lower is asked first; text fallbacks use high numbers

    @classmethod
    @abstractmethod
    def sniff(cls, source: Source) -> bool:
        """True when the bytes are this extractor's format (content first, name endings only as a tie-break)."""

    @abstractmethod
    def extract(self, source: Source, ctx: Context) -> Iterable[Block]:
        """Yield the document's blocks in reading order; raise an :class:`ExtractionError` on failure."""


_REGISTRY: dict[str, type[Extractor]] = {}


def register(cls: type[Extractor]) -> type[Extractor]:
    """Class decorator adding an extractor to the registry; names must be unique."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__qualname__} needs a class attribute `name`")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"an extractor named {cls.name!r} is already registered ({_REGISTRY[cls.name].__qualname__})")
    _REGISTRY[cls.name] = cls
    return cls


def registered() -> dict[str, type[Extractor]]:
    """Name -> extractor class, in sniffing order."""
    return dict(sorted(_REGISTRY.items(), key=lambda item: (item[1].priority, item[0])))


def choose(source: Source) -> type[Extractor]:
    """The extractor for ``source``: the first whose ``sniff`` accepts it, else by file name ending."""
    extractors = registered()
    for cls in extractors.values():
        try:
            if cls.sniff(source):
                return cls
        except ExtractionError:
            raise
        except Exception:  # a sniffer that trips on odd bytes simply does not claim them
            continue
    for cls in extractors.values():
        if source.suffix and source.suffix in cls.extensions:
            return cls
    raise UnsupportedFormatError(
        f"{source.name}: format not recognised (starts with {source.head[:8]!r}, ending {source.suffix or 'none'}); "
        "Midian reads PDF, Office (OOXML, legacy, ODF, WPS), OFD, RTF, HTML, text, e-mail, archives and images"
    )


def run_extractor(cls: type[Extractor], source: Source, ctx: Context) -> Iterator[Block]:
    """Run one extractor, enforcing the block and character limits and tagging nested locations."""
    assert ctx.budget is not None
    for block in cls().extract(source, ctx):
        if not block.text or not block.text.strip():
            continue
        ctx.budget.blocks += 1
        ctx.budget.chars += len(block.text)
        if ctx.budget.blocks > ctx.settings.max_blocks or ctx.budget.chars > ctx.settings.max_text_chars:
            raise LimitExceededError(
                f"document yields more than {ctx.settings.max_blocks} blocks or {ctx.settings.max_text_chars} characters; "
                "raise MIDIAN_MAX_BLOCKS / MIDIAN_MAX_TEXT_CHARS to read it whole"
            )
        if ctx.attachment is not None:
            block = replace(block, location=ctx.located(block.location))
        yield block
