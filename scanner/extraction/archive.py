"""Archives: ZIP, 7z, tar (plain, .tgz, .tbz2, .txz) and single compressed files (.gz, .bz2, .xz).

Every member goes to :meth:`Context.extract_child`, so nested archives, e-mails and Office files are read
recursively within the depth limit. Declared sizes are only a first filter: members are read in chunks
with a hard cap (the expansion ratio and the per-document byte budget), so a bomb that lies about its
sizes is stopped while it inflates. Member names are display strings only; nothing is written to disk.

ZIP member names without the UTF-8 flag are CP437 by the specification but GBK in practice when the
archive was made on Chinese Windows; such names are re-decoded when that yields plausible Chinese.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import IO

from ..data import Block, Location
from ..errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    ExtractionError,
    LimitExceededError,
    UnsupportedFormatError,
)
from .base import Context, Extractor, Source, register
from .text import _common_share

CHUNK = 1 << 16
# Members that operating systems leave behind; they carry no document text.
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db"}
_JUNK_DIRS = ("__macosx/",)
# Root members that make a ZIP an OOXML / ODF / EPUB / OFD package, read by the office extractors.
_PACKAGE_MARKERS = ("[Content_Types].xml", "mimetype", "OFD.xml")
_MAX_NAME_CHARS = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
RAR_MAGIC = b"Rar!\x1a\x07"
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"


# --- shared helpers -----------------------------------------------------------------------------
def display_name(name: str) -> str:
    """A member name made safe to show: ``/`` separators, no control characters, bounded length."""
    name = _CONTROL.sub("", name.replace("\\", "/"))
    if len(name) > _MAX_NAME_CHARS:
        name = name[: _MAX_NAME_CHARS - 1] + "…"
    return name or "unnamed"


def is_junk(name: str) -> bool:
    """Directory entries and operating-system litter (``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``)."""
    lowered = name.lower()
    if lowered.endswith("/") or any(lowered.startswith(d) or f"/{d}" in lowered for d in _JUNK_DIRS):
        return True
    return PurePosixPath(lowered).name in _JUNK_NAMES


def member_cap(ctx: Context, compressed: int) -> int:
    """Most bytes a member of ``compressed`` packed bytes may inflate to before it counts as a bomb."""
    assert ctx.budget is not None
    by_ratio = max(1_000_000, int(compressed * ctx.settings.max_expansion_ratio))
    remaining = ctx.settings.max_expanded_bytes - ctx.budget.expanded_bytes
    return max(0, min(by_ratio, remaining))


def read_capped(stream: IO[bytes], cap: int, ctx: Context, what: str) -> bytes:
    """Read ``stream`` to its end in chunks, charging each one; refuse it once it passes ``cap`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise LimitExceededError(
                f"{what} inflates past {cap} bytes, beyond the expansion limits (decompression bomb); "
                "raise MIDIAN_MAX_EXPANSION_RATIO / MIDIAN_MAX_EXPANDED_BYTES if the file is genuine"
            )
        ctx.charge(len(chunk), what)
        chunks.append(chunk)
        ctx.check_time()
    return b"".join(chunks)


def _check_members(ctx: Context, count: int, name: str) -> None:
    if count > ctx.settings.max_archive_members:
        raise LimitExceededError(
            f"{name} has more than {ctx.settings.max_archive_members} members; raise MIDIAN_MAX_ARCHIVE_MEMBERS to read it"
        )


def name_block(ctx: Context, name: str) -> Block:
    """A metadata block carrying a member's or attachment's name: names often say what a file holds."""
    path = f"{ctx.attachment}/{name}" if ctx.attachment else name
    return Block(text=name, kind="metadata", location=Location(part="metadata", attachment=path))


def _extract_member(ctx: Context, source: Source, name: str, data: bytes) -> list[Block]:
    """The member's name block and blocks; an archive that contains itself is a quine bomb."""
    if len(data) == len(source.data) and data == source.data:
        raise LimitExceededError(
            f"{source.name} contains itself as {name!r} (a self-reproducing archive, i.e. an endless bomb)"
        )
    blocks = [name_block(ctx, name), *ctx.extract_child(name, data)]
    # A nested bomb spends the budget shared with this document: refuse the whole container, not just the member.
    ctx.charge(0, f"members of {source.name}")
    return blocks


def _need_password(name: str) -> EncryptedDocumentError:
    return EncryptedDocumentError(f"{name}: the archive is encrypted; pass --password to read it")


def _wrong_password(name: str) -> EncryptedDocumentError:
    return EncryptedDocumentError(f"{name}: the password given did not open the archive; check --password")


# --- ZIP ----------------------------------------------------------------------------------------
def zip_member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author saw it (GBK names from Chinese Windows decoded as GBK)."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    if raw.isascii():
        return name
    try:
        return raw.decode("utf-8")  # some tools write UTF-8 without setting the flag
    except UnicodeDecodeError:
        pass
    try:
        gbk = raw.decode("gbk")
    except UnicodeDecodeError:
        return name
    share, count = _common_share(gbk)
    return gbk if count and share >= 0.5 else name


def _is_package(source: Source) -> bool:
    return any(marker in source.zip_names for marker in _PACKAGE_MARKERS)


def _open_zip(source: Source, password: str | None) -> zipfile.ZipFile:
    try:
        infos = source.open_zip().infolist()
    except NotImplementedError as exc:  # zipfile refuses headers that claim a newer ZIP version
        raise UnsupportedFormatError(f"{source.name}: uses a ZIP feature Python cannot read ({exc})") from exc
    encrypted = [i for i in infos if i.flag_bits & 0x1]
    if not encrypted:
        return source.open_zip()
    if password is None:
        raise _need_password(source.name)
    aes = any(i.compress_type == 99 for i in encrypted)
    if aes:
        try:
            import pyzipper
        except ImportError as exc:
            raise UnsupportedFormatError(
                f"{source.name}: AES-encrypted ZIP needs the pyzipper package (pip install pyzipper)"
            ) from exc
        zf: zipfile.ZipFile = pyzipper.AESZipFile(io.BytesIO(source.data))
    else:
        zf = source.open_zip()
    zf.setpassword(password.encode("utf-8"))
    return zf


@register
class ZipExtractor(Extractor):
    """ZIP archives that are not Office/ODF/OFD packages; every member is read recursively."""

    name = "zip"
    extensions = (".zip", ".jar")
    priority = 70  # after the package sniffers: a .docx is a ZIP too

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.is_zip and not _is_package(source)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        with _open_zip(source, ctx.password) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir() and not is_junk(i.filename)]
            _check_members(ctx, len(infos), source.name)
            for info in infos:
                ctx.check_time()
                name = display_name(zip_member_name(info))
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                              zipfile.ZIP_LZMA, 99):
                    ctx.warn(f"{name}: ZIP compression method {info.compress_type} is not supported; member skipped")
                    continue
                ctx.check_ratio(info.compress_size, info.file_size, f"{source.name}: member {name!r}")
                data = self._read(zf, info, name, source, ctx)
                yield from _extract_member(ctx, source, name, data)

    @staticmethod
    def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, source: Source, ctx: Context) -> bytes:
        try:
            with zf.open(info) as stream:
                return read_capped(stream, member_cap(ctx, info.compress_size), ctx, f"{source.name}: member {name!r}")
        except RuntimeError as exc:  # zipfile's "Bad password for file"
            if "password" in str(exc).lower():
                raise _wrong_password(source.name) from exc
            raise CorruptDocumentError(f"{source.name}: member {name!r} cannot be read ({exc})") from exc
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
            raise CorruptDocumentError(f"{source.name}: member {name!r} is damaged ({exc})") from exc
        except NotImplementedError as exc:
            raise UnsupportedFormatError(f"{source.name}: member {name!r} uses an unsupported ZIP feature ({exc})") from exc


# --- 7z -----------------------------------------------------------------------------------------
class _CappedWriter:
    """A py7zr output buffer that refuses to grow past its cap (py7zr trusts the archive's sizes)."""

    def __init__(self, name: str, cap: int, ctx: Context, on_close: Callable[[str, bytes], None]) -> None:
        self.name = name
        self.cap = cap
        self.ctx = ctx
        self.on_close = on_close
        self.buffer = io.BytesIO()

    def write(self, s: bytes | bytearray) -> int:
        if self.buffer.tell() + len(s) > self.cap:
            raise LimitExceededError(
                f"7z member {self.name!r} inflates past {self.cap} bytes, beyond the expansion limits (decompression bomb); "
                "raise MIDIAN_MAX_EXPANSION_RATIO / MIDIAN_MAX_EXPANDED_BYTES if the file is genuine"
            )
        self.ctx.charge(len(s), f"7z member {self.name!r}")
        return self.buffer.write(s)

    def read(self, size: int | None = None) -> bytes:
        return self.buffer.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.buffer.seek(offset, whence)

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.buffer.getbuffer().nbytes

    def close(self) -> None:
        data, self.buffer = self.buffer.getvalue(), io.BytesIO()
        self.on_close(self.name, data)


@register
class SevenZipExtractor(Extractor):
    """7z archives (py7zr), including password-protected ones when ``--password`` opens them."""

    name = "7z"
    extensions = (".7z",)
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.data.startswith(SEVEN_ZIP_MAGIC)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        import py7zr
        from py7zr.exceptions import ArchiveError, PasswordRequired
        from py7zr.io import WriterFactory

        members: list[tuple[str, bytes]] = []
        cap = member_cap(ctx, len(source.data))

        def keep(name: str, data: bytes) -> None:
            members.append((name, data))

        class Factory(WriterFactory):
            def create(self, filename: str) -> _CappedWriter:  # type: ignore[override]
                return _CappedWriter(filename, cap, ctx, keep)

        try:
            with py7zr.SevenZipFile(io.BytesIO(source.data), mode="r", password=ctx.password) as archive:
                if archive.needs_password() and ctx.password is None:
                    raise _need_password(source.name)
                infos = [i for i in archive.list() if not i.is_directory and not is_junk(i.filename)]
                _check_members(ctx, len(infos), source.name)
                total = sum(i.uncompressed or 0 for i in infos)
                ctx.check_ratio(len(source.data), total, source.name)
                archive.extract(targets=[i.filename for i in infos], factory=Factory())
        except PasswordRequired as exc:
            raise _need_password(source.name) from exc
        except ExtractionError:
            raise
        except (ArchiveError, lzma.LZMAError, zlib.error, EOFError, KeyError, IndexError, ValueError, TypeError,
                OSError) as exc:
            if ctx.password is not None and archive_is_encrypted(source.data):
                raise _wrong_password(source.name) from exc
            raise CorruptDocumentError(f"{source.name}: not a readable 7z archive ({type(exc).__name__}: {exc})") from exc
        except Exception as exc:  # py7zr surfaces codec failures as assorted exception types
            if ctx.password is not None:
                raise _wrong_password(source.name) from exc
            raise CorruptDocumentError(f"{source.name}: not a readable 7z archive ({type(exc).__name__}: {exc})") from exc
        for name, data in members:
            ctx.check_time()
            yield from _extract_member(ctx, source, display_name(name), data)


def archive_is_encrypted(data: bytes) -> bool:
    """True when a 7z archive needs a password (its headers or some folder use AES)."""
    import py7zr

    try:
        with py7zr.SevenZipFile(io.BytesIO(data), mode="r") as archive:
            return bool(archive.needs_password())
    except Exception:  # header encryption makes even the listing fail without a password
        return True


# --- RAR ----------------------------------------------------------------------------------------
@register
class RarExtractor(Extractor):
    """RAR archives are recognised so that they are reported, not mistaken for text."""

    name = "rar"
    extensions = (".rar",)
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.data.startswith(RAR_MAGIC)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        raise UnsupportedFormatError(
            f"{source.name}: RAR archives need the rarfile package and an unrar tool, which are not installed; "
            "convert the archive to ZIP or 7z to scan it"
        )


# --- tar and single compressed files ------------------------------------------------------------
def _decompressor(kind: str, data: bytes) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=io.BytesIO(data))
    if kind == "bzip2":
        return bz2.BZ2File(io.BytesIO(data))
    return lzma.LZMAFile(io.BytesIO(data))


_COMPRESSED_SUFFIXES = {".gz": "", ".tgz": ".tar", ".bz2": "", ".tbz": ".tar", ".tbz2": ".tar", ".xz": "", ".txz": ".tar"}


def _compression(data: bytes) -> str | None:
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(BZIP2_MAGIC) and data[3:4].isdigit():
        return "bzip2"
    if data.startswith(XZ_MAGIC):
        return "xz"
    return None


def _is_tar(data: bytes) -> bool:
    if len(data) < 512:
        return False
    return data[257:262] == b"ustar" or _tar_checksum_ok(data[:512])


def _tar_checksum_ok(header: bytes) -> bool:
    """Old (pre-POSIX) tar headers have no magic; their checksum field still identifies them."""
    try:
        stored = int(header[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(header[:148]) + 8 * 32 + sum(header[156:])
    return stored == computed and header[0] != 0


def inner_name(name: str) -> str:
    """``report.txt.gz`` -> ``report.txt``; ``data.tgz`` -> ``data.tar``."""
    path = PurePosixPath(name.replace("\\", "/"))
    replacement = _COMPRESSED_SUFFIXES.get(path.suffix.lower())
    if replacement is None:
        return path.name + ".out"
    return path.stem + replacement if replacement and not path.stem.lower().endswith(".tar") else path.stem


def _tar_members(data: bytes, source: Source, ctx: Context) -> Iterator[Block]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            count = 0
            for member in tar:
                ctx.check_time()
                if not member.isfile() or is_junk(member.name):
                    continue
                count += 1
                _check_members(ctx, count, source.name)
                name = display_name(member.name)
                stream = tar.extractfile(member)
                if stream is None:
                    continue
                # The tar is already in memory: its members are slices of it, so only the ratio cap applies.
                content = stream.read(member.size)
                yield from _extract_member(ctx, source, name, content)
    except tarfile.TarError as exc:
        raise CorruptDocumentError(f"{source.name}: not a readable tar archive ({exc})") from exc


@register
class TarExtractor(Extractor):
    """Uncompressed tar archives."""

    name = "tar"
    extensions = (".tar",)
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return _is_tar(source.data)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        yield from _tar_members(source.data, source, ctx)


@register
class CompressedExtractor(Extractor):
    """gzip, bzip2 and xz: a compressed tar is read as an archive, any other payload as one member."""

    name = "compressed"
    extensions = (".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz")
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return _compression(source.data) is not None

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        kind = _compression(source.data)
        if kind is None:
            raise CorruptDocumentError(f"{source.name}: not a gzip, bzip2 or xz stream")
        try:
            with _decompressor(kind, source.data) as stream:
                data = read_capped(stream, member_cap(ctx, len(source.data)), ctx, f"{source.name} ({kind})")
        except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
            raise CorruptDocumentError(f"{source.name}: damaged {kind} stream ({exc})") from exc
        if _is_tar(data):
            yield from _tar_members(data, source, ctx)
        else:
            yield from _extract_member(ctx, source, display_name(inner_name(source.name)), data)

