"""PowerPoint 97–2003 presentations (.ppt, .pps, .pot, WPS .dps) read from the record tree.

The ``PowerPoint Document`` stream is a tree of records (8-byte headers: version/instance, type,
length). The current edit's persist directory maps persist ids to stream offsets ([MS-PPT] 2.3): the
document container's ``SlideListWithText`` lists the slides and notes in order, each slide container
holds its shapes' text (``TextCharsAtom`` UTF-16LE, ``TextBytesAtom`` 8-bit) or refers to placeholder
text kept in the slide list (``OutlineTextRefAtom``). Slides become ``slide:N`` blocks, speaker notes
``notes:N``, slide comments ``comment`` blocks, footers and headers ``footer``/``header`` blocks.
Embedded OLE objects (a workbook in a slide) are read through :meth:`Context.extract_child`.

When the persist directory is damaged, the whole stream is scanned in record order instead, slide
by slide. Encrypted presentations are decrypted with msoffcrypto-tool when ``--password`` is given.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..data import Block, Location
from ..errors import CorruptDocumentError, EncryptedDocumentError
from .base import Context, Extractor, Source, register
from .doc import ole_metadata_blocks, read_stream
from .encrypted import decrypt_office

# record types ([MS-PPT] 2.13.24)
RT_DOCUMENT = 0x03E8
RT_SLIDE = 0x03EE
RT_SLIDE_ATOM = 0x03EF
RT_NOTES = 0x03F0
RT_SLIDE_PERSIST_ATOM = 0x03F3
RT_MAIN_MASTER = 0x03F8
RT_EX_OLE_OBJ_STG = 0x1011
RT_OUTLINE_TEXT_REF = 0x0F9E
RT_TEXT_HEADER = 0x0F9F
RT_TEXT_CHARS = 0x0FA0
RT_TEXT_BYTES = 0x0FA8
RT_CSTRING = 0x0FBA
RT_HEADERS_FOOTERS = 0x0FD9
RT_SLIDE_LIST_WITH_TEXT = 0x0FF0
RT_USER_EDIT = 0x0FF5
RT_CURRENT_USER = 0x0FF6
RT_PERSIST_DIRECTORY = 0x1772
RT_COMMENT10 = 0x2EE0
RT_CRYPT_SESSION = 0x2F14
RT_CLIENT_TEXTBOX = 0xF00D
RT_BINARY_TAG_DATA = 0x138B  # holds PowerPoint 2002+ extensions (comments) as records, without the container flag

_HEADER = struct.Struct("<HHI")
_MAX_DEPTH = 64
_MAX_EDITS = 1024
_BREAKS = str.maketrans({"\x0b": "\n", "\x00": None, "\x01": None})


@dataclass
class Record:
    rtype: int
    instance: int
    version: int
    start: int  # offset of the record's data (after its header)
    end: int

    @property
    def is_container(self) -> bool:
        return self.version == 0xF or self.rtype == RT_BINARY_TAG_DATA


def read_record(stream: bytes, offset: int, limit: int | None = None) -> Record | None:
    """The record whose header starts at ``offset``, or None when it does not fit in the stream."""
    limit = len(stream) if limit is None else limit
    if offset < 0 or offset + 8 > limit:
        return None
    ver_inst, rtype, length = _HEADER.unpack_from(stream, offset)
    end = offset + 8 + length
    if end > limit:
        return None
    return Record(rtype, ver_inst >> 4, ver_inst & 0xF, offset + 8, end)


def children(stream: bytes, record: Record) -> Iterator[Record]:
    pos = record.start
    while pos < record.end:
        child = read_record(stream, pos, record.end)
        if child is None:
            return
        yield child
        pos = child.end


def walk(stream: bytes, record: Record) -> Iterator[Record]:
    """Every record under ``record`` in document order (depth first, bounded depth)."""
    stack = [(record, 0)]
    while stack:
        current, depth = stack.pop()
        yield current
        if current.is_container and depth < _MAX_DEPTH:
            stack.extend((child, depth + 1) for child in reversed(list(children(stream, current))))


def atom_text(stream: bytes, record: Record) -> str | None:
    """Text of a TextCharsAtom, TextBytesAtom or CString, else None."""
    data = stream[record.start : record.end]
    if record.rtype in (RT_TEXT_CHARS, RT_CSTRING):
        return data.decode("utf-16-le", "replace")
    if record.rtype == RT_TEXT_BYTES:
        return data.decode("latin-1")  # each byte is the low byte of a UTF-16 code unit
    return None


# --- persist directory --------------------------------------------------------------------------
def persist_directory(stream: bytes, current_user: bytes) -> tuple[dict[int, int], int, bool]:
    """``(persist id -> offset, document persist id, encrypted)`` from the chain of user edits."""
    user = read_record(current_user, 0)
    if user is None or user.rtype != RT_CURRENT_USER or user.end - user.start < 8:
        raise CorruptDocumentError("the Current User stream is damaged")
    offset = struct.unpack_from("<I", current_user, user.start + 8)[0]
    directory: dict[int, int] = {}
    doc_ref = 0
    encrypted = False
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) < _MAX_EDITS:
        seen.add(offset)
        edit = read_record(stream, offset)
        if edit is None or edit.rtype != RT_USER_EDIT or edit.end - edit.start < 28:
            raise CorruptDocumentError(f"no UserEditAtom at offset {offset}")
        last_edit, dir_offset, ref = struct.unpack_from("<III", stream, edit.start + 8)
        doc_ref = doc_ref or ref
        if edit.end - edit.start >= 32 and struct.unpack_from("<I", stream, edit.start + 28)[0]:
            encrypted = True  # encryptSessionPersistIdRef is present only in encrypted files
        entries = read_record(stream, dir_offset)
        if entries is None or entries.rtype != RT_PERSIST_DIRECTORY:
            raise CorruptDocumentError(f"no PersistDirectoryAtom at offset {dir_offset}")
        pos = entries.start
        while pos + 4 <= entries.end:
            head = struct.unpack_from("<I", stream, pos)[0]
            first, count = head & 0xFFFFF, head >> 20
            pos += 4
            for i in range(count):
                if pos + 4 > entries.end:
                    break
                directory.setdefault(first + i, struct.unpack_from("<I", stream, pos)[0])  # newest edit wins
                pos += 4
        offset = last_edit
    return directory, doc_ref, encrypted


# --- slide contents -----------------------------------------------------------------------------
@dataclass
class SlideEntry:
    persist_ref: int
    slide_id: int
    texts: list[str] = field(default_factory=list)  # placeholder texts kept in the slide list


@dataclass
class SlideContent:
    texts: list[str] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)  # (author, text)
    footers: list[tuple[str, str]] = field(default_factory=list)
    notes_id: int = 0


def slide_list(stream: bytes, document: Record, instance: int) -> list[SlideEntry]:
    """Entries of the document's SlideListWithText of ``instance`` (0 slides, 1 masters, 2 notes)."""
    entries: list[SlideEntry] = []
    for record in children(stream, document):
        if record.rtype != RT_SLIDE_LIST_WITH_TEXT or record.instance != instance:
            continue
        for child in children(stream, record):
            if child.rtype == RT_SLIDE_PERSIST_ATOM and child.end - child.start >= 16:
                ref, _, _, slide_id = struct.unpack_from("<IIiI", stream, child.start)
                entries.append(SlideEntry(ref, slide_id))
            elif entries and (text := atom_text(stream, child)) is not None:
                entries[-1].texts.append(text)
    return entries


def _ole_object(stream: bytes, record: Record, ctx: Context) -> bytes | None:
    """The bytes of an embedded OLE object (a compound file of its own), inflated within the limits."""
    data = stream[record.start : record.end]
    if record.instance != 1:
        return data
    if len(data) < 4:  # zlib-compressed, after its declared decompressed size
        return None
    size = struct.unpack_from("<I", data, 0)[0]
    ctx.check_ratio(len(data), size, "embedded OLE object")
    cap = min(size, max(1_000_000, int(len(data) * ctx.settings.max_expansion_ratio)))
    try:
        out = zlib.decompressobj().decompress(data[4:], cap)
    except zlib.error:
        return None
    ctx.charge(len(out), "embedded OLE object")
    return out


def slide_content(stream: bytes, container: Record, entry: SlideEntry | None) -> SlideContent:
    """Texts of one slide (or notes page) in shape order, with placeholder references resolved."""
    content = SlideContent()
    used: set[int] = set()
    in_comment: Record | None = None
    in_headers: Record | None = None
    for record in walk(stream, container):
        if in_comment is not None and record.start >= in_comment.end:
            in_comment = None
        if in_headers is not None and record.start >= in_headers.end:
            in_headers = None
        if record.rtype == RT_COMMENT10:
            in_comment = record
            content.comments.append(comment(stream, record))
        elif record.rtype == RT_HEADERS_FOOTERS:
            in_headers = record
        elif record.rtype == RT_SLIDE_ATOM and record.end - record.start >= 20:
            content.notes_id = struct.unpack_from("<I", stream, record.start + 16)[0]
        elif record.rtype == RT_OUTLINE_TEXT_REF and entry is not None and record.end - record.start >= 4:
            index = struct.unpack_from("<i", stream, record.start)[0]
            if 0 <= index < len(entry.texts):
                used.add(index)
                content.texts.append(entry.texts[index])
        elif (text := atom_text(stream, record)) is not None:
            if in_comment is not None:
                continue
            if in_headers is not None:
                if record.rtype == RT_CSTRING and record.instance in (1, 2):
                    content.footers.append(("header" if record.instance == 1 else "footer", text))
            elif record.rtype != RT_CSTRING:
                content.texts.append(text)
    if entry is not None:
        content.texts.extend(t for i, t in enumerate(entry.texts) if i not in used)
    return content


def comment(stream: bytes, record: Record) -> tuple[str, str]:
    """``(author, text)`` of a Comment10Container: its CStrings are author (0), text (1), initials (2)."""
    parts = {child.instance: atom_text(stream, child) or "" for child in children(stream, record)
             if child.rtype == RT_CSTRING}
    author, initials = parts.get(0, "").strip(), parts.get(2, "").strip()
    return (f"{author} ({initials})" if author and initials else author), parts.get(1, "")


def paragraph_texts(text: str) -> list[str]:
    return [p.strip() for p in text.translate(_BREAKS).split("\r") if p.strip()]


# --- the extractor ------------------------------------------------------------------------------
@register
class PptExtractor(Extractor):
    """PowerPoint 97–2003 presentations (and WPS .dps in the same format)."""

    name = "ppt"
    extensions = (".ppt", ".pps", ".pot", ".dps", ".dpt")
    priority = 40

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.is_ole and "powerpoint document" in source.ole_streams

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        stream, current_user = self._streams(source)
        try:
            directory, doc_ref, encrypted = persist_directory(stream, current_user)
        except CorruptDocumentError:
            directory, doc_ref, encrypted = {}, 0, False
        if encrypted or "encryptedsummary" in source.ole_streams:
            source = self._decrypt(source, ctx)
            stream, current_user = self._streams(source)
            try:  # msoffcrypto leaves the encryption markers in place: they no longer mean anything
                directory, doc_ref, _ = persist_directory(stream, current_user)
            except CorruptDocumentError:
                directory, doc_ref = {}, 0
        yield from ole_metadata_blocks(source)
        document = read_record(stream, directory.get(doc_ref, -1))
        if document is None or document.rtype != RT_DOCUMENT:
            yield from self._scan(stream, ctx)
            return
        yield from self._slides(stream, directory, document, ctx)

    @staticmethod
    def _streams(source: Source) -> tuple[bytes, bytes]:
        with source.open_ole() as ole:
            stream = read_stream(ole, "PowerPoint Document", source.name)
            current_user = read_stream(ole, "Current User", source.name) if ole.exists("Current User") else b""
        return stream, current_user

    @staticmethod
    def _decrypt(source: Source, ctx: Context) -> Source:
        if ctx.password is None:
            raise EncryptedDocumentError(f"{source.name}: the presentation is encrypted; pass --password to read it")
        return Source(source.name, decrypt_office(source.data, ctx.password, source.name))

    def _slides(self, stream: bytes, directory: dict[int, int], document: Record, ctx: Context) -> Iterator[Block]:
        slides = slide_list(stream, document, 0)
        ctx.check_pages(len(slides), "slides")
        notes = {entry.slide_id: entry for entry in slide_list(stream, document, 2)}
        for number, entry in enumerate(slides, 1):
            ctx.check_time()
            container = read_record(stream, directory.get(entry.persist_ref, -1))
            if container is None or container.rtype != RT_SLIDE:
                content = SlideContent(texts=list(entry.texts))
            else:
                content = slide_content(stream, container, entry)
            yield from self._content_blocks(content, number, f"slide:{number}")
            note = notes.get(content.notes_id)
            if note is not None:
                note_container = read_record(stream, directory.get(note.persist_ref, -1))
                if note_container is not None and note_container.rtype == RT_NOTES:
                    note_content = slide_content(stream, note_container, note)
                    yield from self._content_blocks(note_content, number, f"notes:{number}")
        # embedded OLE objects (workbooks, documents) are persist objects of their own
        objects = 0
        for persist_id in sorted(directory):
            record = read_record(stream, directory[persist_id])
            if record is not None and record.rtype == RT_EX_OLE_OBJ_STG:
                ctx.check_time()
                data = _ole_object(stream, record, ctx)
                if data:
                    objects += 1
                    yield from ctx.extract_child(f"embedded-{objects}", data)
        # presentation-wide headers and footers, and master slides' footers
        shared = SlideContent()
        for record in children(stream, document):
            if record.rtype == RT_HEADERS_FOOTERS:
                shared.footers.extend(slide_content(stream, record, None).footers)
        for entry in slide_list(stream, document, 1):
            container = read_record(stream, directory.get(entry.persist_ref, -1))
            if container is not None and container.rtype == RT_MAIN_MASTER:
                shared.footers.extend(slide_content(stream, container, None).footers)
        seen: set[tuple[str, str]] = set()
        for part, text in shared.footers:
            for paragraph in paragraph_texts(text):
                if (part, paragraph) not in seen:
                    seen.add((part, paragraph))
                    yield Block(text=paragraph, location=Location(part=part))

    @staticmethod
    def _content_blocks(content: SlideContent, number: int, part: str) -> Iterator[Block]:
        location = Location(part=part, slide=number)
        for text in content.texts:
            for paragraph in paragraph_texts(text):
                yield Block(text=paragraph, location=location)
        for author, text in content.comments:
            for paragraph in paragraph_texts(text):
                yield Block(text=f"{author}: {paragraph}" if author else paragraph,
                            location=Location(part="comment", slide=number), flags=("comment",))
        for kind, text in content.footers:
            for paragraph in paragraph_texts(text):
                yield Block(text=paragraph, location=Location(part=kind, slide=number))

    def _scan(self, stream: bytes, ctx: Context) -> Iterator[Block]:
        """Fallback for a damaged persist directory: the top-level slide and notes records in stream order."""
        top: list[Record] = []
        pos = 0
        while (record := read_record(stream, pos)) is not None:
            top.append(record)
            pos = record.end
        slide = 0
        for record in top:
            ctx.check_time()
            if record.rtype == RT_SLIDE:
                slide += 1
                yield from self._content_blocks(slide_content(stream, record, None), slide, f"slide:{slide}")
            elif record.rtype == RT_NOTES and slide:
                yield from self._content_blocks(slide_content(stream, record, None), slide, f"notes:{slide}")
        if slide:
            return
        for record in top:
            if record.rtype == RT_DOCUMENT:
                for entry in slide_list(stream, record, 0):
                    slide += 1
                    yield from self._content_blocks(SlideContent(texts=entry.texts), slide, f"slide:{slide}")
        if slide == 0:
            raise CorruptDocumentError("no slides found in the PowerPoint Document stream")
