"""Legacy Excel workbooks (BIFF8 .xls from Excel 97–2003, BIFF5/7 from Excel 5/95, WPS .et) via xlrd.

Sheets come in workbook order as ``sheet:<name>`` parts; every row goes through
:func:`~scanner.extraction.tables.row_block` with A1 cell addresses, the first non-empty row of a sheet
being its header. Numbers are shown the way their number format shows them (``1,599.99``, ``2.50%``,
``1.98E+08``, dates as ISO dates), so what the detectors see matches what a reader sees. Hidden sheets,
rows and columns are kept but flagged ``hidden``; cell notes are ``comment`` blocks at their cell.

Page headers and footers are not read by xlrd; they are taken from the HEADER/FOOTER records of each
sheet's substream in the ``Workbook`` stream. Encrypted workbooks (a FILEPASS record) are decrypted
with msoffcrypto-tool when ``--password`` is given, or when Excel's built-in default password opens
them (workbooks that are only write-protected).
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from ..data import Block, Location
from ..errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError
from .base import Context, Extractor, Source, register
from .doc import ole_metadata_blocks, read_stream
from .encrypted import EXCEL_DEFAULT_PASSWORD, decrypt_office
from .tables import a1, row_block

_BOF, _EOF, _FILEPASS, _BOUNDSHEET, _HEADER, _FOOTER = 0x0809, 0x000A, 0x002F, 0x0085, 0x0014, 0x0015
_CURRENCY = "$¥￥€£"
_HF_CODE = re.compile(r'&(?:"[^"]*"|\d+|[LCRPNDTFAZGSUXYBIEKHO&]|K[0-9A-Fa-f]{6})')


# --- workbook stream records --------------------------------------------------------------------
def _records(stream: bytes, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """``(offset, type, data)`` of the BIFF records from ``start`` until the stream ends."""
    pos = start
    end = len(stream)
    while pos + 4 <= end:
        rtype, size = struct.unpack_from("<HH", stream, pos)
        yield pos, rtype, stream[pos + 4 : pos + 4 + size]
        pos += 4 + size


def _has_filepass(stream: bytes) -> bool:
    for _, rtype, _ in _records(stream):
        if rtype == _FILEPASS:
            return True
        if rtype in (_EOF, _BOUNDSHEET):  # FILEPASS comes right after the globals' BOF
            return False
    return False


def _biff_string(data: bytes, biff8: bool, encoding: str) -> str:
    """A HEADER/FOOTER string: XLUnicodeString in BIFF8, a byte-counted code-page string before."""
    if not data:
        return ""
    if not biff8:
        return data[1 : 1 + data[0]].decode(encoding, "replace")
    if len(data) < 3:
        return ""
    count, flags = struct.unpack_from("<HB", data, 0)
    raw = data[3:]
    if flags & 0x01:
        return raw[: 2 * count].decode("utf-16-le", "replace")
    return raw[:count].decode("latin-1")


def header_footer_text(code: str) -> str:
    """The visible text of an Excel header/footer code (``&LLeft&CCentre&RRight``, ``&P`` page fields...)."""
    parts = re.split(r"&[LCR]", code)
    texts = [" ".join(_HF_CODE.sub(" ", part).split()) for part in parts]
    return "  ".join(t for t in texts if t)


def sheet_headers_footers(stream: bytes, biff8: bool, encoding: str) -> dict[str, list[tuple[str, str]]]:
    """Sheet name -> ``[("header"|"footer", text)]`` read from each sheet's own substream."""
    sheets: list[tuple[str, int]] = []
    for _, rtype, data in _records(stream):
        if rtype == _BOUNDSHEET and len(data) >= 8:
            pos = struct.unpack_from("<I", data, 0)[0]
            if biff8:
                count, flags = data[6], data[7]
                name = data[8 : 8 + 2 * count].decode("utf-16-le", "replace") if flags & 1 else data[8 : 8 + count].decode("latin-1")
            else:
                count = data[6]
                name = data[7 : 7 + count].decode(encoding, "replace")
            sheets.append((name, pos))
        elif rtype == _EOF:
            break
    found: dict[str, list[tuple[str, str]]] = {}
    for name, pos in sheets:
        depth = 0
        for _, rtype, data in _records(stream, pos):
            if rtype == _BOF:
                depth += 1
            elif rtype == _EOF:
                depth -= 1
                if depth <= 0:
                    break
            elif rtype in (_HEADER, _FOOTER) and depth == 1:
                text = header_footer_text(_biff_string(data, biff8, encoding))
                if text:
                    found.setdefault(name, []).append(("header" if rtype == _HEADER else "footer", text))
    return found


# --- number formats -----------------------------------------------------------------------------
def _general(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


def format_number(value: float, fmt: str) -> str:
    """``value`` as Excel's number format ``fmt`` shows it, for the common numeric formats.

    Dates are handled separately; formats this does not understand (fractions, text sections) give
    the General rendering, which loses nothing of the value.
    """
    sections = fmt.split(";")
    own_negative = value < 0 and len(sections) > 1 and bool(sections[1].strip())
    section = sections[1] if own_negative else sections[0]
    currency = "".join(ch for ch in section if ch in _CURRENCY)
    # drop colours and conditions, padding (_x), fill (*x), escaped characters and quoted literals
    pattern = re.sub(r'\[[^\]]*\]|_.|\*.|"[^"]*"|\\.', "", section)
    if not pattern.strip() or pattern.strip().lower() == "general" or "?" in pattern or "/" in pattern:
        return _general(value)
    match = re.search(r"[#0,.]*[0#][#0,.]*(?:[Ee][+-][0#]+)?", pattern)
    if match is None:
        return _general(value)
    percent = "%" in pattern
    shown = abs(value) * (100 if percent else 1)
    mantissa = re.split(r"[Ee]", match.group(0))[0]
    decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    if re.search(r"[Ee][+-]", match.group(0)):
        text = f"{shown:.{decimals}E}"
    else:  # Excel rounds halves away from zero, Python's format to even
        rounded = Decimal(repr(shown)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        text = f"{rounded:,.{decimals}f}" if "," in mantissa.split(".")[0] else f"{rounded:.{decimals}f}"
    body = f"{currency}{text}{'%' if percent else ''}"
    if value < 0:
        return f"({body})" if own_negative and "(" in section else f"-{body}"
    return body


def _date_text(value: float, datemode: int, fmt: str) -> str:
    """An ISO date, time or both, as much as the cell's date format shows."""
    import xlrd

    try:
        moment = xlrd.xldate.xldate_as_datetime(value, datemode)
    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
        return _general(value)
    shown = re.sub(r'\[[^\]]*\]|"[^"]*"|\\.', "", fmt).lower()
    has_date = value >= 1 and ("y" in shown or "d" in shown or ("m" in shown and "h" not in shown))
    has_time = "h" in shown or "s" in shown or (not has_date and value % 1 != 0)
    seconds = ":%S" if "s" in shown or moment.second else ""
    if has_date and has_time:
        return moment.strftime(f"%Y-%m-%d %H:%M{seconds}")
    if has_time:
        return moment.strftime(f"%H:%M{seconds}")
    return moment.strftime("%Y-%m-%d")


class _CellFormatter:
    def __init__(self, book) -> None:  # type: ignore[no-untyped-def]
        self.book = book
        self.formats: dict[int, str] = {}

    def format_of(self, xf_index: int) -> str:
        if xf_index not in self.formats:
            fmt = "General"
            try:
                xf = self.book.xf_list[xf_index]
                fmt = self.book.format_map[xf.format_key].format_str
            except (AttributeError, IndexError, KeyError):
                pass
            self.formats[xf_index] = fmt
        return self.formats[xf_index]

    def text(self, cell) -> str:  # type: ignore[no-untyped-def]
        import xlrd

        ctype, value = cell.ctype, cell.value
        if ctype == xlrd.XL_CELL_TEXT:
            return str(value)
        if ctype == xlrd.XL_CELL_NUMBER:
            return format_number(float(value), self.format_of(cell.xf_index)) if self.book.formatting_info else _general(float(value))
        if ctype == xlrd.XL_CELL_DATE:
            return _date_text(float(value), self.book.datemode, self.format_of(cell.xf_index))
        if ctype == xlrd.XL_CELL_BOOLEAN:
            return "TRUE" if value else "FALSE"
        if ctype == xlrd.XL_CELL_ERROR:
            return xlrd.error_text_from_code.get(value, "#ERROR")
        return ""


# --- the extractor ------------------------------------------------------------------------------
def _workbook_stream(source: Source) -> bytes:
    with source.open_ole() as ole:
        for candidate in ("Workbook", "Book"):
            if ole.exists(candidate):
                return read_stream(ole, candidate, source.name)
    raise CorruptDocumentError(f"{source.name}: no Workbook stream in the OLE file")


@register
class XlsExtractor(Extractor):
    """Excel 97–2003 and 5/95 workbooks (and WPS .et in the same format)."""

    name = "xls"
    extensions = (".xls", ".xlt", ".et", ".ett")
    priority = 40

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.is_ole and bool({"workbook", "book"} & source.ole_streams)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        data = self._decrypted(source, ctx)
        yield from ole_metadata_blocks(Source(source.name, data))
        book = self._open(data, source.name)
        try:
            ctx.check_pages(book.nsheets, "sheets")
            extras = self._headers_footers(data, book)
            formatter = _CellFormatter(book)
            for sheet in book.sheets():
                ctx.check_time()
                yield from self._sheet(sheet, formatter, extras.get(sheet.name, []), ctx)
        finally:
            book.release_resources()

    @staticmethod
    def _decrypted(source: Source, ctx: Context) -> bytes:
        stream = _workbook_stream(source)
        if not _has_filepass(stream):
            return source.data
        if ctx.password is not None:
            return decrypt_office(source.data, ctx.password, source.name)
        try:
            return decrypt_office(source.data, EXCEL_DEFAULT_PASSWORD, source.name)
        except EncryptedDocumentError:
            raise EncryptedDocumentError(f"{source.name}: the workbook is encrypted; pass --password to read it") from None
        except UnsupportedFormatError as exc:
            raise EncryptedDocumentError(f"{source.name}: the workbook is encrypted ({exc}); pass --password to read it") from exc

    @staticmethod
    def _open(data: bytes, name: str):  # type: ignore[no-untyped-def]
        import xlrd

        log = io.StringIO()  # xlrd writes warnings to a log file; keep them off stdout
        last: Exception | None = None
        for formatting in (True, False):
            try:
                return xlrd.open_workbook(file_contents=data, formatting_info=formatting, logfile=log,
                                          ignore_workbook_corruption=True)
            except NotImplementedError as exc:  # formatting_info is not available for every BIFF version
                last = exc
                continue
            except xlrd.XLRDError as exc:
                if "encrypted" in str(exc).lower():
                    raise EncryptedDocumentError(f"{name}: the workbook is encrypted; pass --password to read it") from exc
                if "unsupported" in str(exc).lower() or "biff version" in str(exc).lower():
                    raise UnsupportedFormatError(f"{name}: {exc}") from exc
                raise CorruptDocumentError(f"{name}: not a readable Excel workbook ({exc})") from exc
            except Exception as exc:  # xlrd fails on damaged records with struct/index/assertion errors
                raise CorruptDocumentError(f"{name}: damaged Excel workbook ({type(exc).__name__}: {exc})") from exc
        raise UnsupportedFormatError(f"{name}: this Excel version cannot be read ({last})")

    @staticmethod
    def _headers_footers(data: bytes, book) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
        try:
            stream = _workbook_stream(Source("workbook", data))
            return sheet_headers_footers(stream, book.biff_version >= 80, book.encoding or "cp1252")
        except Exception:  # headers and footers are a bonus; a damaged record must not lose the cells
            return {}

    @staticmethod
    def _sheet(sheet, formatter: _CellFormatter, extras: list[tuple[str, str]], ctx: Context) -> Iterator[Block]:  # type: ignore[no-untyped-def]
        name = sheet.name
        part = f"sheet:{name}"
        sheet_hidden = sheet.visibility != 0
        base_flags = ("hidden",) if sheet_hidden else ()
        for kind, text in extras:
            if kind == "header":
                yield Block(text=text, location=Location(part="header", sheet=name), flags=base_flags)
        hidden_cols = {c for c, info in getattr(sheet, "colinfo_map", {}).items() if getattr(info, "hidden", 0)}
        row_info = getattr(sheet, "rowinfo_map", {})
        location = Location(part=part, sheet=name)
        header: str | None = None
        for r in range(sheet.nrows):
            if r % 1000 == 0:
                ctx.check_time()
            visible: list[tuple[int, str]] = []
            concealed: list[tuple[int, str]] = []
            for c, cell in enumerate(sheet.row(r)):
                text = formatter.text(cell)
                if text:
                    (concealed if c in hidden_cols else visible).append((c + 1, text))
            row_hidden = bool(getattr(row_info.get(r), "hidden", 0))
            flags = ("hidden",) if (sheet_hidden or row_hidden) else ()
            block = row_block(visible, row=r + 1, location=location, header=header, flags=flags)
            if block is not None:
                header = header or block.text
                yield block
            hidden_block = row_block(concealed, row=r + 1, location=location, header=header, flags=("hidden",))
            if hidden_block is not None:
                yield hidden_block
        for (r, c), note in sorted(getattr(sheet, "cell_note_map", {}).items()):
            text = (getattr(note, "text", "") or "").strip()
            if text:
                yield Block(text=text, location=Location(part=part, sheet=name, cell=a1(r + 1, c + 1), row=r + 1, col=c + 1),
                            flags=("comment",) + base_flags)
        for kind, text in extras:
            if kind == "footer":
                yield Block(text=text, location=Location(part="footer", sheet=name), flags=base_flags)
