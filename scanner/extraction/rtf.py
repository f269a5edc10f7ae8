"""RTF, with the code pages Chinese, Japanese and Korean documents are written in.

A small tokenizer rather than ``striprtf``: RTF text bytes (``\\'hh`` escapes and literal 8-bit text)
must be decoded with the code page of the font in use (``\\fcharset134`` -> GBK, 136 -> Big5,
128 -> Shift-JIS) or of the document (``\\ansicpg936``), a DBCS character is often split into an
escape and a literal trail byte, and ``\\uN`` escapes are followed by ``\\ucN`` fallback characters to
skip. Destinations that hold no reader-visible text (font and colour tables, styles, pictures, object
data, field instructions...) are skipped; headers, footers, footnotes and annotations go to their own
parts; ``\\info`` title, subject, keywords and comment become metadata. Tables (``\\cell``, ``\\row``)
become table rows; hidden (``\\v``) and deleted (``\\deleted``) text become their own flagged blocks.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..data import Block, Location
from ..errors import CorruptDocumentError
from .base import Context, Extractor, Source, register
from .tables import next_header, row_block

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|[\r\n]+|([^\\{}\r\n]+)",
    re.S,
)
_CHARSETS = {
    2: "cp1252", 77: "mac_roman", 128: "cp932", 129: "cp949", 130: "johab", 134: "gb18030", 136: "cp950",
    161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255", 178: "cp1256", 186: "cp1257", 204: "cp1251",
    222: "cp874", 238: "cp1250", 255: "cp437",
}
_CODEPAGES = {936: "gb18030", 950: "cp950", 932: "cp932", 949: "cp949", 10000: "mac_roman", 65001: "utf-8"}
# Destinations whose content is never text a reader sees.
_SKIP = frozenset(b"""fonttbl colortbl stylesheet listtable listoverridetable revtbl rsidtbl generator pict objdata
    themedata colorschememapping latentstyles datastore xmlnstbl mmathPr filetbl pgdsctbl fldinst nonshppict
    pntext pntxta pntxtb listtext sp sn sv shprslt atnauthor atnid atndate atnref atntime atnparent atnicn
    bkmkstart bkmkend xe tc template userprops docvar nonesttables blipuid picprop protusertbl fchars lchars
    wgrffmtfilter mhtmltag htmltag objclass objname objtime falt panose fontemb fontfile ftnsep ftnsepc
    ftncn aftnsep aftnsepc aftncn listpicture passwordhash""".split())
_SINKS = {b"header": "header", b"headerl": "header", b"headerr": "header", b"headerf": "header",
          b"footer": "footer", b"footerl": "footer", b"footerr": "footer", b"footerf": "footer",
          b"footnote": "footnote", b"annotation": "comment"}
_INFO = {b"title", b"subject", b"keywords", b"doccomm"}
_CHARS = {b"tab": "\t", b"line": "\n", b"emdash": "\u2014", b"endash": "\u2013", b"bullet": "\u2022",
          b"lquote": "\u2018", b"rquote": "\u2019", b"ldblquote": "\u201c", b"rdblquote": "\u201d",
          b"emspace": "\u2003", b"enspace": "\u2002", b"qmspace": "\u2005", b"zwj": "\u200d", b"zwnj": "\u200c",
          b"ltrmark": "", b"rtlmark": "", b"chftn": "", b"chatn": "", b"chdate": "", b"chpgn": ""}
_SYMBOLS = {b"~": "\u00a0", b"_": "\u2011", b"-": ""}
_MAX_DEPTH = 10_000
_PARTS = ("body", "header", "footer", "footnote", "comment", "metadata")

NORMAL, DELETED, HIDDEN = 0, 1, 2


@dataclass
class _State:
    """Properties that RTF groups scope: destination, font, fallback count, hidden/deleted."""

    sink: str = "body"
    skip: bool = False
    font: int | None = None
    uc: int = 1
    hidden: bool = False
    deleted: bool = False
    fonttbl: bool = False
    info: bool = False
    field: str | None = None  # the \info field (title, subject...) being read

    def copy(self) -> _State:
        return _State(self.sink, self.skip, self.font, self.uc, self.hidden, self.deleted, self.fonttbl, self.info,
                      self.field)


@dataclass
class _Sink:
    """One story (body, headers, footnotes...): its finished blocks and the paragraph being read."""

    part: str
    blocks: list[Block] = field(default_factory=list)
    segments: list[tuple[int, str]] = field(default_factory=list)
    cells: list[tuple[int, str]] = field(default_factory=list)
    cell_start: int = 0
    row: int = 0
    table: int = 0
    header: str | None = None
    in_table: bool = False


def _fix_surrogates(text: str) -> str:
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


class _Reader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ansi = "cp1252"
        self.fonts: dict[int, str] = {}
        self.default_font: int | None = None
        self.state = _State()
        self.stack: list[_State] = []
        self.sinks = {name: _Sink(name) for name in _PARTS}
        self.raw = bytearray()
        self.raw_state = self.state
        self.raw_codepage = self.ansi
        self.skip_chars = 0
        self.font_in_table: int | None = None
        self.intbl = False

    # --- text ---------------------------------------------------------------------------------
    def codepage(self) -> str:
        font = self.state.font if self.state.font is not None else self.default_font
        return self.fonts.get(font, self.ansi) if font is not None else self.ansi

    def flush(self) -> None:
        if self.raw:
            text = self.raw.decode(self.raw_codepage, errors="replace")
            self.raw.clear()
            self.emit(text, self.raw_state)

    def add_bytes(self, data: bytes) -> None:
        state = self.state
        if state.skip or state.fonttbl:
            return
        codepage = self.codepage()
        if self.raw and (self.raw_state is not state or self.raw_codepage != codepage):
            self.flush()
        self.raw_state = state
        self.raw_codepage = codepage
        self.raw.extend(data)

    def add_text(self, text: str) -> None:
        if self.state.skip or self.state.fonttbl:
            return
        self.flush()
        self.emit(text, self.state)

    def emit(self, text: str, state: _State) -> None:
        if state.info:
            if state.field is not None:
                self.sinks["metadata"].segments.append((NORMAL, text))
            return
        sink = self.sinks[state.sink]
        sink.segments.append((DELETED if state.deleted else HIDDEN if state.hidden else NORMAL, text))

    # --- structure ----------------------------------------------------------------------------
    def end_paragraph(self, sink: _Sink) -> None:
        self.flush()
        if self.intbl and sink.part == "body":
            sink.segments.append((NORMAL, "\n"))
            return
        if sink.in_table:
            self.end_table(sink)
        self.paragraph_blocks(sink, sink.segments, Location(part=sink.part))
        sink.segments = []

    def paragraph_blocks(self, sink: _Sink, segments: list[tuple[int, str]], location: Location,
                         only_changes: bool = False) -> None:
        for state, flag in ((NORMAL, None), (DELETED, "deleted"), (HIDDEN, "hidden")):
            if only_changes and state == NORMAL:
                continue
            text = _fix_surrogates("".join(t for s, t in segments if s == state)).strip()
            if text:
                flags = ((flag,) if flag else ()) + (("comment",) if sink.part == "comment" else ())
                sink.blocks.append(Block(text=text, location=location, flags=flags,
                                         kind="metadata" if sink.part == "metadata" else "text"))

    def end_cell(self, sink: _Sink) -> None:
        self.flush()
        if not sink.in_table:
            sink.in_table = True
            sink.table += 1
            sink.row = 0
            sink.header = None
        col = len(sink.cells) + 1
        location = Location(part=sink.part, cell=f"R{sink.row + 1}C{col}", row=sink.row + 1, col=col)
        self.paragraph_blocks(sink, sink.segments, location, only_changes=True)
        text = _fix_surrogates("".join(t for s, t in sink.segments if s == NORMAL))
        sink.cells.append((col, text))
        sink.segments = []

    def end_row(self, sink: _Sink) -> None:
        self.flush()
        if sink.segments and any(t.strip() for _, t in sink.segments):
            self.end_cell(sink)
        sink.segments = []
        if not sink.in_table:
            return
        sink.row += 1
        changes = [b for b in sink.blocks if b.location.row == sink.row and b.kind != "table_row"]
        for b in changes:
            sink.blocks.remove(b)
        block = row_block(sink.cells, row=sink.row, location=Location(part=sink.part), header=sink.header,
                          table=sink.table, spreadsheet=False)
        if block is not None:
            sink.header = next_header(sink.header, block)
            sink.blocks.append(block)
        sink.blocks.extend(changes)
        sink.cells = []

    def end_table(self, sink: _Sink) -> None:
        if sink.cells:
            self.end_row(sink)
        sink.in_table = False

    # --- the token loop --------------------------------------------------------------------------
    def run(self, data: bytes) -> Iterator[Block]:
        pos = 0
        group_start = False  # the previous token opened a group (destination words come first)
        ignorable = False  # the group started with \*
        count = 0
        end = len(data)
        while pos < end:
            match = _TOKEN.match(data, pos)
            if match is None:  # a lone backslash at the end
                break
            pos = match.end()
            count += 1
            if count % 50_000 == 0:
                self.ctx.check_time()
            word, arg, hexbyte, symbol, brace, text = match.groups()
            if word is None and hexbyte is None and symbol is None and brace is None and text is None:
                continue  # line breaks in the source mean nothing
            if text is not None:
                if self.skip_chars:
                    n = min(self.skip_chars, len(text))
                    self.skip_chars -= n
                    text = text[n:]
                if text:
                    self.add_bytes(text)
                group_start = False
                continue
            if hexbyte is not None:
                if self.skip_chars:
                    self.skip_chars -= 1
                elif not self.state.fonttbl:
                    self.add_bytes(bytes((int(hexbyte, 16),)))
                group_start = False
                continue
            if brace is not None:
                self.skip_chars = 0
                if brace == b"{":
                    if len(self.stack) >= _MAX_DEPTH:
                        raise CorruptDocumentError(f"RTF groups nested more than {_MAX_DEPTH} deep; the file is damaged")
                    self.stack.append(self.state)
                    self.state = self.state.copy()
                    group_start = True
                    ignorable = False
                else:
                    self.close_group()
                    group_start = False
                continue
            if symbol is not None:
                if symbol == b"*":
                    ignorable = True
                    continue
                group_start = False
                if symbol in (b"\\", b"{", b"}"):
                    if self.skip_chars:
                        self.skip_chars -= 1
                    else:
                        self.add_bytes(symbol)
                elif symbol in _SYMBOLS:
                    self.add_text(_SYMBOLS[symbol])
                elif symbol in (b"\n", b"\r"):
                    self.end_paragraph(self.sinks[self.state.sink])
                continue
            # a control word
            number = int(arg) if arg is not None else None
            if word == b"bin" and number:
                pos += max(0, number)
                continue
            destination = group_start
            group_start = False
            if destination and self.destination(word, ignorable):
                ignorable = False
                continue
            ignorable = False
            self.control(word, number)
        self.flush()
        for sink in self.sinks.values():
            if sink.in_table or sink.cells:
                self.end_table(sink)
            if sink.segments:
                self.intbl = False
                self.end_paragraph(sink)
        seen: set[tuple[str, str]] = set()
        for name in _PARTS:
            for block in self.sinks[name].blocks:
                if name in ("header", "footer"):
                    if (name, block.text) in seen:
                        continue
                    seen.add((name, block.text))
                yield block

    def close_group(self) -> None:
        self.flush()
        closing = self.state
        self.state = self.stack.pop() if self.stack else _State()
        if closing.fonttbl and not self.state.fonttbl:
            self.font_in_table = None
        if closing.field is not None and self.state.field is None:
            sink = self.sinks["metadata"]
            self.paragraph_blocks(sink, sink.segments, Location(part="metadata"))
            sink.segments = []
        elif closing.sink != self.state.sink and not closing.skip:
            sink = self.sinks[closing.sink]
            if sink.segments or sink.cells:
                intbl, self.intbl = self.intbl, False
                if sink.in_table or sink.cells:
                    self.end_table(sink)
                self.end_paragraph(sink)
                self.intbl = intbl

    def destination(self, word: bytes, ignorable: bool) -> bool:
        """Handle a control word that opens a group; True when it was a destination."""
        state = self.state
        if word == b"fonttbl":
            state.fonttbl = True
            return True
        if word == b"info":
            state.info = True
            state.skip = True
            return True
        if state.info:
            if word in _INFO:
                state.skip = False
                state.field = word.decode()
            else:
                state.skip = True
            return True
        if word in _SINKS:
            state.sink = _SINKS[word]
            state.skip = False
            if state.sink in ("footnote", "comment"):
                self.flush()
            return True
        if word in _SKIP or (ignorable and word not in (b"shpinst", b"shptxt", b"annotation", b"shp", b"pn")):
            state.skip = True
            return True
        return False

    def control(self, word: bytes, number: int | None) -> None:
        state = self.state
        if state.fonttbl:
            if word == b"f" and number is not None:
                self.font_in_table = number
            elif word == b"fcharset" and self.font_in_table is not None and number is not None:
                codepage = _CHARSETS.get(number)
                if codepage:
                    self.fonts[self.font_in_table] = codepage
            elif word == b"cpg" and self.font_in_table is not None and number:
                codepage = _codepage(number)
                if codepage:
                    self.fonts[self.font_in_table] = codepage
            return
        if word == b"u" and number is not None:
            self.add_text(chr(number + 65536 if number < 0 else number) if -32768 <= number < 65536 else "\ufffd")
            self.skip_chars = state.uc
            return
        self.skip_chars = 0
        if word in _CHARS:
            self.add_text(_CHARS[word])
        elif word in (b"par", b"sect", b"page"):
            if not state.skip:
                self.end_paragraph(self.sinks[state.sink])
        elif word in (b"cell", b"nestcell"):
            if not state.skip:
                self.end_cell(self.sinks[state.sink])
        elif word in (b"row", b"nestrow"):
            if not state.skip:
                self.end_row(self.sinks[state.sink])
        elif word == b"intbl":
            self.intbl = True
        elif word == b"pard":
            self.flush()
            self.intbl = False
        elif word == b"f" and number is not None:
            self.flush()
            state.font = number
        elif word == b"plain":
            self.flush()
            state.font = None
            state.hidden = state.deleted = False
        elif word == b"uc" and number is not None:
            state.uc = max(0, min(number, 10))
        elif word == b"v":
            self.flush()
            state.hidden = number != 0
        elif word == b"deleted":
            self.flush()
            state.deleted = number != 0
        elif word == b"ansicpg" and number:
            self.ansi = _codepage(number) or self.ansi
        elif word == b"deff" and number is not None:
            self.default_font = number
        elif word == b"mac":
            self.ansi = "mac_roman"
        elif word == b"pc":
            self.ansi = "cp437"
        elif word == b"pca":
            self.ansi = "cp850"


def _codepage(number: int) -> str | None:
    name = _CODEPAGES.get(number, f"cp{number}")
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def looks_like_rtf(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"{\\rtf"


@register
class RtfExtractor(Extractor):
    """Rich Text Format, with per-font code pages for CJK text."""

    name = "rtf"
    extensions = (".rtf",)
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return looks_like_rtf(source.head)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        if not looks_like_rtf(source.data):
            raise CorruptDocumentError(f"{source.name}: does not start with {{\\rtf; not an RTF document")
        yield from _Reader(ctx).run(source.data)
