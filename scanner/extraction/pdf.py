"""PDF: text through poppler's ``pdftotext`` or PDFium, ruled tables, metadata, attachments, OCR of scans.

The engines were chosen by measurement (``bench/extract.py``: a 200-page zh/en PDF in a non-embedded CID
font, 2 cores, every row measured in the same run). Raw text: ``pdftotext`` about 60-100x pdfplumber's
``extract_text()``, pypdfium2 about 40-50x, with the same Chinese text. As shipped, with paragraphs,
tables, metadata and scan detection, Midian runs at 16-28x pdfplumber across runs on a shared 2-core
machine (wall clock and CPU time). The design:

* PDFium (pypdfium2) opens every PDF: it decides encrypted / corrupt, counts pages, reads the document
  info, attachments and annotations, and surveys each page's objects for rulings and images (about
  0.35 ms a page, mostly PDFium parsing the page).
* The text comes from ``pdftotext -bbox-layout`` when it is on ``PATH`` and ``settings.pdftotext`` is on,
  fed on standard input. It runs in its own process and hands its pages over as they are parsed, so
  poppler reads ahead on the second core while this one surveys and builds paragraphs. Its reading
  order keeps columns apart (``-layout`` interleaves the lines of side-by-side columns: rejected) and
  its word boxes give the line geometry paragraphs are rebuilt from (:mod:`scanner.extraction.layout`);
  PDFium's own text is the fallback, with line boxes from its character boxes. It is also what a
  document needing a password gets (the password never goes on a command line). Other encrypted
  documents are read by both and each page keeps the fuller reading: poppler drops CID-font text
  whose encrypted font dictionary it cannot decode, PDFium returns nothing for some AES-256 files.
* Tables: pdfplumber's table finder (rulings -> crossings -> cells -> tables) runs on the rulings the
  survey found, and PDFium reads each cell's text. On the public fixture PDFs this finds the same
  tables as ``pdfplumber.Page.find_tables()`` on 62 of 65 pages that have one, for about 1.5 ms instead
  of 20-400 ms a page, and only pages whose rulings cross like a grid are looked at. Rows become
  ``table_row`` blocks through :func:`~scanner.extraction.tables.table_blocks`; lines inside a table are
  dropped from the paragraphs so nothing is read twice. Tables drawn without rulings stay text.
* A page whose Chinese characters are mostly rare ones was decoded through a broken ToUnicode map
  (poppler and PDFium share the problem); pdfplumber decodes such fonts from their CMap, so that page
  is read again with pdfplumber and the reading with more common characters wins.
* A page with no text but images, or very little text and a large image, is a scan: OCR when the
  ``ocr`` extra is installed and ``settings.ocr`` is on, up to ``settings.ocr_max_pages`` pages (3-7 s a
  page); otherwise one warning naming the pages and how to enable OCR.
* Document info and XMP metadata (every language of a title, every author) become ``metadata`` blocks.
* Annotations: comments become blocks flagged ``comment``, form field values plain blocks (both only
  when the page text does not already show them); files attached to annotations and embedded files go
  through :meth:`Context.extract_child`.

Spreading one document's pages over processes was measured and not adopted: two processes on
pre-split halves were no faster than one process (poppler already works beside it), and batch runs
keep every core busy with one file per worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import html
import io
import logging
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from ..data import Block, Location
from ..errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    ExtractionTimeout,
    LimitExceededError,
)
from . import ocr
from .base import Context, Extractor, Source, register
from .layout import Line, join_lines, paragraphs
from .tables import table_blocks
from .text import _common_cjk

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF"
# Other containers whose first kilobyte can hold a stored PDF member: never claim them as PDF.
_CONTAINER_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x1f\x8b")

METADATA_FIELDS = ("Title", "Subject", "Keywords", "Author")
_PLACEHOLDERS = frozenset({"untitled", "unspecified", "anonymous", "unknown"})  # what producers write for "empty"
_RULING_TOLERANCE = 3.0  # points by which rulings may miss each other and still cross (pdfplumber's default)
_MAX_RULINGS = 2000  # rulings each way kept per page for the grid test
SCAN_MAX_TEXT = 40  # a page with fewer text characters than this ...
SCAN_MIN_IMAGE_SHARE = 0.3  # ... and images covering this share of it is a scan,
SCAN_MIN_IMAGE_SHARE_BARE = 0.05  # and so is a page with no text at all and images covering this share
OCR_LONG_SIDE_PX = 2000  # pages are rendered for OCR with their long side this many pixels (RapidOCR's own cap)
MOJIBAKE_COMMON_SHARE = 0.5  # below this share of common Chinese characters a page is re-read
_MOJIBAKE_SAMPLE_LINES, _MOJIBAKE_SAMPLE_CHARS = 8, 600  # ... judged on a sample of each block
_SURVEY_MAX_OBJECTS = 20_000  # page objects looked at per page (vector-heavy pages stop early)
_Matrix = tuple[float, float, float, float, float, float]
_Box = tuple[float, float, float, float]

_PDFIUM_ERRORS = {4: "password", 5: "security"}  # FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY


@dataclass
class _Survey:
    """What one page holds besides its text: rulings, images, comments and form values."""

    device: _Matrix = (1.0, 0.0, 0.0, -1.0, 0.0, 0.0)  # PDF user space -> the page as shown (see _device_matrix)
    horizontal: list[tuple[float, float, float]] = field(default_factory=list)  # (y, x0, x1) as shown
    vertical: list[tuple[float, float, float]] = field(default_factory=list)  # (x, top, bottom) as shown
    image_share: float = 0.0
    comments: list[str] = field(default_factory=list)
    form_values: list[str] = field(default_factory=list)

    @property
    def may_have_table(self) -> bool:
        """True when rulings cross like a grid of at least two rows, one of them with two cells.

        That takes two horizontal rulings crossing three vertical ones (two cells side by side) and a
        third horizontal ruling crossing two (another row). pdfplumber's table finder builds cells from
        such crossings, so a page failing this test holds no table it would keep either.
        """
        if len(self.horizontal) < 3 or len(self.vertical) < 3:
            return False
        import numpy as np

        h = np.asarray(self.horizontal[:_MAX_RULINGS])
        v = np.asarray(self.vertical[:_MAX_RULINGS])
        tol = _RULING_TOLERANCE
        crosses = ((v[None, :, 0] >= h[:, None, 1] - tol) & (v[None, :, 0] <= h[:, None, 2] + tol)
                   & (h[:, None, 0] >= v[None, :, 1] - tol) & (h[:, None, 0] <= v[None, :, 2] + tol))
        per_ruling = crosses.sum(axis=1)
        return int((per_ruling >= 3).sum()) >= 2 and int((per_ruling >= 2).sum()) >= 3


@register
class PdfExtractor(Extractor):
    """PDF documents: paragraphs per page, ruled tables as rows, metadata, comments, attachments, OCR of scans."""

    name = "pdf"
    extensions = (".pdf",)
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        head = source.data[:1024]
        if head.startswith(_CONTAINER_MAGICS) or head[257:262] == b"ustar":
            return False
        return PDF_MAGIC in head or (source.suffix == ".pdf" and not source.data)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        doc, opened_with_password = _open(source, ctx)
        reader = _PdfReader(source, ctx, doc, opened_with_password)
        try:
            yield from reader.blocks()
        finally:
            reader.close()


def _open(source: Source, ctx: Context) -> tuple[Any, bool]:
    """The PDFium document, opened with the password only if it needs one, and whether it did."""
    if not source.data:
        raise CorruptDocumentError(f"{source.name}: empty file (0 bytes) where a PDF was expected")
    attempts: list[str | None] = [None] + ([ctx.password] if ctx.password else [])
    for password in attempts:
        try:
            return pdfium.PdfDocument(source.data, password=password), password is not None
        except pdfium.PdfiumError as exc:
            kind = _PDFIUM_ERRORS.get(getattr(exc, "err_code", None) or -1)
            if kind == "password":
                continue
            if kind == "security":
                raise EncryptedDocumentError(
                    f"{source.name}: encrypted with a security handler Midian cannot open (certificate or custom "
                    "encryption); decrypt it with its owner's tools and scan it again") from exc
            raise CorruptDocumentError(f"{source.name}: not a readable PDF ({exc}); the file is damaged or truncated") from exc
    if ctx.password:
        raise EncryptedDocumentError(f"{source.name}: the PDF is encrypted and the password given does not open it; "
                                     "check the password (--password)")
    raise EncryptedDocumentError(f"{source.name}: the PDF is encrypted with a user password; pass it with --password to scan it")


class _PdfReader:
    """Reads one opened PDF; holds what its pages share (engines, budgets, notes)."""

    def __init__(self, source: Source, ctx: Context, doc: Any, opened_with_password: bool) -> None:
        self.source = source
        self.ctx = ctx
        self.doc = doc
        self.opened_with_password = opened_with_password
        self.encrypted = raw.FPDF_GetSecurityHandlerRevision(doc.raw) != -1
        self.page_count = len(doc)
        self._plumber: Any = None
        self._plumber_failed = False
        self._poppler: _Poppler | None = None
        self.ocr_pages = 0
        self.annotation_files: list[tuple[str, bytes]] = []  # files attached to pages through annotations
        self.scans_not_read: list[int] = []
        self.scans_over_limit: list[int] = []

    def close(self) -> None:
        if self._poppler is not None:
            self._poppler.close()
        if self._plumber is not None:
            with contextlib.suppress(Exception):
                self._plumber.close()
        self.doc.close()

    # --- the flow ---------------------------------------------------------------------------
    def blocks(self) -> Iterator[Block]:
        ctx = self.ctx
        ctx.check_pages(self.page_count)
        yield from self._metadata()
        exe = shutil.which("pdftotext") if ctx.settings.pdftotext and not self.opened_with_password else None
        if exe and self.page_count:
            self._poppler = _Poppler(exe, self.source.data, ctx)
        # Encrypted files are read by both engines: each fails to decode some that the other reads.
        pdfium_text = self._poppler is None or self.encrypted
        for index in range(self.page_count):
            ctx.check_time()
            survey, lines = self._survey(index, with_text=pdfium_text)
            blocks = [lines] if lines else []
            poppler = self._poppler.page(index) if self._poppler is not None else None
            if poppler is not None:
                ctx.charge(_char_count(poppler) * 3, "text of the PDF")
                if not pdfium_text or _char_count(poppler) > _char_count(blocks):
                    blocks = poppler
            elif not pdfium_text:  # pdftotext failed on this file: PDFium reads the page
                blocks = [lines] if (lines := self._survey(index, with_text=True)[1]) else []
            yield from self._page(index, blocks, survey)
        self._report_scans()
        for name, data in self.annotation_files:
            yield from self._child(name, data, "file attachment annotation")
        yield from self._attachments()

    def _page(self, index: int, blocks: list[list[Line]], survey: _Survey) -> Iterator[Block]:
        number = index + 1
        location = Location(part=f"page:{number}", page=number)
        blocks = self._fix_mojibake(index, blocks)
        tables = self._tables(index, survey) if survey.may_have_table else []
        paras: list[tuple[float, str]] = []
        for lines in blocks:
            if tables:
                lines = [ln for ln in lines if not any(_inside(ln, bbox) for bbox, _ in tables)]
            for para in paragraphs(lines):
                text = join_lines(ln.text for ln in para)
                if text:
                    paras.append((para[0].top, text))
        pending = sorted(tables, key=lambda t: t[0][1])
        table_no = 0
        for top, text in paras:
            while pending and pending[0][0][1] <= top:
                table_no += 1
                yield from table_blocks(pending.pop(0)[1], location=location, table=table_no)
            yield Block(text=text, location=location)
        for _, rows in pending:
            table_no += 1
            yield from table_blocks(rows, location=location, table=table_no)
        # pdftotext draws annotation appearances into the page text: keep only what is not there already
        seen = _squeeze("".join(text for _, text in paras)) if survey.comments or survey.form_values else ""
        for texts, flags in ((survey.comments, ("comment",)), (survey.form_values, ())):
            for text in dict.fromkeys(texts):
                if _squeeze(text) not in seen:
                    yield Block(text=text, location=location, flags=flags)
        chars = sum(len(text) for _, text in paras)
        if (chars == 0 and survey.image_share >= SCAN_MIN_IMAGE_SHARE_BARE) or (
                chars < SCAN_MAX_TEXT and survey.image_share >= SCAN_MIN_IMAGE_SHARE):
            yield from self._ocr(index, location)

    # --- document-level parts ------------------------------------------------------------------
    def _metadata(self) -> Iterator[Block]:
        """Title, subject, keywords and authors from the Info dictionary and from XMP packets."""
        try:
            info = self.doc.get_metadata_dict(skip_empty=True)
        except Exception:  # a damaged Info dictionary only loses the metadata
            log.debug("unreadable PDF document info in %s", self.source.name, exc_info=True)
            info = {}
        values = [_clean(str(info.get(key, ""))) for key in METADATA_FIELDS] + _xmp_values(self.source.data)
        location = Location(part="metadata")
        for value in dict.fromkeys(values):
            if value and value.strip("()").lower() not in _PLACEHOLDERS:
                yield Block(text=value, location=location, kind="metadata")

    def _attachments(self) -> Iterator[Block]:
        try:
            count = self.doc.count_attachments()
        except Exception:
            return
        if count and (self.encrypted or b"/Encrypt" in self.source.data):
            # PDFium hands encrypted embedded files over still encrypted (also when only the files are,
            # through an /EFF crypt filter): pdfminer decrypts them, or says that a password is needed.
            try:
                decrypted = _decrypted_embedded_files(self.source.data, self.ctx.password or "")
            except EncryptedDocumentError as exc:
                for index in range(count):
                    self._member_failed(self._attachment_name(index), exc)
                return
            if decrypted is not None:
                for name, data in decrypted:
                    yield from self._child(name, data, "embedded file")
                return
        for index in range(count):
            try:
                data = self.doc.get_attachment(index).get_data()
            except Exception as exc:  # pypdfium2 raises on unreadable embedded streams
                self.ctx.warn(f"embedded file {index + 1} could not be read ({exc})")
                continue
            yield from self._child(self._attachment_name(index), bytes(data), "embedded file")

    def _attachment_name(self, index: int) -> str:
        try:
            return _clean(self.doc.get_attachment(index).get_name()) or f"attachment-{index + 1}"
        except Exception:
            return f"attachment-{index + 1}"

    def _member_failed(self, name: str, exc: EncryptedDocumentError) -> None:
        """Record an embedded file that cannot be opened, as extract_child records a failed member."""
        path = f"{self.ctx.attachment}/{name}" if self.ctx.attachment else name
        self.ctx._member_failed(path, exc)  # the Context keeps one list of failed members per input

    def _child(self, name: str, data: bytes, what: str) -> Iterator[Block]:
        self.ctx.charge(len(data), f"{what} {name}")
        yield from self.ctx.extract_child(name, data)

    # --- page survey --------------------------------------------------------------------------
    def _survey(self, index: int, with_text: bool = False) -> tuple[_Survey, list[Line]]:
        """Rulings, images and annotations of one page from PDFium's page objects, and its text lines if asked."""
        survey = _Survey()
        lines: list[Line] = []
        with _raw_page(self.doc, index) as page:
            if page is None:  # a page PDFium cannot load may still get its text from pdftotext
                if with_text:
                    self.ctx.warn(f"page {index + 1} could not be read by PDFium")
                return survey, lines
            width, height = raw.FPDF_GetPageWidthF(page), raw.FPDF_GetPageHeightF(page)
            survey.device = _device_matrix(page, width, height)
            _PageObjects(survey, max(width * height, 1.0)).visit_page(page)
            self._annotations(page, survey)
            if with_text:
                with _raw_textpage(page) as textpage:
                    lines = _textpage_lines(textpage, survey.device) if textpage is not None else []
        return survey, lines

    def _annotations(self, page: Any, survey: _Survey) -> None:
        for k in range(raw.FPDFPage_GetAnnotCount(page)):
            annot = raw.FPDFPage_GetAnnot(page, k)
            if not annot:
                continue
            try:
                subtype = raw.FPDFAnnot_GetSubtype(annot)
                if subtype == raw.FPDF_ANNOT_FILEATTACHMENT:
                    handle = raw.FPDFAnnot_GetFileAttachment(annot)
                    if handle:
                        attachment = pdfium.PdfAttachment(handle, self.doc)
                        name = _clean(attachment.get_name()) or f"annotation-{k + 1}"
                        self.annotation_files.append((name, bytes(attachment.get_data())))
                elif subtype == raw.FPDF_ANNOT_WIDGET:
                    value = _clean(_annot_string(annot, "V"))
                    if value and value not in ("Off", "Yes"):  # check boxes say only on or off
                        survey.form_values.append(value)
                elif subtype not in (raw.FPDF_ANNOT_LINK, raw.FPDF_ANNOT_POPUP):  # popups repeat their parent's note
                    text = _clean(_annot_string(annot, "Contents"))
                    if text:
                        survey.comments.append(text)
            except Exception as exc:  # one broken annotation must not lose the page
                log.debug("annotation %d unreadable: %s", k, exc)
            finally:
                raw.FPDFPage_CloseAnnot(annot)

    # --- text by PDFium -------------------------------------------------------------------
    # --- pdfplumber, where structure matters ------------------------------------------------
    def _plumber_page(self, index: int) -> Any:
        """Page ``index`` opened by pdfplumber (pdfminer), or ``None`` when pdfminer cannot read the file."""
        if self._plumber is None and not self._plumber_failed:
            try:
                import pdfplumber

                self._plumber = pdfplumber.open(io.BytesIO(self.source.data), password=self.ctx.password or "")
            except Exception as exc:  # pdfminer cannot parse what PDFium could: keep the first reading
                self._plumber_failed = True
                self.ctx.warn(f"page {index + 1} looks garbled (a font without a usable Unicode map) and could not be "
                              f"read again with pdfminer ({type(exc).__name__})")
                return None
        if self._plumber is None:
            return None
        try:
            return self._plumber.pages[index]
        except Exception:
            return None

    def _tables(self, index: int, survey: _Survey) -> list[tuple[_Box, list[list[str]]]]:
        """Ruled tables of a page as (box as shown, rows of cell texts).

        pdfplumber's table finder (edges -> crossings -> cells -> tables) runs on the rulings PDFium found,
        and PDFium reads each cell's text: the same tables as ``pdfplumber.Page.find_tables()`` without
        pdfminer parsing the page again (which costs 20-400 ms a page).
        """
        try:
            grids = _grid_tables(survey)
        except Exception as exc:  # pdfplumber's geometry on hostile rulings: keep the plain text
            log.debug("table finding failed on page %d: %s", index + 1, exc)
            return []
        if not grids:
            return []
        to_user = _invert(survey.device)
        found: list[tuple[_Box, list[list[str]]]] = []
        with _raw_page(self.doc, index) as page, _raw_textpage(page) as textpage:
            if textpage is None:
                return []
            for cells in grids:
                xs = sorted({cell[0] for cell in cells})
                tops = sorted({cell[1] for cell in cells})
                rows = [[""] * len(xs) for _ in tops]
                for cell in cells:
                    text = _bounded_text(textpage, _map_box(to_user, cell))
                    rows[tops.index(cell[1])][xs.index(cell[0])] = _clean(join_lines(text.splitlines()))
                rows = [row for row in rows if any(row)]
                if len(rows) >= 2 and max(sum(1 for c in row if c) for row in rows) >= 2:
                    box = (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))
                    found.append((box, rows))
        return found

    def _fix_mojibake(self, index: int, blocks: list[list[Line]]) -> list[list[Line]]:
        # A broken map garbles a whole font, so the first lines of the page tell.
        text = "".join(ln.text for lines in blocks for ln in lines[:_MOJIBAKE_SAMPLE_LINES])[:_MOJIBAKE_SAMPLE_CHARS]
        if not _rare_han().search(text):  # the usual case, decided in one scan
            return blocks
        share, count = _common_share(text)
        if count < 2 or share >= MOJIBAKE_COMMON_SHARE:
            return blocks
        page = self._plumber_page(index)
        if page is None:
            return blocks
        try:
            rows = page.extract_text_lines(return_chars=False)
        except Exception:
            return blocks
        lines = [Line(_clean(r["text"]), r["x0"], r["top"], r["x1"], r["bottom"]) for r in rows if _clean(r["text"])]
        alt_share, alt_count = _common_share("".join(ln.text for ln in lines))
        if alt_count and alt_share > share:
            log.debug("page %d of %s re-read by pdfplumber (common CJK %.2f -> %.2f)", index + 1, self.source.name, share, alt_share)
            return [lines]
        return blocks

    # --- scans ----------------------------------------------------------------------------
    def _ocr(self, index: int, location: Location) -> Iterator[Block]:
        settings = self.ctx.settings
        if not ocr.enabled(settings):
            self.scans_not_read.append(index + 1)
            return
        if self.ocr_pages >= settings.ocr_max_pages:
            self.scans_over_limit.append(index + 1)
            return
        self.ocr_pages += 1
        page = self.doc[index]
        try:
            width, height = page.get_size()
            scale = min(max(OCR_LONG_SIDE_PX / max(width, height, 1.0), 1.0), 4.0)
            scale = min(scale, (settings.max_image_pixels / max(width * height, 1.0)) ** 0.5)
            bitmap = page.render(scale=scale, may_draw_forms=False)
            started = time.monotonic()
            blocks = list(ocr.ocr_blocks(bitmap.to_numpy(), location))
            log.debug("OCR of page %d: %.1f s, %d blocks", index + 1, time.monotonic() - started, len(blocks))
        finally:
            page.close()
        yield from blocks

    def _report_scans(self) -> None:
        if self.scans_not_read:
            self.ctx.warn(f"{_pages(self.scans_not_read)} no text layer (scanned image) and {'was' if len(self.scans_not_read) == 1 else 'were'} "
                          f"not read: {ocr.unavailable_reason(self.ctx.settings)}")
        if self.scans_over_limit:
            self.ctx.warn(f"{_pages(self.scans_over_limit)} no text layer and {'was' if len(self.scans_over_limit) == 1 else 'were'} "
                          f"not OCR'd: the limit of {self.ctx.settings.ocr_max_pages} OCR pages was reached; "
                          "raise MIDIAN_OCR_MAX_PAGES to read them")


_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _device_matrix(page: Any, width: float, height: float) -> _Matrix:
    """The map from PDF user space onto the page as shown: points, origin top left, y down, rotation applied.

    These are the coordinates of ``pdftotext -bbox-layout`` and of pdfplumber, so rulings, PDFium
    characters and poppler words can be compared. PDFium's mapping is affine: three points give it.
    ``width`` and ``height`` are the page's size as shown (PDFium's, rotation included).
    """
    scale = 64  # PDFium returns whole device pixels: map onto a finer grid
    x, y = ctypes.c_int(), ctypes.c_int()

    def to_device(px: float, py: float) -> tuple[float, float]:
        raw.FPDF_PageToDevice(page, 0, 0, round(width * scale), round(height * scale), 0, px, py, x, y)
        return x.value / scale, y.value / scale

    (ox, oy), (ax, ay), (bx, by) = to_device(0.0, 0.0), to_device(1000.0, 0.0), to_device(0.0, 1000.0)
    return ((ax - ox) / 1000, (ay - oy) / 1000, (bx - ox) / 1000, (by - oy) / 1000, ox, oy)


@contextlib.contextmanager
def _raw_page(doc: Any, index: int) -> Iterator[Any]:
    """A PDFium page handle (``None`` if the page does not load), closed on exit.

    Plain handles rather than pypdfium2's page objects: those register a finalizer each, a cost that
    shows on the per-page survey of long documents.
    """
    page = raw.FPDF_LoadPage(doc.raw, index)
    try:
        yield page or None
    finally:
        if page:
            raw.FPDF_ClosePage(page)


@contextlib.contextmanager
def _raw_textpage(page: Any) -> Iterator[Any]:
    """PDFium's text page of a page handle (``None`` if there is none), closed on exit."""
    textpage = raw.FPDFText_LoadPage(page) if page else None
    try:
        yield textpage or None
    finally:
        if textpage:
            raw.FPDFText_ClosePage(textpage)


def _utf16(buffer: Any, units: int) -> str:
    return bytes(buffer)[: units * 2].decode("utf-16-le", errors="replace").rstrip("\x00")


def _text_range(textpage: Any, count: int) -> str:
    buffer = (ctypes.c_ushort * (count + 1))()
    written = raw.FPDFText_GetText(textpage, 0, count, buffer)
    return _utf16(buffer, max(written - 1, 0))


def _bounded_text(textpage: Any, box: _Box) -> str:
    """Text of the characters inside ``box`` (PDF user space: x0, y0, x1, y1)."""
    left, bottom, right, top = box
    units = raw.FPDFText_GetBoundedText(textpage, left, top, right, bottom, None, 0)
    if units <= 0:
        return ""
    buffer = (ctypes.c_ushort * (units + 1))()
    written = raw.FPDFText_GetBoundedText(textpage, left, top, right, bottom, buffer, units + 1)
    return _utf16(buffer, written)


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@functools.cache
def _common_han() -> re.Pattern[str]:
    """A character class of the common Chinese characters (GB2312 level 1, Big5 frequent ones)."""
    return re.compile("[" + "".join(sorted(_common_cjk())) + "]")


@functools.cache
def _rare_han() -> re.Pattern[str]:
    """A character class of the Chinese characters that are not common ones, as ranges."""
    common = _common_cjk()
    ranges: list[str] = []
    for first, last in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF)):
        start = None
        for code in range(first, last + 2):
            rare = code <= last and chr(code) not in common
            if rare and start is None:
                start = code
            elif not rare and start is not None:
                ranges.append(f"{chr(start)}-{chr(code - 1)}")
                start = None
    return re.compile("[" + "".join(ranges) + "]")


def _common_share(text: str) -> tuple[float, int]:
    """(share of Chinese characters that are common ones, number of Chinese characters); regexes keep it in C."""
    count = _HAN.subn("", text)[1]
    if not count:
        return 0.0, 0
    return _common_han().subn("", text)[1] / count, count


_XMP_PACKET = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta>", re.DOTALL)
_XMP_FIELDS = ("title", "creator", "subject", "description")  # Dublin Core, as XMP writes the document info
_DC = "{http://purl.org/dc/elements/1.1/}"
_PDF_NS = "{http://ns.adobe.com/pdf/1.3/}"
_RDF_LI = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li"


def _xmp_values(data: bytes) -> list[str]:
    """Titles (every language), authors, subjects, descriptions and keywords of the XMP metadata.

    XMP packets are written uncompressed so that tools can find them in the bytes; incremental updates
    leave older packets behind, and those are read too (an earlier title can matter).
    """
    if b"<x:xmpmeta" not in data:
        return []
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    values: list[str] = []
    for match in list(_XMP_PACKET.finditer(data))[:16]:
        try:
            root = etree.fromstring(match.group(0)[:1 << 20], parser)
        except etree.XMLSyntaxError:
            continue
        if root is None:
            continue
        for name in _XMP_FIELDS:
            for element in root.iter(_DC + name):
                values += [li.text for li in element.iter(_RDF_LI) if li.text] or ([element.text] if element.text else [])
        values += [element.text for element in root.iter(_PDF_NS + "Keywords") if element.text]
        values += [element.get(_PDF_NS + "Keywords", "") for element in root.iter() if element.get(_PDF_NS + "Keywords")]
    return [_clean(value) for value in values]


def _decrypted_embedded_files(data: bytes, password: str) -> list[tuple[str, bytes]] | None:
    """(name, bytes) of each file in the EmbeddedFiles name tree, through pdfminer; ``None`` if it cannot tell.

    Raises:
        EncryptedDocumentError: the files need a password that was not given (or does not open them).
    """
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    files: list[tuple[str, bytes]] = []

    def walk(node: Any, depth: int) -> None:
        node = resolve1(node)
        if not isinstance(node, dict) or depth > 32:
            return
        pairs = resolve1(node.get("Names")) or []
        for key, spec in zip(pairs[::2], pairs[1::2], strict=False):
            spec = resolve1(spec)
            streams = resolve1(spec.get("EF")) if isinstance(spec, dict) else None
            stream = resolve1(streams.get("UF") or streams.get("F")) if isinstance(streams, dict) else None
            if stream is None:
                continue
            label = resolve1(spec.get("UF") or spec.get("F") or key)
            name = decode_text(label) if isinstance(label, bytes) else str(label)
            files.append((_clean(name) or f"attachment-{len(files) + 1}", stream.get_data()))
        for kid in resolve1(node.get("Kids")) or []:
            walk(kid, depth + 1)

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)), password=password)
        walk(resolve1(resolve1(document.catalog.get("Names")) or {}).get("EmbeddedFiles"), 0)
    except PDFPasswordIncorrect as exc:
        raise EncryptedDocumentError(
            "the embedded file is encrypted " + ("and the password given does not open it" if password else
                                                 "with a password; pass it with --password to scan it")) from exc
    except Exception:  # pdfminer cannot parse or decrypt this file: PDFium's bytes are all there is
        log.debug("pdfminer could not read the embedded files", exc_info=True)
        return None
    return files


def _grid_tables(survey: _Survey) -> list[list[_Box]]:
    """Cells (x0, top, x1, bottom) of each table the page's rulings draw, by pdfplumber's own steps."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges
    from pdfplumber.utils import filter_edges

    tol = _RULING_TOLERANCE
    edges = [{"x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "height": 0.0,
              "orientation": "h", "object_type": "line"} for y, x0, x1 in survey.horizontal[:_MAX_RULINGS]]
    edges += [{"x0": x, "x1": x, "top": top, "bottom": bottom, "width": 0.0, "height": bottom - top,
               "orientation": "v", "object_type": "line"} for x, top, bottom in survey.vertical[:_MAX_RULINGS]]
    edges = filter_edges(merge_edges(edges, tol, tol, tol, tol), min_length=tol)
    cells = intersections_to_cells(edges_to_intersections(edges, tol, tol))
    return [list(table) for table in cells_to_tables(cells)]


def _invert(m: _Matrix) -> _Matrix:
    a, b, c, d, e, f = m
    det = a * d - b * c
    if abs(det) < 1e-12:
        return _IDENTITY
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    return (ia, ib, ic, id_, -(ia * e + ic * f), -(ib * e + id_ * f))


def _map_box(m: _Matrix, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The bounding box, under ``m``, of the box ``(x0, y0, x1, y1)``."""
    x0, y0, x1, y1 = box
    corners = [_apply(m, x, y) for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1))]
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _apply(m: _Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _compose(outer: _Matrix, inner: _Matrix) -> _Matrix:
    """The matrix of ``outer(inner(p))``."""
    a, b, c, d, e, f = inner
    x0, y0 = _apply(outer, e, f)
    ax, ay = outer[0] * a + outer[2] * b, outer[1] * a + outer[3] * b
    cx, cy = outer[0] * c + outer[2] * d, outer[1] * c + outer[3] * d
    return (ax, ay, cx, cy, x0, y0)


class _PageObjects:
    """Collects rulings and image coverage over a page's objects, form XObjects included."""

    def __init__(self, survey: _Survey, page_area: float) -> None:
        self.survey = survey
        self.page_area = page_area
        self.budget = _SURVEY_MAX_OBJECTS
        self._box = [ctypes.c_float() for _ in range(4)]
        self._point = (ctypes.c_float(), ctypes.c_float())
        self._matrix = raw.FS_MATRIX()

    def visit_page(self, page: Any) -> None:
        for i in range(raw.FPDFPage_CountObjects(page)):
            self.visit(raw.FPDFPage_GetObject(page, i), 0, self.survey.device)

    def _object_matrix(self, obj: Any) -> _Matrix:
        m = self._matrix
        if not raw.FPDFPageObj_GetMatrix(obj, m):
            return _IDENTITY
        return (m.a, m.b, m.c, m.d, m.e, m.f)

    def visit(self, obj: Any, depth: int, ctm: _Matrix) -> None:
        """Look at one object; ``ctm`` maps the space it lives in (the page's or a form's) onto the page as shown."""
        self.budget -= 1
        if self.budget < 0 or not obj:
            return
        kind = raw.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_FORM:
            if depth < 4:
                inner = _compose(ctm, self._object_matrix(obj))
                for i in range(raw.FPDFFormObj_CountObjects(obj)):
                    self.visit(raw.FPDFFormObj_GetObject(obj, i), depth + 1, inner)
            return
        if kind not in (raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_IMAGE):
            return
        left, bottom, right, top = self._box
        if not raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            return
        x0, y0, x1, y1 = left.value, bottom.value, right.value, top.value
        x0, y0, x1, y1 = _map_box(ctm, (x0, y0, x1, y1))
        width, height = x1 - x0, y1 - y0
        survey = self.survey
        if kind == raw.FPDF_PAGEOBJ_IMAGE:
            # scans often come as strips or tiles: add up their areas
            survey.image_share = min(survey.image_share + width * height / self.page_area, 1.0)
        elif height <= 3 and width > height:  # a line, or a filled bar thin enough to be a ruling
            survey.horizontal.append(((y0 + y1) / 2, x0, x1))
        elif width <= 3 and height > width:
            survey.vertical.append(((x0 + x1) / 2, y0, y1))
        elif width > 3 and height > 3:
            self._segments(obj, (x0, y0, x1, y1), ctm)

    def _segments(self, obj: Any, bounds: tuple[float, float, float, float], ctm: _Matrix) -> None:
        """A rectangle gives its four edges; a larger path its axis-parallel straight segments."""
        survey = self.survey
        segments = raw.FPDFPath_CountSegments(obj)
        if segments <= 5:
            x0, y0, x1, y1 = bounds
            survey.horizontal += [(y0, x0, x1), (y1, x0, x1)]
            survey.vertical += [(x0, y0, y1), (x1, y0, y1)]
            return
        # Segment points are in the path's own space: its matrix, then the forms' map them onto the page.
        matrix = _compose(ctm, self._object_matrix(obj))
        x, y = self._point
        previous: tuple[float, float] | None = None
        for s in range(min(segments, 512)):
            segment = raw.FPDFPath_GetPathSegment(obj, s)
            raw.FPDFPathSegment_GetPoint(segment, x, y)
            point = _apply(matrix, x.value, y.value)
            if previous is not None and raw.FPDFPathSegment_GetType(segment) == raw.FPDF_SEGMENT_LINETO:
                dx, dy = point[0] - previous[0], point[1] - previous[1]
                if abs(dy) < 1 <= abs(dx):
                    survey.horizontal.append((point[1], min(point[0], previous[0]), max(point[0], previous[0])))
                elif abs(dx) < 1 <= abs(dy):
                    survey.vertical.append((point[0], min(point[1], previous[1]), max(point[1], previous[1])))
            previous = point


class _Poppler:
    """``pdftotext -bbox-layout`` on the document's bytes, in a subprocess, handed out page by page.

    The bytes go in on standard input (no file name, no password on the command line). A reader thread
    parses each page as soon as its closing tag arrives, so the caller can work on page 1 while poppler
    reads page 50, and memory holds lines, not the XML.
    """

    def __init__(self, exe: str, data: bytes, ctx: Context) -> None:
        self.ctx = ctx
        self.pages_read: list[list[list[Line]]] = []
        self.chars = 0
        self.error: BaseException | None = None
        self.finished = False
        self._ready = threading.Condition()
        self.proc = subprocess.Popen(
            [exe, "-q", "-bbox-layout", "-enc", "UTF-8", "-", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._writer = threading.Thread(target=self._write, args=(data,), daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._writer.start()
        self._reader.start()

    def _write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
        except OSError:  # pdftotext stopped reading (bad file, or killed)
            pass
        finally:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        buffer = bytearray()
        limit = self.ctx.settings.max_text_chars
        try:
            while chunk := self.proc.stdout.read(1 << 16):
                searched = max(len(buffer) - 8, 0)
                buffer += chunk
                end = buffer.rfind(b"</page>", searched)
                if end < 0:
                    continue
                end += len(b"</page>")
                pages = list(_parse_bbox(buffer[:end].decode("utf-8", "replace")))
                del buffer[:end]
                with self._ready:
                    self.pages_read += pages
                    self.chars += sum(_char_count(page) for page in pages)
                    self._ready.notify_all()
                if self.chars > limit:
                    raise LimitExceededError(f"the PDF's text is longer than {limit} characters; "
                                             "raise MIDIAN_MAX_TEXT_CHARS to read it whole")
            if self.proc.wait() != 0:
                log.debug("pdftotext exited with %d after %d pages", self.proc.returncode, len(self.pages_read))
        except BaseException as exc:  # handed to the caller's thread by page()
            self.error = exc
            self.proc.kill()
        finally:
            with self._ready:
                self.finished = True
                self._ready.notify_all()

    def page(self, index: int) -> list[list[Line]] | None:
        """Lines of page ``index`` in blocks, waiting for poppler; ``None`` when it could not read that far."""
        assert self.ctx.budget is not None
        with self._ready:
            while len(self.pages_read) <= index and not self.finished:
                remaining = self.ctx.budget.deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise ExtractionTimeout(f"pdftotext took longer than {self.ctx.settings.file_timeout_s:g} s; "
                                            "raise MIDIAN_FILE_TIMEOUT_S to allow more time")
                self._ready.wait(min(remaining, 1.0))
            if self.error is not None:
                raise self.error
            return self.pages_read[index] if index < len(self.pages_read) else None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stdin):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


# Words first (the most frequent tag); their y coordinates are never needed.
_BBOX_TAG = re.compile(
    r'<(?:word xMin="([^"]*)" yMin="[^"]*" xMax="([^"]*)" yMax="[^"]*">([^<]*)'
    r'|(line|block) xMin="([^"]*)" yMin="([^"]*)" xMax="([^"]*)" yMax="([^"]*)">|(page) )'
)


def _parse_bbox(xml: str) -> Iterator[list[list[Line]]]:
    """Pages of ``pdftotext -bbox-layout`` output: blocks of positioned lines, words joined by their gaps."""
    page: list[list[Line]] | None = None
    block: list[Line] = []
    line_box: tuple[str, str, str, str] | None = None
    words: list[tuple[str, str, str]] = []

    def finish_line() -> None:
        if line_box is not None and words:
            x0, top, x1, bottom = (float(v) for v in line_box)
            text = _join_words(words, min(bottom - top, x1 - x0)) if len(words) > 1 else _clean(words[0][2])
            if text:
                block.append(Line(text, x0, top, x1, bottom))
        words.clear()

    for word_x0, word_x1, text, tag, x_min, y_min, x_max, y_max, page_tag in _BBOX_TAG.findall(xml):
        if word_x0:
            words.append((word_x0, word_x1, html.unescape(text) if "&" in text else text))
            continue
        finish_line()
        if tag == "line":
            line_box = (x_min, y_min, x_max, y_max)
        elif tag == "block":
            line_box = None
            block = []
            if page is not None:
                page.append(block)
        elif page_tag:
            line_box = None
            if page is not None:
                yield page
            page = []
            block = []
    finish_line()
    if page is not None:
        yield page


def _join_words(words: list[tuple[str, str, str]], em: float) -> str:
    """Words of a line: a space where poppler saw one, none where it split a word at a font change.

    ``em`` is the line's size across its direction; words of vertical lines overlap in x and keep spaces.
    Letter-spaced text ("H e r e  i s") comes as one-letter words: there only the wider gaps are spaces.
    """
    gaps = [float(start) - float(prev_end) for (_, prev_end, _), (start, _, _) in zip(words, words[1:], strict=False)]
    space = 0.1 * em
    if len(words) >= 6 and sum(len(text) == 1 and text.isalpha() for _, _, text in words) >= 0.7 * len(words):
        median = sorted(gaps)[len(gaps) // 2]
        if 0.05 * em <= median < 0.2 * em and max(gaps) > 2.5 * median:  # letter gaps, and wider word gaps
            space = max(space, 1.8 * median)
    parts = [words[0][2]]
    for gap, (_, _, text) in zip(gaps, words[1:], strict=False):
        if not -0.5 * em < gap < space:
            parts.append(" ")
        parts.append(text)
    return _clean("".join(parts))


def _textpage_lines(textpage: Any, device: _Matrix) -> list[Line]:
    """Lines of a PDFium text page with boxes, from the boxes of each line's first and last characters."""
    count = raw.FPDFText_CountChars(textpage)
    if count <= 0:
        return []
    text = _text_range(textpage, count)
    lines: list[Line] = []
    drift = 0  # PDFium's text can differ from its character list by a few generated characters

    def locate(offset: int, char: str) -> int | None:
        nonlocal drift
        guess = offset + drift
        for delta in (0, -1, 1, -2, 2, -3, 3, -4, 4, -6, 6, -8, 8, -12, 12, -16, 16):
            i = guess + delta
            if 0 <= i < count and raw.FPDFText_GetUnicode(textpage, i) == ord(char):
                drift = i - offset
                return i
        return None

    offset = 0
    for raw_line in re.split(r"(\r\n|\r|\n)", text):
        if raw_line in ("\r\n", "\r", "\n") or not raw_line:
            offset += len(raw_line)
            continue
        stripped = raw_line.strip()
        if stripped:
            start = offset + (len(raw_line) - len(raw_line.lstrip()))
            end = start + len(stripped) - 1
            first, last = locate(start, text[start]), locate(end, text[end])
            box = _line_box(textpage, first, last, device)
            cleaned = _clean(stripped)
            if cleaned:
                if box is None:  # no position found: place it just under the previous line
                    prev = lines[-1] if lines else Line("", 0.0, 0.0, 0.0, 0.0)
                    box = (prev.x0, prev.bottom, prev.x1, prev.bottom + max(prev.height, 1.0))
                lines.append(Line(cleaned, *box))
        offset += len(raw_line)
    return lines


def _line_box(textpage: Any, first: int | None, last: int | None, device: _Matrix) -> tuple[float, float, float, float] | None:
    boxes = []
    rect = raw.FS_RECTF()
    for index in (first, last):
        if index is None or not raw.FPDFText_GetLooseCharBox(textpage, index, rect):
            continue
        if rect.right > rect.left or rect.top > rect.bottom:
            boxes.append(_map_box(device, (rect.left, rect.bottom, rect.right, rect.top)))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _annot_string(annot: Any, key: str) -> str:
    size = raw.FPDFAnnot_GetStringValue(annot, key.encode("ascii"), None, 0)
    if size <= 2:
        return ""
    buffer = ctypes.create_string_buffer(size)
    raw.FPDFAnnot_GetStringValue(annot, key.encode("ascii"), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)), size)
    return buffer.raw[: size - 2].decode("utf-16-le", errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACES = re.compile(r"[ \u00a0]{2,}|\u00a0")
_WHITESPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    """Text without NULs, control characters and runs of spaces (PDF strings and fonts carry all three)."""
    return _SPACES.sub(" ", _CONTROL.sub("", text.replace("\x02", "-"))).strip()


def _squeeze(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _char_count(blocks: list[list[Line]]) -> int:
    return sum(len(ln.text) for lines in blocks for ln in lines)


def _inside(line: Line, bbox: tuple[float, float, float, float]) -> bool:
    x = (line.x0 + line.x1) / 2
    y = (line.top + line.bottom) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _pages(numbers: list[int]) -> str:
    """"page 3 had" / "pages 1-4, 7 had" for warnings."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
    return f"page {text} had" if len(numbers) == 1 else f"pages {text} had"
