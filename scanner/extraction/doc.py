"""Word 97–2003 documents (.doc, .dot, WPS .wps in the same format) read straight from the OLE streams.

The text of a Word binary file is addressed by character positions (CPs) that the piece table (the
CLX in the ``0Table``/``1Table`` stream) maps onto the ``WordDocument`` stream; each piece is either
"compressed" CP1252 (one byte a character) or UTF-16LE, so Chinese comes out right whatever mix of
pieces a document has. The CP range is then cut into the stories [MS-DOC] lays out one after another:
main text, footnotes, headers/footers, (macros), comments, endnotes, text boxes, header text boxes.

Paragraphs end with ``\\r``; table cells with ``\\x07``. Whether a ``\\x07`` ends a cell or a whole row
is a paragraph property (``sprmPFTtp``), read from the PAPX pages (FKPs) that the ``PlcBtePapx``
points at; the same properties give the paragraph style, so headings (styles 1–9) become ``heading``
blocks. Field codes are dropped and field results kept (``\\x13 code \\x14 result \\x15``).

Word 6.0/95 files (an older FIB, all text in one 8-bit code page) are read without table structure.
Encrypted documents are decrypted with msoffcrypto-tool when ``--password`` is given.

The summary properties (title, subject, author, keywords, comments) of this and the other OLE formats
come out as ``metadata`` blocks through :func:`ole_metadata_blocks`.
"""

from __future__ import annotations

import bisect
import codecs
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..data import Block, Location
from ..errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError
from .base import Context, Extractor, Source, register
from .encrypted import decrypt_office
from .tables import row_block
from .text import detect_encoding

WORD97_IDENT = 0xA5EC
WORD6_IDENT = 0xA5DC
_FIB_ENCRYPTED = 0x0100
_FIB_TABLE1 = 0x0200
_FIB_OBFUSCATED = 0x8000
# indexes into FibRgFcLcb97 (pairs of fc, lcb)
_PLCF_HDD, _PLCF_BTE_PAPX, _CLX = 11, 13, 33
_STORIES = ("body", "footnote", "header", "macro", "comment", "endnote", "textbox", "header_textbox")
# Paragraph properties that say where tables are: in a table, end of a row (TTP), nesting depth
_SPRM_IN_TABLE, _SPRM_TTP, _SPRM_ITAP, _SPRM_INNER_TTP = 0x2416, 0x2417, 0x6649, 0x244C
_SPRM_TDEF_TABLE, _SPRM_CHG_TABS = 0xD608, 0xC615
_HEADING_STYLES = range(1, 10)  # istd 1-9 are the built-in "heading 1" to "heading 9"
# Word's special characters: picture/object anchors, footnote and comment reference marks...
_DROP = dict.fromkeys([0, 1, 2, 3, 4, 5, 6, 8, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x16, 0x17, 0x18, 0x19, 0x1A,
                       0x1B, 0x1C, 0x1D, 0x1F, 0xFEFF])
_DROP.update({0x0B: "\n", 0x1E: "-", 0xA0: " ", 0x09: "\t"})
_SPECIAL = re.compile(r"[\x13\x14\x15\r\x07\x0c]")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_LANGUAGE_CODEPAGES = {0x0804: "gb18030", 0x1004: "gb18030", 0x0404: "cp950", 0x0C04: "cp950", 0x0411: "cp932",
                       0x0412: "cp949", 0x0419: "cp1251", 0x0408: "cp1253", 0x041F: "cp1254", 0x0415: "cp1250"}
_SUMMARY_FIELDS = (("title", "Title"), ("subject", "Subject"), ("author", "Author"), ("keywords", "Keywords"),
                   ("comments", "Comments"), ("category", "Category"), ("company", "Company"), ("manager", "Manager"))


# --- OLE helpers (shared with xls and ppt) -------------------------------------------------------
def read_stream(ole, name: str, source_name: str) -> bytes:  # type: ignore[no-untyped-def]
    """A stream's bytes, refusing one that is shorter than its directory entry says.

    olefile silently returns what it can reach of a stream whose sectors lie past the end of a
    truncated file; a document read from such a stream would come out cut without anyone knowing.
    """
    try:
        data = ole.openstream(name).read()
        declared = ole.get_size(name)
    except (OSError, ValueError) as exc:
        raise CorruptDocumentError(f"{source_name}: the {name} stream cannot be read ({exc})") from exc
    if len(data) < declared:
        raise CorruptDocumentError(
            f"{source_name}: the {name} stream is cut short ({len(data)} of {declared} bytes); the file is truncated"
        )
    return data



def _property_text(value: object, codepage: int | None) -> str:
    if isinstance(value, bytes):
        value = value.rstrip(b"\x00")
        encoding = _codepage_codec(codepage) or "cp1252"
        if encoding in ("cp1252", "latin-1", "iso8859-1") and not value.isascii():
            # Chinese tools often write GBK strings under a Western code page
            guess = detect_encoding(value)
            encoding = guess if guess in ("gb18030", "big5", "utf-8") else encoding
        return value.decode(encoding, "replace").strip()
    return str(value).strip() if value is not None else ""


def _codepage_codec(codepage: object) -> str | None:
    if not isinstance(codepage, int):  # damaged property sets yield lists or strings here
        return None
    if codepage:
        codepage &= 0xFFFF  # olefile reads the code page as a signed 16-bit number (65001 -> -535)
    if not codepage or codepage in (1200, 65001):
        return "utf-8" if codepage == 65001 else None
    name = {936: "gb18030", 950: "cp950"}.get(codepage, f"cp{codepage}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def ole_metadata_blocks(source: Source) -> list[Block]:
    """Title, subject, author, keywords, comments... of an OLE file as ``metadata`` blocks."""
    try:
        with source.open_ole() as ole:
            meta = ole.get_metadata()
    except Exception:  # damaged property sets must not lose the document's text
        return []
    blocks = []
    for attr, label in _SUMMARY_FIELDS:
        codepage = meta.codepage_doc if attr in ("category", "company", "manager") else meta.codepage
        text = _property_text(getattr(meta, attr, None), codepage)
        if text:
            blocks.append(Block(text=f"{label}: {text}", kind="metadata", location=Location(part="metadata")))
    return blocks


# --- FIB and piece table ------------------------------------------------------------------------
@dataclass
class Piece:
    cp_start: int
    cp_end: int
    fc: int  # byte offset of the piece's first character in the WordDocument stream
    compressed: bool  # one byte a character (CP1252 or the Word 6 code page), else UTF-16LE


@dataclass
class Fib:
    ident: int
    nfib: int
    flags: int
    ccp: dict[str, int]
    fc_lcb: list[tuple[int, int]] = field(default_factory=list)
    codepage: str = "cp1252"

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & (_FIB_ENCRYPTED | _FIB_OBFUSCATED))

    @property
    def table_stream(self) -> str:
        return "1Table" if self.flags & _FIB_TABLE1 else "0Table"

    def pair(self, index: int) -> tuple[int, int]:
        return self.fc_lcb[index] if index < len(self.fc_lcb) else (0, 0)


def parse_fib(word: bytes, name: str) -> Fib:
    """The parts of the File Information Block that locate the text ([MS-DOC] 2.5)."""
    if len(word) < 0x60:
        raise CorruptDocumentError(f"{name}: WordDocument stream too short ({len(word)} bytes)")
    ident, nfib, _, lid, _, flags = struct.unpack_from("<HHHHHH", word, 0)
    if ident == WORD6_IDENT or (ident == WORD97_IDENT and nfib < 0x69):
        ccps = struct.unpack_from("<8I", word, 0x34)
        pairs = [struct.unpack_from("<II", word, 0x58 + 8 * i) for i in range(34) if 0x58 + 8 * i + 8 <= len(word)]
        return Fib(ident, nfib, flags, dict(zip(_STORIES, ccps, strict=True)), pairs,
                   codepage=_LANGUAGE_CODEPAGES.get(lid, "cp1252"))
    if ident != WORD97_IDENT:
        raise UnsupportedFormatError(f"{name}: Word file identifier {ident:#06x} is not Word 6 or later (Word 2 and older are not supported)")
    if flags & (_FIB_ENCRYPTED | _FIB_OBFUSCATED):  # everything after the FibBase is encrypted
        return Fib(ident, nfib, flags, dict.fromkeys(_STORIES, 0))
    try:
        csw = struct.unpack_from("<H", word, 32)[0]
        pos = 34 + 2 * csw
        cslw = struct.unpack_from("<H", word, pos)[0]
        lw = pos + 2
        ccps = struct.unpack_from("<8I", word, lw + 12)
        pos = lw + 4 * cslw
        count = struct.unpack_from("<H", word, pos)[0]
        pairs = [struct.unpack_from("<II", word, pos + 2 + 8 * i) for i in range(count)]
    except struct.error as exc:
        raise CorruptDocumentError(f"{name}: truncated File Information Block ({exc})") from exc
    return Fib(ident, nfib, flags, dict(zip(_STORIES, ccps, strict=True)), pairs)


def parse_pieces(clx: bytes, name: str, unicode_capable: bool = True) -> list[Piece]:
    """The piece table from a CLX: skip the Prc records, read the PlcPcd ([MS-DOC] 2.9.38)."""
    pos = 0
    while pos < len(clx):
        kind = clx[pos]
        if kind == 0x01:  # Prc: property modifiers we do not need
            if pos + 3 > len(clx):
                break
            pos += 3 + struct.unpack_from("<h", clx, pos + 1)[0]
        elif kind == 0x02:
            if pos + 5 > len(clx):
                break
            size = struct.unpack_from("<I", clx, pos + 1)[0]
            plc = clx[pos + 5 : pos + 5 + size]
            if size < 4 or len(plc) < size:
                break
            count = (size - 4) // 12
            cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
            pieces = []
            for i in range(count):
                fc_raw = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)[0]
                if unicode_capable:
                    compressed = bool(fc_raw & 0x40000000)
                    fc = (fc_raw & 0x3FFFFFFF) // 2 if compressed else fc_raw & 0x3FFFFFFF
                else:
                    compressed, fc = True, fc_raw
                if cps[i + 1] > cps[i]:
                    pieces.append(Piece(cps[i], cps[i + 1], fc, compressed))
            return pieces
        else:
            break
    raise CorruptDocumentError(f"{name}: the piece table (CLX) is damaged")


def decode_pieces(word: bytes, pieces: list[Piece], start: int, end: int, single_byte: str = "cp1252") -> str:
    """The characters from CP ``start`` up to ``end``.

    Stories are decoded one at a time because a character outside the BMP takes two CPs (a UTF-16
    surrogate pair) but one Python character: slicing one decoded string would drift.
    """
    parts: list[str] = []
    for piece in pieces:
        lo, hi = max(piece.cp_start, start), min(piece.cp_end, end)
        if lo >= hi:
            continue
        offset = lo - piece.cp_start
        if piece.compressed:
            parts.append(word[piece.fc + offset : piece.fc + offset + hi - lo].decode(single_byte, "replace"))
        else:
            begin = piece.fc + 2 * offset
            parts.append(word[begin : begin + 2 * (hi - lo)].decode("utf-16-le", "replace"))
    return "".join(parts)


# --- paragraph properties (tables, headings) --------------------------------------------------
@dataclass(frozen=True)
class ParaProps:
    in_table: bool = False
    row_end: bool = False
    depth: int = 0
    style: int = 0


_DEFAULT_PROPS = ParaProps()


def _sprm_props(grpprl: bytes, style: int) -> ParaProps:
    in_table = row_end = False
    depth = 0
    pos = 0
    end = len(grpprl)
    while pos + 2 <= end:
        op = struct.unpack_from("<H", grpprl, pos)[0]
        pos += 2
        spra = op >> 13
        if spra in (0, 1):
            size = 1
        elif spra in (2, 4, 5):
            size = 2
        elif spra == 3:
            size = 4
        elif spra == 7:
            size = 3
        elif op == _SPRM_TDEF_TABLE:
            if pos + 2 > end:
                break
            size = struct.unpack_from("<H", grpprl, pos)[0] + 1
        elif op == _SPRM_CHG_TABS and pos < end and grpprl[pos] == 255:
            break  # the rare long form; the flags we need come first in practice
        else:
            if pos >= end:
                break
            size = grpprl[pos] + 1
        if op == _SPRM_IN_TABLE and pos < end:
            in_table = grpprl[pos] != 0
        elif op in (_SPRM_TTP, _SPRM_INNER_TTP) and pos < end:
            row_end = row_end or (grpprl[pos] != 0 and (op == _SPRM_TTP or depth <= 1))
        elif op == _SPRM_ITAP and pos + 4 <= end:
            depth = struct.unpack_from("<i", grpprl, pos)[0]
        pos += size
    if depth > 1:  # a nested table: flatten it into the outer cell
        row_end = False
    return ParaProps(in_table or depth > 0, row_end, depth, style)


class ParagraphMap:
    """Paragraph properties by stream offset, from the PAPX FKPs ([MS-DOC] 2.9.177, 2.8.25)."""

    def __init__(self, word: bytes, table: bytes, fib: Fib) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.props: list[ParaProps] = []
        fc, lcb = fib.pair(_PLCF_BTE_PAPX)
        plc = table[fc : fc + lcb]
        if lcb < 12 or len(plc) < lcb:
            return
        count = (lcb - 4) // 8
        for i in range(count):
            pn = struct.unpack_from("<I", plc, 4 * (count + 1) + 4 * i)[0] & 0x3FFFFF
            self._read_page(word[pn * 512 : pn * 512 + 512])
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        self.starts = [self.starts[i] for i in order]
        self.ends = [self.ends[i] for i in order]
        self.props = [self.props[i] for i in order]

    def _read_page(self, page: bytes) -> None:
        if len(page) < 512:
            return
        crun = page[511]
        if crun == 0 or 4 * (crun + 1) + 13 * crun > 511:
            return
        fcs = struct.unpack_from(f"<{crun + 1}I", page, 0)
        for i in range(crun):
            offset = page[4 * (crun + 1) + 13 * i] * 2
            props = _DEFAULT_PROPS
            if offset:
                cb = page[offset]
                if cb:
                    start, size = offset + 1, 2 * cb - 1
                else:
                    start, size = offset + 2, 2 * page[offset + 1]
                chunk = page[start : start + size]
                if len(chunk) >= 2:
                    props = _sprm_props(chunk[2:], struct.unpack_from("<H", chunk, 0)[0])
            self.starts.append(fcs[i])
            self.ends.append(fcs[i + 1])
            self.props.append(props)

    def __bool__(self) -> bool:
        return bool(self.starts)

    def at(self, fc: int) -> ParaProps:
        i = bisect.bisect_right(self.starts, fc) - 1
        if i >= 0 and fc < self.ends[i]:
            return self.props[i]
        return _DEFAULT_PROPS


class CharPositions:
    """Maps a character position to its byte offset in the WordDocument stream."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces
        self.starts = [p.cp_start for p in pieces]

    def fc(self, cp: int) -> int:
        i = bisect.bisect_right(self.starts, cp) - 1
        if i < 0:
            return -1
        piece = self.pieces[i]
        return piece.fc + (cp - piece.cp_start) * (1 if piece.compressed else 2)


# --- from characters to blocks ------------------------------------------------------------------
def clean(text: str) -> str:
    """Paragraph text without Word's control characters (anchors, reference marks, soft hyphens)."""
    return text.translate(_DROP).strip()


def paragraphs(story: str, base_cp: int) -> Iterator[tuple[str, str, int]]:
    """``(text, mark, cp_of_mark)`` for each paragraph of ``story``, field codes dropped, results kept.

    ``mark`` is the character that ends the paragraph: ``\\r`` (or a page/section break) or ``\\x07``
    (end of a table cell or row); the last paragraph may end with ``""``.
    """
    astral = [m.start() for m in _ASTRAL.finditer(story)]  # each takes two CPs

    def cp_of(i: int) -> int:
        return base_cp + i + (bisect.bisect_left(astral, i) if astral else 0)

    fields: list[bool] = []  # one entry per open field: True while inside its code part
    buf: list[str] = []
    pos = 0
    for match in _SPECIAL.finditer(story):
        i = match.start()
        if not any(fields):
            buf.append(story[pos:i])
        pos = i + 1
        ch = story[i]
        if ch == "\x13":
            fields.append(True)
        elif ch == "\x14":
            if fields:
                fields[-1] = False
        elif ch == "\x15":
            if fields:
                fields.pop()
        elif not any(fields):
            yield "".join(buf), ch, cp_of(i)
            buf = []
    if not any(fields):
        buf.append(story[pos:])
    if buf and "".join(buf).strip():
        yield "".join(buf), "", cp_of(len(story))


class _BodyWriter:
    """Turns the main story's paragraphs into text, heading and table-row blocks."""

    def __init__(self, props: ParagraphMap, cps: CharPositions, ctx: Context) -> None:
        self.props = props
        self.cps = cps
        self.ctx = ctx
        self.table = 0
        self.row = 0
        self.header: str | None = None
        self.cells: list[str] = []
        self.cell: list[str] = []
        self.previous_mark = ""

    def _props(self, cp: int) -> ParaProps:
        return self.props.at(self.cps.fc(cp)) if self.props else _DEFAULT_PROPS

    def blocks(self, story: str, part: str, base_cp: int) -> Iterator[Block]:
        location = Location(part=part)
        for count, (raw, mark, cp) in enumerate(paragraphs(story, base_cp)):
            if count % 2000 == 0:
                self.ctx.check_time()
            props = self._props(cp)
            text = clean(raw)
            if mark == "\x07":
                row_end = props.row_end if self.props else (self.previous_mark == "\x07" and not text and not self.cell)
                if row_end:
                    yield from self._end_row(location)
                else:
                    self.cell.append(text)
                    self.cells.append("\n".join(t for t in self.cell if t))
                    self.cell = []
            elif props.in_table and mark:
                self.cell.append(text)
            else:
                yield from self._end_table(location)
                if text:
                    heading = props.style in _HEADING_STYLES
                    yield Block(text=text, location=location, kind="heading" if heading else "text")
            self.previous_mark = mark
        yield from self._end_table(location)

    def _end_row(self, location: Location) -> Iterator[Block]:
        if self.cell:
            self.cells.append("\n".join(t for t in self.cell if t))
            self.cell = []
        if not self.cells:
            return
        if self.row == 0:
            self.table += 1
            self.header = None
        self.row += 1
        block = row_block(list(enumerate(self.cells, 1)), row=self.row, location=location, header=self.header,
                          table=self.table, spreadsheet=False)
        self.cells = []
        if block is not None:
            self.header = self.header or block.text
            yield block

    def _end_table(self, location: Location) -> Iterator[Block]:
        if self.cells or self.cell:
            yield from self._end_row(location)
        self.row = 0


def _story_paragraph_blocks(story: str, part: str, flags: tuple[str, ...] = ()) -> Iterator[Block]:
    for raw, _, _ in paragraphs(story, 0):
        text = clean(raw)
        if text:
            yield Block(text=text, location=Location(part=part), flags=flags)


def _header_stories(text: str, table: bytes, fib: Fib) -> Iterator[tuple[str, str]]:
    """``(part, text)`` of each header/footer story, using PlcfHdd when present ([MS-DOC] 2.9.116)."""
    fc, lcb = fib.pair(_PLCF_HDD)
    plc = table[fc : fc + lcb] if lcb else b""
    if len(plc) < 8 or len(plc) < lcb:
        yield "header", text
        return
    cps = struct.unpack_from(f"<{lcb // 4}I", plc, 0)
    # six separator stories first, then per section: even/odd header, even/odd footer, first header/footer
    for i in range(6, len(cps) - 1):
        story = text[cps[i] : cps[i + 1]]
        if story.strip():
            yield ("header" if (i - 6) % 6 in (0, 1, 4) else "footer"), story


@register
class DocExtractor(Extractor):
    """Word 97–2003 (and Word 6/95) binary documents."""

    name = "doc"
    extensions = (".doc", ".dot", ".wps", ".wpt")
    priority = 40

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.is_ole and "worddocument" in source.ole_streams

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        word, table, fib = self._streams(source)
        if fib.encrypted:
            source, word, table, fib = self._decrypt(source, fib, ctx)
        yield from ole_metadata_blocks(source)
        word6 = fib.ident == WORD6_IDENT or fib.nfib < 0x69
        pieces = self._pieces(word, table, fib, source.name, word6)
        ccp = fib.ccp
        total = sum(ccp.values())
        ctx.charge(2 * total, "document text")
        story_text: dict[str, str] = {}
        story_start: dict[str, int] = {}
        pos = 0
        for story in _STORIES:
            story_start[story] = pos
            story_text[story] = decode_pieces(word, pieces, pos, pos + ccp[story], fib.codepage)
            pos += ccp[story]
        props = ParagraphMap(word, table, fib) if not word6 else ParagraphMap(b"", b"", fib)
        writer = _BodyWriter(props, CharPositions(pieces), ctx)
        yield from writer.blocks(story_text["body"], "body", story_start["body"])
        yield from writer.blocks(story_text["textbox"], "body", story_start["textbox"])
        for part, story in _header_stories(story_text["header"], table, fib):
            yield from _story_paragraph_blocks(story, part)
        yield from _story_paragraph_blocks(story_text["header_textbox"], "header")
        yield from _story_paragraph_blocks(story_text["footnote"], "footnote")
        yield from _story_paragraph_blocks(story_text["endnote"], "endnote")
        yield from _story_paragraph_blocks(story_text["comment"], "comment", ("comment",))

    @staticmethod
    def _streams(source: Source) -> tuple[bytes, bytes, Fib]:
        with source.open_ole() as ole:
            word = read_stream(ole, "WordDocument", source.name)
            fib = parse_fib(word, source.name)
            table = read_stream(ole, fib.table_stream, source.name) if ole.exists(fib.table_stream) else b""
        return word, table, fib

    def _decrypt(self, source: Source, fib: Fib, ctx: Context) -> tuple[Source, bytes, bytes, Fib]:
        if ctx.password is None:
            raise EncryptedDocumentError(f"{source.name}: the document is encrypted; pass --password to read it")
        plain = Source(source.name, decrypt_office(source.data, ctx.password, source.name))
        word, table, fib = self._streams(plain)
        if fib.encrypted:
            raise UnsupportedFormatError(f"{source.name}: the document stays encrypted after decryption")
        return plain, word, table, fib

    @staticmethod
    def _pieces(word: bytes, table: bytes, fib: Fib, name: str, word6: bool) -> list[Piece]:
        fc, lcb = fib.pair(_CLX)
        if word6:
            complex_file = bool(fib.flags & 0x0004)
            if not complex_file or not lcb:
                fc_min = struct.unpack_from("<I", word, 0x18)[0]
                return [Piece(0, sum(fib.ccp.values()) + 1, fc_min, True)]
            return parse_pieces(word[fc : fc + lcb], name, unicode_capable=False)
        if not table:
            raise CorruptDocumentError(f"{name}: the {fib.table_stream} stream is missing")
        if not lcb or fc + lcb > len(table):
            raise CorruptDocumentError(f"{name}: the piece table lies outside the {fib.table_stream} stream")
        return parse_pieces(table[fc : fc + lcb], name)
