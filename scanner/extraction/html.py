"""HTML and XHTML pages, and MHT/MHTML web archives.

The encoding comes from a byte-order mark, then from ``<meta charset>`` / ``http-equiv`` or the XML
declaration, then from :func:`~.text.decode_text`; a declared charset that valid UTF-8 contradicts
loses to UTF-8 (pages saved by editors often keep a stale declaration). lxml parses the page with
network access off. Scripts, styles, ``noscript`` and templates are dropped; block elements become
paragraphs, ``h1``-``h6`` headings, ``pre`` code, tables one ``table_row`` block per row (nested
tables after their row). The title and the description and keywords meta tags become metadata.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import re
from collections.abc import Iterator

from lxml import etree
from lxml import html as lxml_html

from ..data import Block, Location
from ..errors import CorruptDocumentError
from .base import Context, Extractor, Source, register
from .tables import next_header, row_block
from .text import _BOMS, decode_text

_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]{2,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_\-.]{2,40})["']""")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_LEADING = re.compile(rb"^(?:\s+|<!--.*?-->|<\?xml[^>]*>)*", re.S)
_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")
_SPACE = re.compile(r"[ \t\r\n\f\u200b\u00a0]+")
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
            "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
            "big5": "big5hkscs", "shift_jis": "cp932", "x-sjis": "cp932", "euc-kr": "cp949"}

_DROP = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "embed",
                   "select", "datalist", "canvas", "audio", "video"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote",
                     "li", "ul", "ol", "dl", "dt", "dd", "address", "figure", "figcaption", "form", "fieldset",
                     "legend", "details", "summary", "center", "hr", "body", "html", "caption", "tbody", "thead",
                     "tfoot", "tr", "td", "th", "menu", "dir", "noframes", "frameset", "option", "label"})
_BR = "\x00"  # marks a <br> in the buffer until whitespace is normalised


def _codec(name: bytes | str) -> str | None:
    label = (name.decode("ascii", "ignore") if isinstance(name, bytes) else name).strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes) -> str:
    """The text of an HTML page in its declared or detected encoding (see the module docstring)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(name, errors="replace")
    head = data[:4096]
    declared = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    codec = _codec(declared.group(1)) if declared else None
    if codec is not None and codec.startswith("utf-16"):
        codec = "utf-8"  # a UTF-16 page without a byte-order mark cannot declare itself in ASCII
    if codec is not None and codec != "utf-8" and not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    text, encoding = decode_text(data)
    if encoding.startswith(("utf", "gb", "big5")):
        return text
    return data.decode("cp1252", errors="replace")  # the web's default for undeclared legacy pages


def looks_like_html(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = data.decode("utf-16", errors="ignore")[:1024].encode("utf-8", "ignore")
    elif data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    head = _LEADING.sub(b"", data[:4096], count=1)[:32].lower()
    return head.startswith(_MARKERS)


class _Page:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.tables = 0
        self.location = Location(part="body")
        self.elements = 0

    def flush(self, kind: str = "text") -> None:
        text = _normalise("".join(self.buffer))
        self.buffer.clear()
        if text:
            self.blocks.append(Block(text=text, location=self.location, kind=kind))

    def walk(self, el: etree._Element) -> None:
        self.elements += 1
        if self.elements % 5000 == 0:
            self.ctx.check_time()
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.rpartition("}")[2].lower()
        if tag in _DROP or not tag:
            return
        if tag == "br":
            self.buffer.append(_BR)
        elif tag in _HEADINGS:
            self.flush()
            self.inline(el, self.buffer, [])
            self.flush("heading")
        elif tag == "pre" or tag == "textarea":
            self.flush()
            text = el.text_content().strip("\n")
            if text.strip():
                self.blocks.append(Block(text=text, location=self.location, kind="code" if tag == "pre" else "text"))
        elif tag == "table":
            self.flush()
            self.table(el)
        elif tag in _BLOCKS:
            self.flush()
            if el.text:
                self.buffer.append(el.text)
            for child in el:
                self.walk(child)
                if child.tail:
                    self.buffer.append(child.tail)
            self.flush()
        else:
            if el.text:
                self.buffer.append(el.text)
            for child in el:
                self.walk(child)
                if child.tail:
                    self.buffer.append(child.tail)

    def inline(self, el: etree._Element, out: list[str], nested: list[etree._Element]) -> None:
        """All text below ``el`` into ``out``; blocks become breaks, nested tables are set aside."""
        if el.text:
            out.append(el.text)
        for child in el:
            tag = child.tag.rpartition("}")[2].lower() if isinstance(child.tag, str) else ""
            if tag == "table":
                nested.append(child)
            elif tag == "br":
                out.append(_BR)
            elif tag and tag not in _DROP:
                block = tag in _BLOCKS or tag in _HEADINGS or tag == "pre"
                if block:
                    out.append(_BR)
                self.inline(child, out, nested)
                if block:
                    out.append(_BR)
            if child.tail:
                out.append(child.tail)

    def table(self, table: etree._Element) -> None:
        self.tables += 1
        number = self.tables
        header: str | None = None
        row_number = 0
        for tr in table.iter("tr"):
            if _nearest_table(tr) is not table:
                continue
            row_number += 1
            values: list[tuple[int, str]] = []
            nested: list[etree._Element] = []
            col = 1
            for cell in tr:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                parts: list[str] = []
                self.inline(cell, parts, nested)
                values.append((col, _normalise("".join(parts))))
                span = cell.get("colspan", "1").strip()
                col += min(int(span), 1000) if span.isdigit() and int(span) > 0 else 1
            block = row_block(values, row=row_number, location=self.location, header=header, table=number,
                              spreadsheet=False)
            if block is not None:
                header = next_header(header, block)
                self.blocks.append(block)
            for inner in nested:
                self.table(inner)
        caption = table.find("caption")
        if caption is not None and caption.text_content().strip():
            self.blocks.append(Block(text=_normalise(caption.text_content()), location=self.location))


def _nearest_table(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _normalise(text: str) -> str:
    """HTML whitespace rules: runs collapse to one space, ``<br>`` and block breaks become newlines."""
    lines = [_SPACE.sub(" ", line).strip() for line in text.split(_BR)]
    return "\n".join(line for line in lines if line)


def html_blocks(text: str, ctx: Context) -> Iterator[Block]:
    """Blocks of an HTML page given as text (metadata first, then the body in reading order)."""
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return
    parser = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, default_doctype=False)
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        if "empty" in str(exc).lower():
            return
        raise CorruptDocumentError(f"HTML page could not be parsed ({exc})") from exc
    metadata = Location(part="metadata")
    title = root.find(".//title")
    if title is not None and _normalise(title.text_content()):
        yield Block(text=_normalise(title.text_content()), location=metadata, kind="metadata")
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        content = _normalise(meta.get("content") or "")
        if content and name in ("description", "keywords", "og:description", "subject"):
            yield Block(text=content, location=metadata, kind="metadata")
    page = _Page(ctx)
    body = root.find("body")
    for element in (body,) if body is not None else tuple(root):
        page.walk(element)
    page.flush()
    yield from page.blocks


@register
class HtmlExtractor(Extractor):
    """HTML and XHTML pages."""

    name = "html"
    extensions = (".html", ".htm", ".xhtml", ".xht", ".shtml")
    priority = 60

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return looks_like_html(source.head)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        yield from html_blocks(decode_html(source.data), ctx)


@register
class MhtExtractor(Extractor):
    """MHT/MHTML web archives ("single file web page"): their HTML parts, other parts as attachments."""

    name = "mht"
    extensions = (".mht", ".mhtml")
    priority = 55

    @classmethod
    def sniff(cls, source: Source) -> bool:
        head = source.head[:2048].lower()
        return source.suffix in cls.extensions and b"mime-version" in head and b"multipart/" in head

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        message = email.message_from_bytes(source.data, policy=email.policy.compat32)
        if not message.is_multipart():
            raise CorruptDocumentError(f"{source.name}: web archive without MIME parts; the file is damaged")
        for n, part in enumerate(message.walk()):
            if part.is_multipart():
                continue
            ctx.check_time()
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            if part.get_content_type() == "text/html":
                charset = part.get_content_charset()
                codec = _codec(charset) if charset else None
                text = payload.decode(codec, errors="replace") if codec else decode_html(payload)
                yield from html_blocks(text, ctx)
            elif part.get_content_maintype() not in ("image", "text") and payload:
                name = part.get_filename() or (part.get("Content-Location") or f"part{n}").rpartition("/")[2]
                yield from ctx.extract_child(name or f"part{n}", payload)
