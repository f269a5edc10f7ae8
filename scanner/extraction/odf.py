"""OpenDocument: text (ODT), spreadsheets (ODS), presentations (ODP), and their flat XML forms.

Text documents read in document order: paragraphs and headings, lists, sections, tables row by row,
text boxes after the paragraph that anchors them, footnotes and endnotes (``footnote``/``endnote``),
annotations (``comment``), text deleted under change tracking (flagged ``deleted``). Headers and
footers come from the master pages in ``styles.xml``. Spreadsheets are streamed row by row like
XLSX: repeated rows and columns (``number-rows-repeated``...) advance the address without expanding
empty cells, hidden sheets, rows and columns are flagged. Presentations give ``slide:N`` and
``notes:N``, with master-page footers once as ``master``.

Encrypted packages (``manifest:encryption-data``) are decrypted with the password when it is given
and the algorithm is the ODF 1.2 one (AES-256-CBC, PBKDF2); otherwise they are reported encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from lxml import etree

from ..data import Block, Location
from ..errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError
from .base import Context, Extractor, Source, register
from .tables import a1, next_header, row_block
from .xmlsafe import Package, parse_xml, release

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
PRES = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
CHART = "urn:oasis:names:tc:opendocument:xmlns:chart:1.0"
SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
DC = "http://purl.org/dc/elements/1.1/"
XLINK = "http://www.w3.org/1999/xlink"
MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


T_P, T_H, T_S, T_TAB, T_BR = _q(TEXT, "p"), _q(TEXT, "h"), _q(TEXT, "s"), _q(TEXT, "tab"), _q(TEXT, "line-break")
T_NOTE, T_NOTE_BODY, T_NOTE_CITATION = _q(TEXT, "note"), _q(TEXT, "note-body"), _q(TEXT, "note-citation")
T_TRACKED, T_CHANGE_START = _q(TEXT, "tracked-changes"), _q(TEXT, "change-start")
O_ANNOTATION, O_ANNOTATION_END = _q(OFFICE, "annotation"), _q(OFFICE, "annotation-end")
TB_TABLE, TB_ROW, TB_CELL, TB_COVERED = _q(TABLE, "table"), _q(TABLE, "table-row"), _q(TABLE, "table-cell"), _q(TABLE, "covered-table-cell")
TB_COLUMN, TB_SHAPES = _q(TABLE, "table-column"), _q(TABLE, "shapes")
D_FRAME, D_PAGE, D_OBJECT, D_OBJECT_OLE = _q(DRAW, "frame"), _q(DRAW, "page"), _q(DRAW, "object"), _q(DRAW, "object-ole")
P_NOTES, P_CLASS, P_PLACEHOLDER = _q(PRES, "notes"), _q(PRES, "class"), _q(PRES, "placeholder")
XLINK_HREF = _q(XLINK, "href")

# Elements without reader-visible text (declarations, settings, change records handled apart).
_SKIP = frozenset({
    _q(TEXT, "sequence-decls"), _q(TEXT, "variable-decls"), _q(TEXT, "user-field-decls"), _q(OFFICE, "forms"),
    _q(TABLE, "table-columns"), TB_COLUMN, _q(TEXT, "bookmark"), _q(TEXT, "bookmark-start"),
    _q(TEXT, "bookmark-end"), T_CHANGE_START, _q(TEXT, "change-end"), _q(TEXT, "change"), _q(TEXT, "soft-page-break"),
    _q(DC, "creator"), _q(DC, "date"), _q(META, "date-string"), _q(OFFICE, "event-listeners"),
    _q(TABLE, "named-expressions"), _q(TABLE, "database-ranges"), _q(PRES, "settings"), _q(TEXT, "reference-mark"),
    _q(TEXT, "alphabetical-index-mark"), _q(TEXT, "toc-mark"), _q(SVG, "title"), _q(SVG, "desc"),
    _q(TABLE, "calculation-settings"), _q(TABLE, "content-validations"), _q(OFFICE, "scripts"),
    _q(TEXT, "sheet-name"), _q(TEXT, "file-name"),  # their cached value is often "???"
})
_MAX_REPEAT = 1000  # copies of one non-empty repeated row or cell that are read


@dataclass
class _Para:
    """Text of one paragraph and the things anchored in it."""

    parts: list[str] = field(default_factory=list)
    notes: list[etree._Element] = field(default_factory=list)
    annotations: list[etree._Element] = field(default_factory=list)
    frames: list[etree._Element] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()


def _inline(element: etree._Element, para: _Para) -> None:
    if element.text:
        para.parts.append(element.text)
    for child in element:
        tag = child.tag
        if tag == T_S:
            count = child.get(_q(TEXT, "c"), "1")
            para.parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif tag == T_TAB:
            para.parts.append("\t")
        elif tag == T_BR:
            para.parts.append("\n")
        elif tag == T_NOTE:
            para.notes.append(child)
        elif tag == O_ANNOTATION:
            para.annotations.append(child)
        elif tag == T_CHANGE_START:
            para.changes.append(child.get(_q(TEXT, "change-id"), ""))
        elif isinstance(tag, str) and (tag.startswith(f"{{{DRAW}}}") and tag != _q(DRAW, "a")):
            para.frames.append(child)
        elif tag in _SKIP or not isinstance(tag, str):
            pass
        else:
            _inline(child, para)
        if child.tail:
            para.parts.append(child.tail)


def paragraph_texts(element: etree._Element) -> list[str]:
    """Texts of all paragraphs and headings below ``element``, in document order."""
    texts = []
    for p in element.iter(T_P, T_H):
        para = _Para()
        _inline(p, para)
        if para.text:
            texts.append(para.text)
    return texts


class _Reader:
    """Reads the roots of one OpenDocument (content, styles, meta) into blocks."""

    def __init__(self, ctx: Context, pkg: Package | None = None) -> None:
        self.ctx = ctx
        self.pkg = pkg
        self.inserted: set[str] = set()
        self.hidden_styles: set[str] = set()
        self.tables: dict[str, int] = {}
        self.paragraphs = 0

    # --- text documents and shared content ---------------------------------------------------------
    def content(self, element: etree._Element, location: Location, flags: tuple[str, ...] = ()) -> Iterator[Block]:
        for child in element:
            tag = child.tag
            if tag in (T_P, T_H):
                yield from self.paragraph(child, location, flags, heading=tag == T_H)
            elif tag == TB_TABLE:
                yield from self.table(child, location, flags)
            elif tag == T_TRACKED:
                yield from self.tracked(child, location)
            elif tag == O_ANNOTATION:
                yield from self.annotation(child, location)
            elif tag in (D_OBJECT, D_OBJECT_OLE):
                yield from self.embedded(child, location)
            elif tag == P_NOTES or tag in _SKIP or not isinstance(tag, str) or tag == D_FRAME and child.get(P_PLACEHOLDER) == "true":
                continue
            elif len(child):
                yield from self.content(child, location, flags)

    def paragraph(self, p: etree._Element, location: Location, flags: tuple[str, ...] = (),
                  heading: bool = False) -> Iterator[Block]:
        self.paragraphs += 1
        if self.paragraphs % 500 == 0:
            self.ctx.check_time()
        para = _Para()
        _inline(p, para)
        text = para.text
        if text:
            if any(change in self.inserted for change in para.changes):
                flags = (*flags, "inserted")
            yield Block(text=text, location=location, kind="heading" if heading else "text", flags=flags)
        for note in para.notes:
            kind = "endnote" if note.get(_q(TEXT, "note-class")) == "endnote" else "footnote"
            body = note.find(T_NOTE_BODY)
            if body is not None:
                yield from self.content(body, replace(location, part=kind))
        for annotation in para.annotations:
            yield from self.annotation(annotation, location)
        for frame in para.frames:
            yield from self.content(frame, location, flags)
            for alt in (frame.find(_q(SVG, "title")), frame.find(_q(SVG, "desc"))):
                if alt is not None and (alt.text or "").strip():
                    yield Block(text=alt.text.strip(), location=location, flags=(*flags, "alt_text"))
            if frame.tag in (D_OBJECT, D_OBJECT_OLE):
                yield from self.embedded(frame, location)

    def annotation(self, annotation: etree._Element, location: Location) -> Iterator[Block]:
        text = "\n".join(paragraph_texts(annotation)).strip()
        if text:
            yield Block(text=text, location=replace(location, part="comment"), flags=("comment",))

    def tracked(self, changes: etree._Element, location: Location) -> Iterator[Block]:
        """Text deleted under change tracking, and which change ids are insertions."""
        for region in changes:
            for change in region:
                name = etree.QName(change).localname
                if name == "insertion":
                    self.inserted.add(region.get(_q(TEXT, "id"), ""))
                elif name == "deletion":
                    for text in paragraph_texts(change):
                        yield Block(text=text, location=location, flags=("deleted",))

    def table(self, table: etree._Element, location: Location, flags: tuple[str, ...] = ()) -> Iterator[Block]:
        self.tables[location.part] = number = self.tables.get(location.part, 0) + 1
        header: str | None = None
        row_number = 0
        for row in table.iter(TB_ROW):
            if _ancestor_table(row) is not table:
                continue
            row_number += 1
            values: list[tuple[int, str]] = []
            nested: list[etree._Element] = []
            col = 1
            for cell in row:
                if cell.tag not in (TB_CELL, TB_COVERED):
                    continue
                parts = []
                for child in cell:
                    if child.tag == TB_TABLE:
                        nested.append(child)
                    elif child.tag in (T_P, T_H):
                        para = _Para()
                        _inline(child, para)
                        parts.append(para.text)
                    elif len(child):
                        parts.extend(paragraph_texts(child))
                values.append((col, "\n".join(parts)))
                col += _repeat(cell, "number-columns-repeated") if not parts else 1
            block = row_block(values, row=row_number, location=location, header=header, table=number,
                              spreadsheet=False, flags=flags)
            if block is not None:
                header = next_header(header, block)
                yield block
            for inner in nested:
                yield from self.table(inner, location, flags)

    def embedded(self, element: etree._Element, location: Location) -> Iterator[Block]:
        """Embedded sub-documents (charts, formulas, other ODF) and OLE objects inside the package."""
        href = (element.get(XLINK_HREF) or "").removeprefix("./").strip("/")
        if self.pkg is None or not href or href.startswith(("http:", "https:", "file:", "/", "..")):
            return
        sub = self.pkg.find(f"{href}/content.xml")
        if sub is not None:
            root = self.pkg.parse(sub)
            for text in paragraph_texts(root):
                yield Block(text=text, location=location)
        elif self.pkg.find(href):
            yield from self.ctx.extract_child(posixpath.basename(href), self.pkg.read_member(href))

    # --- styles, masters, metadata ---------------------------------------------------------------
    def styles(self, root: etree._Element) -> None:
        """Remember automatic styles that hide a sheet or a slide."""
        for styles in root.iter(_q(OFFICE, "automatic-styles")):
            for style in styles:
                for props in style:
                    if props.get(_q(TABLE, "display")) == "false" or props.get(_q(PRES, "visibility")) == "hidden":
                        self.hidden_styles.add(style.get(_q(STYLE, "name"), ""))

    def masters(self, root: etree._Element, slides: bool) -> Iterator[Block]:
        """Headers and footers of page masters; for presentations, free text and footers on masters."""
        seen: set[tuple[str, str]] = set()
        for master_styles in root.iter(_q(OFFICE, "master-styles")):
            for master in master_styles.iter(_q(STYLE, "master-page")):
                for child in master:
                    name = etree.QName(child).localname
                    if name.startswith(("header", "footer")) and not slides:
                        kind = "header" if name.startswith("header") else "footer"
                        blocks = self.content(child, Location(part=kind))
                    elif (slides and child.tag.startswith(f"{{{DRAW}}}") and child.get(P_PLACEHOLDER) != "true"
                          and child.get(P_CLASS) in (None, "footer", "header")):
                        blocks = self.content(child, Location(part="master"))
                    else:
                        continue
                    for block in blocks:
                        if (block.location.part, block.text) not in seen:
                            seen.add((block.location.part, block.text))
                            yield block

    def metadata(self, root: etree._Element | None) -> Iterator[Block]:
        if root is None:
            return
        location = Location(part="metadata")
        for meta in root.iter(_q(OFFICE, "meta")):
            keywords = [k.text.strip() for k in meta.iter(_q(META, "keyword")) if (k.text or "").strip()]
            if keywords:
                yield Block(text=", ".join(keywords), location=location, kind="metadata")
            for item in meta:
                text = "".join(item.itertext()).strip()
                if not text:
                    continue
                if item.tag in (_q(DC, "title"), _q(DC, "subject"), _q(DC, "description")):
                    yield Block(text=text, location=location, kind="metadata")
                elif item.tag == _q(META, "user-defined"):
                    name = item.get(_q(META, "name"), "")
                    yield Block(text=f"{name}: {text}" if name else text, location=location, kind="metadata")

    # --- presentations ---------------------------------------------------------------------------
    def presentation(self, body: etree._Element) -> Iterator[Block]:
        pages = [page for page in body if page.tag == D_PAGE]
        self.ctx.check_pages(len(pages), "slides")
        for number, page in enumerate(pages, 1):
            self.ctx.check_time()
            flags = ("hidden",) if page.get(_q(DRAW, "style-name")) in self.hidden_styles else ()
            location = Location(part=f"slide:{number}", slide=number)
            for frame in page:
                if frame.tag == P_NOTES:
                    continue
                heading = frame.get(P_CLASS) == "title"
                for block in self.content(frame, location, flags):
                    yield replace(block, kind="heading") if heading and block.kind == "text" else block
            notes = page.find(P_NOTES)
            if notes is not None:
                yield from self.content(notes, Location(part=f"notes:{number}", slide=number), flags)
        for decl in body.iter(_q(PRES, "footer-decl"), _q(PRES, "header-decl")):
            text = "".join(decl.itertext()).strip()
            if text:
                yield Block(text=text, location=Location(part="master"))

    # --- spreadsheets ----------------------------------------------------------------------------
    def sheet_rows(self, events: Iterator[tuple[str, etree._Element]]) -> Iterator[Block]:
        """Blocks of spreadsheet tables from ``(event, element)`` pairs (streamed or from a tree)."""
        sheet: _Sheet | None = None
        sheets = 0
        for event, el in events:
            tag = el.tag
            if tag == _q(OFFICE, "automatic-styles"):
                if event == "end":
                    self.styles(el.getparent() if el.getparent() is not None else el)
                continue
            if tag == TB_TABLE:
                if _ancestor_table(el) is not None:
                    continue  # a table inside a cell: read with its cell
                if event == "start":
                    sheets += 1
                    self.ctx.check_pages(sheets, "sheets")
                    name = el.get(_q(TABLE, "name")) or f"Sheet{sheets}"
                    sheet = _Sheet(name, el.get(_q(TABLE, "style-name")) in self.hidden_styles)
                else:
                    sheet = None
                    release(el)
                continue
            if sheet is None or event != "end" or _ancestor_table(el, 2) is not None:
                continue
            if tag == TB_COLUMN:
                repeat = _repeat(el, "number-columns-repeated")
                if el.get(_q(TABLE, "visibility"), "visible") != "visible":
                    sheet.hidden_cols.update(range(sheet.columns + 1, min(sheet.columns + repeat, 16384) + 1))
                sheet.columns += repeat
            elif tag == TB_ROW:
                yield from self.sheet_row(sheet, el)
                release(el)
            elif tag == TB_SHAPES:
                yield from self.content(el, sheet.location, sheet.flags)

    def sheet_row(self, sheet: _Sheet, row: etree._Element) -> Iterator[Block]:
        repeat = _repeat(row, "number-rows-repeated")
        hidden = sheet.hidden or row.get(_q(TABLE, "visibility"), "visible") != "visible"
        visible: list[tuple[int, str]] = []
        concealed: list[tuple[int, str]] = []
        extras: list[Block] = []
        col = 1
        for cell in row:
            if cell.tag not in (TB_CELL, TB_COVERED):
                continue
            span = _repeat(cell, "number-columns-repeated")
            text = _cell_text(cell)
            for annotation in cell.iter(O_ANNOTATION):
                for block in self.annotation(annotation, sheet.location):
                    extras.append(replace(block, location=replace(block.location, cell=a1(sheet.row + 1, col),
                                                                  row=sheet.row + 1, col=col)))
            if text:
                if span > _MAX_REPEAT:
                    self.ctx.warn(f"sheet {sheet.name}: a cell repeated {span} times was read {_MAX_REPEAT} times")
                for c in range(col, col + min(span, _MAX_REPEAT)):
                    (concealed if c in sheet.hidden_cols else visible).append((c, text))
            col += span
        if not visible and not concealed:
            sheet.row += repeat
            yield from extras
            return
        if repeat > _MAX_REPEAT:
            self.ctx.warn(f"sheet {sheet.name}: a row repeated {repeat} times was read {_MAX_REPEAT} times")
        for _ in range(min(repeat, _MAX_REPEAT)):
            sheet.row += 1
            shown = row_block(visible, row=sheet.row, location=sheet.location, header=sheet.header,
                              flags=("hidden",) if hidden else ())
            if shown is not None:
                sheet.header = sheet.header or shown.text
                yield shown
            extra = row_block(concealed, row=sheet.row, location=sheet.location, header=sheet.header, flags=("hidden",))
            if extra is not None:
                yield extra
        sheet.row += max(0, repeat - _MAX_REPEAT)
        yield from extras


@dataclass
class _Sheet:
    name: str
    hidden: bool
    row: int = 0
    columns: int = 0
    header: str | None = None
    hidden_cols: set[int] = field(default_factory=set)

    @property
    def location(self) -> Location:
        return Location(part=f"sheet:{self.name}", sheet=self.name)

    @property
    def flags(self) -> tuple[str, ...]:
        return ("hidden",) if self.hidden else ()


def _cell_text(cell: etree._Element) -> str:
    parts = []
    for child in cell:
        if child.tag in (T_P, T_H):
            para = _Para()
            _inline(child, para)
            parts.append(para.text)
    text = "\n".join(p for p in parts if p)
    if text:
        return text
    value_type = cell.get(_q(OFFICE, "value-type"))
    if value_type is None:
        return ""
    for attr in ("value", "date-value", "time-value", "boolean-value", "string-value"):
        value = cell.get(_q(OFFICE, attr))
        if value is not None:
            return value
    return ""


def _repeat(element: etree._Element, attr: str) -> int:
    value = element.get(_q(TABLE, attr), "1")
    return max(1, int(value)) if value.isdigit() else 1


def _ancestor_table(element: etree._Element, skip: int = 1) -> etree._Element | None:
    """The ``skip``-th enclosing table of ``element`` (1: the nearest), or ``None``."""
    parent = element.getparent()
    while parent is not None:
        if parent.tag == TB_TABLE:
            skip -= 1
            if skip == 0:
                return parent
        parent = parent.getparent()
    return None


# --- encryption ------------------------------------------------------------------------------------
def _manifest_entries(root: etree._Element) -> dict[str, etree._Element]:
    entries = {}
    for entry in root.iter(_q(MANIFEST, "file-entry")):
        data = entry.find(_q(MANIFEST, "encryption-data"))
        if data is not None:
            entries[entry.get(_q(MANIFEST, "full-path"), "")] = data
    return entries


def decrypt_member(data: bytes, info: etree._Element, password: str, what: str) -> bytes:
    """Decrypt and inflate one ODF 1.2 encrypted member (AES-256-CBC, PBKDF2-SHA1 key).

    Raises:
        EncryptedDocumentError: wrong password, or an algorithm Midian does not implement.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def attr(tag: str, name: str) -> str:
        el = info.find(_q(MANIFEST, tag))
        return el.get(_q(MANIFEST, name), "") if el is not None else ""

    algorithm = attr("algorithm", "algorithm-name")
    if not algorithm.endswith("aes256-cbc"):
        raise EncryptedDocumentError(f"{what} is encrypted with {algorithm or 'an unknown algorithm'}, which Midian "
                                     "cannot decrypt; save it again without a password")
    start = attr("start-key-generation", "start-key-generation-name")
    digest = hashlib.sha256 if start.endswith("sha256") else hashlib.sha1
    iterations = int(attr("key-derivation", "iteration-count") or "1024")
    salt = base64.b64decode(attr("key-derivation", "salt"))
    key = hashlib.pbkdf2_hmac("sha1", digest(password.encode("utf-8")).digest(), salt, iterations,
                              int(attr("key-derivation", "key-size") or "32"))
    iv = base64.b64decode(attr("algorithm", "initialisation-vector"))
    if len(data) % 16 or len(iv) != 16:
        raise CorruptDocumentError(f"{what}: encrypted data has a bad length; the file is damaged")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    checksum = info.get(_q(MANIFEST, "checksum"))
    if checksum:
        check = hashlib.sha256 if "sha256" in info.get(_q(MANIFEST, "checksum-type"), "") else hashlib.sha1
        if check(plain[:1024]).digest() != base64.b64decode(checksum):
            raise EncryptedDocumentError(f"{what}: the password does not open this document; check --password")
    pad = plain[-1] if plain else 0
    if 1 <= pad <= 16:
        plain = plain[:-pad]
    try:
        inflater = zlib.decompressobj(-15)
        return inflater.decompress(plain, 1 << 30) + inflater.flush()
    except zlib.error as exc:
        raise EncryptedDocumentError(f"{what}: the password does not open this document ({exc}); check --password") from exc


class _DecryptingPackage(Package):
    """A package whose encrypted members are decrypted with the password on reading."""

    def __init__(self, source: Source, ctx: Context, encrypted: dict[str, etree._Element]) -> None:
        super().__init__(source, ctx)
        self.encrypted = encrypted

    def read(self, name: str, limit: int | None = None) -> bytes:
        data = super().read(name, limit)
        found = self.find(name)
        if found in self.encrypted:
            assert self.ctx.password is not None
            data = decrypt_member(data, self.encrypted[found], self.ctx.password, self.what(found))
            limit = self.ctx.settings.max_xml_part_bytes if limit is None else limit
            self.ctx.charge(len(data), self.what(found))
            if len(data) > limit:
                raise CorruptDocumentError(f"{self.what(found)} decrypts to more than {limit} bytes")
        return data

    def iterparse(self, name, tags, events=("end",)):  # type: ignore[no-untyped-def,override]
        if self.find(name) not in self.encrypted:
            yield from super().iterparse(name, tags, events)
            return
        root = self.parse(name)
        wanted = set(tags)
        for event, el in etree.iterwalk(root, events=events):
            if el.tag in wanted:
                yield event, el


# --- the extractor -----------------------------------------------------------------------------------
_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "text",
    "application/vnd.oasis.opendocument.text-template": "text",
    "application/vnd.oasis.opendocument.text-master": "text",
    "application/vnd.oasis.opendocument.text-web": "text",
    "application/vnd.oasis.opendocument.spreadsheet": "spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template": "spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "presentation",
    "application/vnd.oasis.opendocument.presentation-template": "presentation",
    "application/vnd.oasis.opendocument.graphics": "drawing",
    "application/vnd.oasis.opendocument.graphics-template": "drawing",
    "application/vnd.sun.xml.writer": "text",
    "application/vnd.sun.xml.calc": "spreadsheet",
    "application/vnd.sun.xml.impress": "presentation",
}


def _body_kind(body: etree._Element) -> tuple[str, etree._Element] | None:
    for child in body:
        name = etree.QName(child).localname
        if name in ("text", "spreadsheet", "presentation", "drawing", "chart"):
            return name, child
    return None


@register
class OdfExtractor(Extractor):
    """ODT, ODS, ODP, ODG and their templates (ZIP packages), plus flat FODT/FODS/FODP."""

    name = "odf"
    extensions = (".odt", ".ods", ".odp", ".odg", ".ott", ".ots", ".otp", ".fodt", ".fods", ".fodp", ".sxw", ".sxc", ".sxi")
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        if source.is_zip:
            names = source.zip_names
            if "mimetype" in names and ("content.xml" in names or "META-INF/manifest.xml" in names):
                return True
            return source.data[30:38] == b"mimetype" and b"opendocument" in source.data[38:120]
        head = source.head[:4096]
        return b"<office:document" in head and b"urn:oasis:names:tc:opendocument:xmlns:office" in head

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        if not source.is_zip:
            root = parse_xml(source.data, f"{source.name}: flat OpenDocument")
            yield from self._document(_Reader(ctx), root, root, root, None)
            return
        with self._open(source, ctx) as pkg:
            reader = _Reader(ctx, pkg)
            styles = pkg.parse_optional("styles.xml")
            meta = pkg.parse_optional("meta.xml")
            if pkg.find("content.xml") is None:
                raise CorruptDocumentError(f"{source.name}: OpenDocument package without content.xml; the file is damaged")
            yield from self._document(reader, None, styles, meta, pkg)

    def _open(self, source: Source, ctx: Context) -> Package:
        pkg = Package(source, ctx)
        manifest = pkg.parse_optional("META-INF/manifest.xml")
        encrypted = _manifest_entries(manifest) if manifest is not None else {}
        if not encrypted:
            return pkg
        pkg.close()
        if not ctx.password:
            raise EncryptedDocumentError(f"{source.name}: the OpenDocument file is password protected; "
                                         "give the password with --password to scan it")
        return _DecryptingPackage(source, ctx, encrypted)

    def _document(self, reader: _Reader, content: etree._Element | None, styles: etree._Element | None,
                  meta: etree._Element | None, pkg: Package | None) -> Iterator[Block]:
        if styles is not None:
            reader.styles(styles)
        kind = None
        if content is None:
            assert pkg is not None
            # Spreadsheets can be huge: peek at the body kind from the mimetype, stream if it is one.
            mimetype = pkg.read("mimetype").decode("ascii", "replace").strip() if pkg.find("mimetype") else ""
            kind = _MIMETYPES.get(mimetype)
            if kind == "spreadsheet":
                events = pkg.iterparse("content.xml", [_q(OFFICE, "automatic-styles"), TB_TABLE, TB_ROW, TB_COLUMN,
                                                       TB_SHAPES], events=("start", "end"))
                yield from reader.sheet_rows((e, el) for e, el in events
                                             if e == "end" or el.tag == TB_TABLE)
                yield from self._rest(reader, styles, meta, slides=False)
                return
            content = pkg.parse("content.xml")
        reader.styles(content)
        body = content.find(_q(OFFICE, "body"))
        found = _body_kind(body) if body is not None else None
        if found is None:
            raise UnsupportedFormatError("OpenDocument without a text, spreadsheet or presentation body")
        kind, root = found
        if kind == "spreadsheet":
            yield from reader.sheet_rows((e, el) for e, el in etree.iterwalk(root, events=("start", "end"))
                                         if el.tag in (TB_TABLE, TB_ROW, TB_COLUMN, TB_SHAPES)
                                         and (e == "end" or el.tag == TB_TABLE))
        elif kind in ("presentation", "drawing"):
            yield from reader.presentation(root)
        else:
            yield from reader.content(root, Location(part="body"))
        yield from self._rest(reader, styles, meta, slides=kind in ("presentation", "drawing"))

    @staticmethod
    def _rest(reader: _Reader, styles: etree._Element | None, meta: etree._Element | None, slides: bool) -> Iterator[Block]:
        if styles is not None:
            yield from reader.masters(styles, slides)
        yield from reader.metadata(meta)
