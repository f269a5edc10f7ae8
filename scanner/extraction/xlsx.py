"""Excel workbooks (XLSX, XLSM, XLTX, and WPS spreadsheets saved as OOXML), sheets streamed row by row.

Each sheet is streamed with ``iterparse`` and every row freed once read, so a 100,000-row sheet never
becomes a tree in memory. A row becomes one ``table_row`` block whose cells keep their A1 addresses;
the sheet's first non-empty row is the header of all its rows. Cell values are what Excel shows
without formatting: shared and inline strings (phonetic guides left out), numbers, booleans, errors,
cached formula results, and dates where the cell's number format is a date format.

Hidden sheets flag all their rows ``hidden``; hidden rows too; cells in hidden columns are split off
into a second block of the same row flagged ``hidden``. Comments (legacy and threaded), headers and
footers, text boxes and chart titles follow each sheet; embedded objects come last.
XLSB (binary workbooks) is refused with a clear message: it needs a different reader.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Iterator

from lxml import etree

from ..data import Block, Location
from ..errors import UnsupportedFormatError
from .base import Context, Extractor, Source, register
from .ooxml import (
    R_ID,
    X,
    drawing_paragraphs,
    embedded_blocks,
    graphic_texts,
    is_ooxml,
    main_part,
    open_package,
    property_blocks,
    rel_map,
)
from .tables import next_header, row_block
from .xmlsafe import Package, release, text_of

_STRICT_X = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_THREADED = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"

# Built-in number formats that display dates or times (ECMA-376 18.8.30, with the CJK ones).
_DATE_FORMAT_IDS = {**dict.fromkeys([14, 15, 16, 17, *range(27, 32), 34, 35, 36, *range(50, 59), 71, 72, 73, 74, 77,
                                     78, 79, 80, 81], "date"),
                    **dict.fromkeys([18, 19, 20, 21, 32, 33, 45, 46, 47, 75, 76], "time"), 22: "datetime"}
_SHOW = {"date": "%Y-%m-%d", "time": "%H:%M:%S", "datetime": "%Y-%m-%d %H:%M:%S"}
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_HF_CODES = re.compile(r'&"[^"]*"|&K[0-9A-Fa-f]{6}|&K\d\d[+-]\d{3}|&\d+|&[PNDTZFAGBIUESXYH]|&[+-]\d*', re.I)
_HF_SECTIONS = re.compile(r"&[LCR]")
_FALSE = ("0", "false", "")


class _Tags:
    """Element names of one workbook's namespace (transitional or strict)."""

    def __init__(self, ns: str) -> None:
        self.row, self.c, self.v, self.is_ = f"{{{ns}}}row", f"{{{ns}}}c", f"{{{ns}}}v", f"{{{ns}}}is"
        self.t, self.r, self.si = f"{{{ns}}}t", f"{{{ns}}}r", f"{{{ns}}}si"
        self.col, self.header_footer = f"{{{ns}}}col", f"{{{ns}}}headerFooter"


_TRANSITIONAL = _Tags(X)


def _column(ref: str) -> int:
    """1-based column number from the letters of a cell reference (``AB12`` -> 28)."""
    n = 0
    for ch in ref:
        o = ord(ch)
        if 65 <= o <= 90:
            n = n * 26 + o - 64
        elif 97 <= o <= 122:
            n = n * 26 + o - 96
        else:
            break
    return n


def _number(value: str) -> str:
    """A stored number as Excel shows it in General format (up to 15 significant digits)."""
    if value.isdigit():
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.15g}"


def _excel_date(value: str, date1904: bool, kind: str) -> str | None:
    """A date serial as ISO text (date, time or both, as ``kind`` says), or ``None`` when implausible."""
    try:
        serial = float(value)
    except ValueError:
        return None
    if not 0 <= serial < 2958466:
        return None
    if date1904:
        base = dt.datetime(1904, 1, 1)
    else:
        base = dt.datetime(1899, 12, 31) if serial < 60 else dt.datetime(1899, 12, 30)
    moment = base + dt.timedelta(days=serial)
    moment = moment.replace(microsecond=0) + dt.timedelta(seconds=round(moment.microsecond / 1e6))
    return moment.strftime(_SHOW[kind])


def _date_kind(code: str) -> str | None:
    """``date``, ``time`` or ``datetime`` for a number format that shows one, else ``None``."""
    cleaned = _FORMAT_NOISE.sub("", code).lower().replace("general", "")
    has_time = "h" in cleaned or "s" in cleaned
    has_date = "y" in cleaned or "d" in cleaned or ("m" in cleaned and not has_time)
    if has_date and has_time:
        return "datetime"
    return "date" if has_date else "time" if has_time else None


def _rich_text(element: etree._Element, t: _Tags) -> str:
    """Text of a string item: plain ``t`` or rich-text runs, phonetic guides (``rPh``) left out."""
    parts = []
    for child in element:
        if child.tag == t.t:
            parts.append(child.text or "")
        elif child.tag == t.r:
            for run in child:
                if run.tag == t.t:
                    parts.append(run.text or "")
    return "".join(parts)


def header_footer_text(raw: str) -> list[str]:
    """The visible texts of an Excel header or footer (``&L``/``&C``/``&R`` sections, codes removed)."""
    texts = []
    for section in _HF_SECTIONS.split(raw):
        text = _HF_CODES.sub("", section).replace("&&", "&").strip()
        if any(ch.isalnum() for ch in text):  # "&P / &N" leaves only punctuation
            texts.append(text)
    return texts


class _Workbook:
    def __init__(self, pkg: Package, ctx: Context) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main_part(pkg, "xl/workbook.xml")
        if self.main.lower().endswith(".bin"):
            raise _xlsb(pkg.source)
        self.strict = b"purl.oclc.org/ooxml/spreadsheetml" in pkg.read(self.main)[:4096]
        self.t = _Tags(_STRICT_X if self.strict else X)
        self.rels = rel_map(pkg, self.main)
        workbook = pkg.parse(self.main)
        props = workbook.find(f"{{{X}}}workbookPr")
        self.date1904 = props is not None and props.get("date1904", "0") not in _FALSE
        self.sheets = []
        sheets = workbook.find(f"{{{X}}}sheets")
        for sheet in sheets if sheets is not None else ():
            rel = self.rels.get(sheet.get(R_ID, ""))
            if rel is not None and pkg.find(rel.target):
                self.sheets.append((sheet.get("name") or rel.target, sheet.get("state", "visible"), rel.target))
        ctx.check_pages(len(self.sheets), "sheets")
        self.strings = self._shared_strings()
        self.date_styles = self._date_styles()

    def _target(self, kind: str) -> str | None:
        for rel in self.rels.values():
            if rel.kind == kind and self.pkg.find(rel.target):
                return rel.target
        return None

    def _shared_strings(self) -> list[str]:
        part = self._target("sharedStrings")
        if part is None:
            return []
        t = self.t
        strings: list[str] = []
        for n, (_, si) in enumerate(self.pkg.iterparse(part, [t.si]), 1):
            strings.append(_rich_text(si, t))
            release(si)
            if n % 10000 == 0:
                self.ctx.check_time()
        return strings

    def _date_styles(self) -> dict[int, str]:
        part = self._target("styles")
        root = self.pkg.parse_optional(part)
        if root is None:
            return {}
        kinds = {str(k): v for k, v in _DATE_FORMAT_IDS.items()}
        numfmts = root.find(f"{{{X}}}numFmts")
        for fmt in numfmts if numfmts is not None else ():
            kind = _date_kind(fmt.get("formatCode", ""))
            if kind:
                kinds[fmt.get("numFmtId", "")] = kind
            else:
                kinds.pop(fmt.get("numFmtId", ""), None)
        xfs = root.find(f"{{{X}}}cellXfs")
        dates = {}
        for index, xf in enumerate(xfs if xfs is not None else ()):
            kind = kinds.get(xf.get("numFmtId", "0"))
            if kind:
                dates[index] = kind
        return dates

    # --- reading -------------------------------------------------------------------------------
    def blocks(self) -> Iterator[Block]:
        for name, state, part in self.sheets:
            self.ctx.check_time()
            hidden = state in ("hidden", "veryHidden")
            sheet_rels = rel_map(self.pkg, part)
            footers: list[tuple[str, str]] = []
            yield from self.rows(name, part, hidden, footers)
            yield from self.comments(name, sheet_rels)
            seen = set()
            for kind, text in footers:
                if (kind, text) not in seen:
                    seen.add((kind, text))
                    yield Block(text=text, location=Location(part=kind, sheet=name), flags=("hidden",) if hidden else ())
            yield from self.drawings(name, sheet_rels, hidden)
        yield from property_blocks(self.pkg)
        yield from embedded_blocks(self.pkg, posixpath.join(posixpath.dirname(self.main), "embeddings/"), self.ctx)

    def rows(self, name: str, part: str, sheet_hidden: bool, footers: list[tuple[str, str]]) -> Iterator[Block]:
        t = self.t
        strings = self.strings
        n_strings = len(strings)
        date_styles = self.date_styles
        location = Location(part=f"sheet:{name}", sheet=name)
        hidden_cols: set[int] = set()
        header: str | None = None
        row_number = 0
        columns: dict[str, int] = {}  # column letters -> number, computed once per sheet
        t_c, t_v, t_is = t.c, t.v, t.is_
        for count, (_, el) in enumerate(self.pkg.iterparse(part, [t.row, t.col, t.header_footer]), 1):
            tag = el.tag
            if tag == t.col:
                if el.get("hidden", "0") not in _FALSE:
                    first, last = int(el.get("min", "1")), int(el.get("max", "1"))
                    hidden_cols.update(range(first, min(last, 16384) + 1))
                continue
            if tag == t.header_footer:
                for child in el:
                    kind = "header" if child.tag.endswith("Header") else "footer"
                    footers.extend((kind, text) for text in header_footer_text(child.text or ""))
                continue
            if count % 2000 == 0:
                self.ctx.check_time()
            r = el.get("r")
            row_number = int(r) if r and r.isdigit() else row_number + 1
            if not len(el):  # a row that only carries formatting
                el.clear()
                continue
            visible: list[tuple[int, str]] = []
            concealed: list[tuple[int, str]] = []
            col = 0
            for c in el:
                if c.tag != t_c or not len(c):  # no value: a formatted empty cell
                    continue
                ref = c.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    col = columns.get(letters) or columns.setdefault(letters, _column(letters))
                else:
                    col += 1
                kind = c.get("t")
                value = None
                text = None
                for child in c:
                    ctag = child.tag
                    if ctag == t_v:
                        value = child.text
                    elif ctag == t_is:
                        text = _rich_text(child, t)
                if value is not None:
                    if kind == "s":
                        index = int(value) if value.isdigit() else -1
                        text = strings[index] if 0 <= index < n_strings else None
                    elif kind is None or kind == "n":
                        style = c.get("s")
                        text = None
                        if style and date_styles and style.isdigit() and int(style) in date_styles:
                            text = _excel_date(value, self.date1904, date_styles[int(style)])
                        text = text or _number(value)
                    elif kind == "b":
                        text = "TRUE" if value.strip() not in _FALSE else "FALSE"
                    elif kind != "inlineStr":
                        text = value
                if text:
                    (concealed if col in hidden_cols else visible).append((col, text))
            row_hidden = sheet_hidden or el.get("hidden", "0") not in _FALSE
            el.clear()
            if count % 256 == 0:  # free the rows read so far in one go
                release(el)
            if visible:
                block = row_block(visible, row=row_number, location=location, header=header,
                                  flags=("hidden",) if row_hidden else ())
                if block is not None:
                    header = next_header(header, block)
                    yield block
            if concealed:
                extra = row_block(concealed, row=row_number, location=location, header=header, flags=("hidden",))
                if extra is not None:
                    header = next_header(header, extra)
                    yield extra

    def comments(self, name: str, sheet_rels: dict) -> Iterator[Block]:
        threaded = False
        for rel in sheet_rels.values():
            if rel.kind == "threadedComment" and self.pkg.find(rel.target):
                threaded = True
                for comment in self.pkg.parse(rel.target).iter(f"{{{_THREADED}}}threadedComment"):
                    text = text_of(comment.find(f"{{{_THREADED}}}text")).strip()
                    if text:
                        yield self._comment(name, comment.get("ref"), text)
        for rel in sheet_rels.values():
            if rel.kind != "comments" or not self.pkg.find(rel.target):
                continue
            for comment in self.pkg.parse(rel.target).iter(f"{{{X}}}comment"):
                body = comment.find(f"{{{X}}}text")
                text = _rich_text(body, _TRANSITIONAL).strip() if body is not None else ""
                if text and not (threaded and text.startswith("[Threaded comment]")):
                    yield self._comment(name, comment.get("ref"), text)

    def _comment(self, sheet: str, ref: str | None, text: str) -> Block:
        row = int(re.sub(r"\D", "", ref) or 0) if ref else None
        return Block(text=text, location=Location(part="comment", sheet=sheet, cell=ref, row=row or None,
                                                  col=_column(ref) if ref else None), flags=("comment",))

    def drawings(self, name: str, sheet_rels: dict, hidden: bool) -> Iterator[Block]:
        location = Location(part=f"sheet:{name}", sheet=name)
        flags = ("hidden",) if hidden else ()
        for rel in sheet_rels.values():
            if rel.kind != "drawing" or not self.pkg.find(rel.target):
                continue
            root = self.pkg.parse(rel.target)
            drawing_rels = rel_map(self.pkg, rel.target)
            for text in drawing_paragraphs(root):
                yield Block(text=text, location=location, flags=flags)
            for text in graphic_texts(self.pkg, rel.target, root, drawing_rels):
                yield Block(text=text, location=location, flags=flags)
            for pr in root.iter(f"{{{_XDR}}}cNvPr"):
                alt = (pr.get("descr") or "").strip()
                if alt:
                    yield Block(text=alt, location=location, flags=(*flags, "alt_text"))


def _xlsb(source: Source) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        f"{source.name}: Excel binary workbook (XLSB) is not supported; save it as .xlsx in Excel or WPS and scan it again"
    )


@register
class XlsxExtractor(Extractor):
    """XLSX, XLSM, XLTX, XLTM and OOXML WPS spreadsheets (XLSB is refused as unsupported)."""

    name = "xlsx"
    extensions = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb")
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return is_ooxml(source, "xl/", ("xl/workbook.xml", "xl/workbook.bin"), cls.extensions)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        if "xl/workbook.bin" in source.zip_names and "xl/workbook.xml" not in source.zip_names:
            raise _xlsb(source)
        with open_package(source, ctx) as pkg:
            yield from _Workbook(pkg, ctx).blocks()
