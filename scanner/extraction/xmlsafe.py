"""Safe XML parsing for every XML-based format (OOXML, ODF, OFD): parts read from a ZIP within limits.

Every part goes through the same gate before lxml sees it: its declared size against
``max_xml_part_bytes``, its compression ratio against the bomb limit, the bytes actually read capped
(declared sizes are never trusted) and charged to the document's expansion budget. Documents that
declare entities in a DOCTYPE (billion laughs, quadratic blow-up) are refused outright; everything else
is parsed with entity expansion, DTD loading and network access off. Big parts (sheets) can be streamed
with :meth:`Package.iterparse`, which never builds the whole tree.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from lxml import etree

from ..errors import CorruptDocumentError, EncryptedDocumentError, LimitExceededError, UnsupportedFormatError
from .base import Context, Source

_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00?\x00", b"\x00<\x00?", b"<\x00!\x00", b"\x00<\x00!")

# Errors zipfile and zlib raise on damaged members.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


def xml_parser() -> etree.XMLParser:
    """A parser that never expands entities, loads DTDs or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def declares_entities(data: bytes) -> bool:
    """True when the XML has a DOCTYPE declaring entities: the shape of every XML bomb."""
    if data[:4].startswith(_UTF16_STARTS):
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else
                           ("utf-16-le" if data[:1] == b"<" else "utf-16-be"), errors="ignore")
        return "<!DOCTYPE" in text and "<!ENTITY" in text
    start = data.find(b"<!DOCTYPE")
    return start >= 0 and data.find(b"<!ENTITY", start) >= 0


def refuse_entities(data: bytes, what: str) -> None:
    if declares_entities(data):
        raise LimitExceededError(
            f"{what} declares XML entities in a DOCTYPE (the shape of an XML bomb: billion laughs or quadratic "
            "blow-up); Office and ODF documents never need them, so the file is refused"
        )


def _syntax_error(what: str, exc: Exception) -> Exception:
    message = str(exc)
    if "huge" in message.lower():
        return LimitExceededError(f"{what}: an XML text node or nesting exceeds lxml's safety limits ({message})")
    return CorruptDocumentError(f"{what} is not well-formed XML ({message}); the file is damaged or truncated")


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse one XML document held in memory, refusing entity declarations.

    Raises:
        LimitExceededError: the document declares entities (XML bomb) or exceeds lxml's limits.
        CorruptDocumentError: the bytes are not well-formed XML.
    """
    refuse_entities(data, what)
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(what, exc) from exc
    if root is None:
        raise CorruptDocumentError(f"{what} holds no XML element; the file is damaged")
    return root


def local(tag: object) -> str:
    """The local name of an element tag (``{ns}p`` -> ``p``); ``""`` for comments and PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


class _CappedReader:
    """A file-like view of a ZIP member that stops at ``limit`` bytes and charges what it reads."""

    def __init__(self, fh: IO[bytes], limit: int, ctx: Context, what: str) -> None:
        self._fh = fh
        self._limit = limit
        self._ctx = ctx
        self._what = what
        self._read = 0
        self._head = True

    def read(self, size: int = -1) -> bytes:
        want = 1 << 16 if size is None or size < 0 else min(size, 1 << 20)
        try:
            chunk = self._fh.read(want)
        except _ZIP_ERRORS as exc:
            raise CorruptDocumentError(f"{self._what} cannot be unpacked ({exc}); the file is damaged") from exc
        if self._head:
            self._head = False
            # A streamed part is judged on its first chunk: a DOCTYPE with an internal subset is refused
            # even when its entity declarations lie further on.
            doctype = chunk.find(b"<!DOCTYPE")
            if declares_entities(chunk) or (doctype >= 0 and b"[" in chunk[doctype:]):
                refuse_entities(b"<!DOCTYPE<!ENTITY", self._what)
        self._read += len(chunk)
        if self._read > self._limit:
            raise LimitExceededError(
                f"{self._what} unpacks to more than {self._limit} bytes; raise MIDIAN_MAX_XML_PART_BYTES if genuine"
            )
        self._ctx.charge(len(chunk), self._what)
        return chunk


class Package:
    """A ZIP package (OOXML, ODF, OFD) whose members are read and parsed within the safety limits."""

    def __init__(self, source: Source, ctx: Context, translate: Callable[[bytes], bytes] | None = None) -> None:
        self.source = source
        self.ctx = ctx
        self.zf = source.zip_file or source.open_zip()
        self._translate = translate
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in self.zf.infolist():
            self.infos.setdefault(info.filename, info)  # the first of duplicate names, as Office does
        self._folded = {name.lower(): name for name in reversed(list(self.infos))}

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.zf is not self.source.zip_file:  # the source's shared handle stays open for others
            self.zf.close()

    @property
    def names(self) -> Iterable[str]:
        return self.infos.keys()

    def find(self, name: str) -> str | None:
        """The member called ``name`` (leading ``/`` and letter case ignored, as OPC does), or ``None``."""
        name = name.lstrip("/")
        if name in self.infos:
            return name
        return self._folded.get(name.lower())

    def what(self, name: str) -> str:
        return f"{self.source.name}: part {name}"

    def _info(self, name: str, limit: int) -> zipfile.ZipInfo:
        found = self.find(name)
        if found is None:
            raise CorruptDocumentError(f"{self.what(name)} is missing; the package is incomplete or damaged")
        info = self.infos[found]
        what = self.what(found)
        if info.flag_bits & 0x1:
            raise EncryptedDocumentError(f"{what} is encrypted inside the ZIP; Midian cannot read password-protected ZIP members")
        if info.file_size > limit:
            raise LimitExceededError(
                f"{what} declares {info.file_size} bytes, above the limit of {limit}; raise MIDIAN_MAX_XML_PART_BYTES if genuine"
            )
        self.ctx.check_ratio(info.compress_size, info.file_size, what)
        return info

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The bytes of one member, capped at ``limit`` (default ``max_xml_part_bytes``) and charged.

        Raises:
            CorruptDocumentError: the member is missing or cannot be unpacked.
            LimitExceededError: the member is too big or a decompression bomb.
            EncryptedDocumentError: the member is encrypted with a ZIP password.
        """
        limit = self.ctx.settings.max_xml_part_bytes if limit is None else limit
        info = self._info(name, limit)
        what = self.what(info.filename)
        try:
            with self.zf.open(info) as fh:
                data = fh.read(limit + 1)
        except NotImplementedError as exc:
            raise UnsupportedFormatError(f"{what} uses a compression method Midian cannot unpack ({exc})") from exc
        except _ZIP_ERRORS as exc:
            raise CorruptDocumentError(f"{what} cannot be unpacked ({exc}); the file is damaged or truncated") from exc
        if len(data) > limit:
            raise LimitExceededError(f"{what} unpacks to more than {limit} bytes; raise MIDIAN_MAX_XML_PART_BYTES if genuine")
        self.ctx.check_ratio(info.compress_size, len(data), what)
        self.ctx.charge(len(data), what)
        return data

    def read_member(self, name: str) -> bytes:
        """A binary member (embedded object, attachment), capped at the input file size limit."""
        return self.read(name, limit=self.ctx.settings.max_file_bytes)

    def parse(self, name: str) -> etree._Element:
        """Parse one XML member into a tree (see :func:`parse_xml`)."""
        data = self.read(name)
        if self._translate is not None:
            data = self._translate(data)
        return parse_xml(data, self.what(self.find(name) or name))

    def parse_optional(self, name: str | None) -> etree._Element | None:
        """Like :meth:`parse`, but ``None`` when the member is absent."""
        if name is None or self.find(name) is None:
            return None
        return self.parse(name)

    def iterparse(self, name: str, tags: Iterable[str], events: tuple[str, ...] = ("end",)) -> Iterator[tuple[str, etree._Element]]:
        """Stream ``(event, element)`` pairs for ``tags`` from a big member without building its tree.

        The caller clears each element it has handled (see :func:`release`). Streaming members are
        never translated, so callers that need strict-OOXML namespaces pass both spellings in ``tags``.
        """
        limit = self.ctx.settings.max_xml_part_bytes
        info = self._info(name, limit)
        what = self.what(info.filename)
        try:
            fh = self.zf.open(info)
        except NotImplementedError as exc:
            raise UnsupportedFormatError(f"{what} uses a compression method Midian cannot unpack ({exc})") from exc
        except _ZIP_ERRORS as exc:
            raise CorruptDocumentError(f"{what} cannot be unpacked ({exc}); the file is damaged or truncated") from exc
        with fh:
            reader = _CappedReader(fh, limit, self.ctx, what)
            context = etree.iterparse(reader, events=events, tag=list(tags), resolve_entities=False, no_network=True,
                                      load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
            try:
                yield from context
            except etree.XMLSyntaxError as exc:
                raise _syntax_error(what, exc) from exc

    def resolve(self, base: str, target: str) -> str:
        """The member path ``target`` points to, relative to the member ``base`` (or absolute with ``/``)."""
        if target.startswith("/"):
            return posixpath.normpath(target.lstrip("/"))
        if not target.startswith(".") and "/." not in target and "//" not in target:  # the common, plain case
            folder = base.rpartition("/")[0]
            return f"{folder}/{target}" if folder else target
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), target))
        return joined.lstrip("/") if joined != "." else ""

    def under(self, prefix: str) -> list[str]:
        """Member names below the folder ``prefix`` (case-insensitive), in archive order, folders left out."""
        prefix = prefix.lower()
        return [name for name in self.infos if name.lower().startswith(prefix) and not name.endswith("/")]


def release(element: etree._Element) -> None:
    """Free a streamed element and the siblings already handled before it."""
    element.clear()
    parent = element.getparent()
    if parent is not None and element.getprevious() is not None:
        del parent[: parent.index(element)]


def text_of(element: etree._Element | None) -> str:
    """All text inside ``element`` (``""`` for ``None``)."""
    if element is None:
        return ""
    return "".join(element.itertext())
