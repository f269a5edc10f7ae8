"""Word documents (DOCX, DOCM, DOTX, and WPS text files saved as OOXML), read straight from their XML.

Reading order: body (paragraphs, tables row by row, text boxes after the paragraph that anchors them),
headers, footers, footnotes, endnotes, comments, document properties, then embedded objects.
Tracked changes are kept apart: a paragraph's block holds its current text (insertions included and
flagged ``inserted``); deleted text and hidden text (``w:vanish``) follow as their own blocks flagged
``deleted`` and ``hidden``, so a reviewer is never misled about what the reader of the file sees.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from ..data import Block, Location
from .base import Context, Extractor, Source, register
from .ooxml import (
    MC_ALT,
    R_ID,
    Rel,
    W,
    choices,
    embedded_blocks,
    first_choice,
    graphic_texts,
    is_ooxml,
    main_part,
    open_package,
    property_blocks,
    rel_map,
)
from .tables import next_header, row_block
from .xmlsafe import Package

_M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


W_P, W_R, W_T, W_TBL, W_TR, W_TC = _w("p"), _w("r"), _w("t"), _w("tbl"), _w("tr"), _w("tc")
W_PPR, W_RPR, W_PSTYLE, W_OUTLINE = _w("pPr"), _w("rPr"), _w("pStyle"), _w("outlineLvl")
W_DELTEXT, W_INS, W_DEL, W_MOVEFROM, W_MOVETO = _w("delText"), _w("ins"), _w("del"), _w("moveFrom"), _w("moveTo")
W_VANISH, W_SPECVANISH = _w("vanish"), _w("specVanish")
W_TXBX, W_SDT, W_SDTCONTENT, W_ALTCHUNK = _w("txbxContent"), _w("sdt"), _w("sdtContent"), _w("altChunk")
W_SYM, W_VAL, W_CHAR, W_TYPE = _w("sym"), _w("val"), _w("char"), _w("type")
W_GRIDSPAN, W_TCPR, W_TRPR, W_GRIDBEFORE = _w("gridSpan"), _w("tcPr"), _w("trPr"), _w("gridBefore")
W_VMERGE = _w("vMerge")
W_RUBY, W_RT = _w("ruby"), _w("rt")
W_DRAWING, W_PICT, W_OBJECT = _w("drawing"), _w("pict"), _w("object")
M_T = f"{{{_M}}}t"
_HEADING_MARK = re.compile(rb'<w:name w:val="(?:heading \d|title)"|<w:outlineLvl w:val="[0-8]"', re.I)
_STYLE_ID = re.compile(rb'w:styleId="([^"]*)"')
WP_DOCPR = f"{{{_WP}}}docPr"

# Run children that stand for characters.
_CHARS = {_w("tab"): "\t", _w("ptab"): "\t", _w("br"): "\n", _w("cr"): "\n", _w("noBreakHyphen"): "-",
          _w("softHyphen"): "", _w("lastRenderedPageBreak"): ""}
# Elements whose content is never text the reader sees (properties, field instructions, markers).
_SKIP = {W_PPR, W_RPR, _w("sectPr"), _w("instrText"), _w("delInstrText"), _w("fldChar"), _w("tblPr"), _w("tblGrid"),
         W_TRPR, W_TCPR, _w("sdtPr"), _w("sdtEndPr"), _w("bookmarkStart"), _w("bookmarkEnd"), _w("proofErr"),
         _w("commentRangeStart"), _w("commentRangeEnd"), _w("footnoteReference"), _w("endnoteReference"),
         _w("commentReference"), _w("permStart"), _w("permEnd"), W_MOVEFROM, _w("customXmlPr")}
_VISUALS = {W_DRAWING, W_PICT, W_OBJECT, MC_ALT}
_OFF = ("0", "false", "off")

NORMAL, DELETED, HIDDEN = 0, 1, 2


@dataclass
class _Runs:
    """Text gathered from one paragraph (or table cell): current, deleted and hidden segments."""

    segments: list[tuple[int, str]] = field(default_factory=list)
    inserted: bool = False
    visuals: list[etree._Element] = field(default_factory=list)

    def text(self, state: int = NORMAL) -> str:
        if state == NORMAL:
            return "".join(t for s, t in self.segments if s == NORMAL)
        # Separate deletions (or hidden stretches) of one paragraph are joined by a space.
        pieces: list[str] = []
        previous = NORMAL
        for s, t in self.segments:
            if s == state:
                if previous != state and pieces:
                    pieces.append(" ")
                pieces.append(t)
            previous = s
        return "".join(pieces)


# Anything that needs the careful walk: tracked changes, hidden text, drawings, symbols, ruby.
_COMPLEX = (W_DEL, W_INS, W_MOVEFROM, W_MOVETO, W_VANISH, W_SPECVANISH, W_DRAWING, W_PICT, W_OBJECT, MC_ALT, W_SYM,
            W_TXBX, W_RUBY, W_DELTEXT)
_SIMPLE = (W_T, M_T, *_CHARS)


def read_paragraph(p: etree._Element) -> _Runs:
    """The runs of a paragraph; plain paragraphs (most of them) take a fast path through lxml's C iterator."""
    runs = _Runs()
    if next(p.iter(*_COMPLEX), None) is None:
        chars = _CHARS
        text = "".join(chars.get(el.tag, el.text or "") for el in p.iter(*_SIMPLE))
        if text:
            runs.segments.append((NORMAL, text))
    else:
        _collect(p, runs, NORMAL)
    return runs


def _is_on(element: etree._Element) -> bool:
    return element.get(W_VAL) not in _OFF


def _collect(element: etree._Element, runs: _Runs, state: int) -> None:
    for child in element:
        tag = child.tag
        if tag == W_R:
            _run(child, runs, state)
        elif tag in _SKIP or not isinstance(tag, str):
            continue
        elif tag in (W_INS, W_MOVETO):
            if state == NORMAL:
                runs.inserted = True
            _collect(child, runs, state)
        elif tag == W_DEL:
            _collect(child, runs, DELETED)
        elif tag == MC_ALT:
            runs.visuals.append(first_choice(child))
        elif tag == W_TXBX:
            runs.visuals.append(child)
        elif tag == M_T:
            if child.text:
                runs.segments.append((state, child.text))
        elif tag == W_RUBY:
            for part in child:
                if part.tag != W_RT:
                    _collect(part, runs, state)
        elif len(child):
            _collect(child, runs, state)


def _run(run: etree._Element, runs: _Runs, state: int) -> None:
    append = runs.segments.append
    for child in run:
        tag = child.tag
        if tag == W_T:
            if child.text:
                append((state, child.text))
        elif tag == W_RPR:
            if state == NORMAL:
                for prop in child:
                    if (prop.tag == W_VANISH or prop.tag == W_SPECVANISH) and _is_on(prop):
                        state = HIDDEN
        elif tag == W_DELTEXT:
            if child.text:
                append((DELETED, child.text))
        elif tag in _CHARS:
            append((state, _CHARS[tag]))
        elif tag in _VISUALS:
            runs.visuals.append(first_choice(child) if tag == MC_ALT else child)
        elif tag == W_SYM:
            char = _symbol(child.get(W_CHAR, ""))
            if char:
                append((state, char))
        elif tag == M_T and child.text:
            append((state, child.text))


def _symbol(code: str) -> str:
    """A ``w:sym`` character; symbol-font glyphs (private use area) have no text meaning."""
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    if 0xE000 <= value <= 0xF8FF or value < 0x20:
        return ""
    return chr(value)


def _text_boxes(element: etree._Element, out: list[etree._Element]) -> None:
    """Text box contents under a drawing, first alternate only (the VML fallback repeats the text)."""
    if element.tag == W_TXBX:
        out.append(element)
        return
    for child in choices(element):
        if child.tag == W_TXBX:
            out.append(child)
        elif len(child):
            _text_boxes(child, out)


@dataclass
class _Part:
    """One story of the document (body, a header, the footnotes...) and its relationships."""

    name: str
    label: str
    rels: dict[str, Rel]
    tables: int = 0


class _Reader:
    def __init__(self, pkg: Package, ctx: Context) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main_part(pkg, "word/document.xml")
        self.rels = rel_map(pkg, self.main)
        self.headings = self._heading_styles()
        self.paragraphs = 0

    def _heading_styles(self) -> frozenset[str]:
        """Ids of paragraph styles that are headings (by name, or by outline level)."""
        styles = next((r.target for r in self.rels.values() if r.kind == "styles"), None)
        if styles is None or self.pkg.find(styles) is None:
            return frozenset()
        data = self.pkg.read(styles)
        if b"<w:style " not in data:  # another namespace prefix: take the slow, general way
            return self._heading_styles_parsed(styles)
        # styles.xml is often 100 KB of latent styles: find the few heading markers and look back
        # for the style element each belongs to, rather than building the whole tree.
        found = set()
        for match in _HEADING_MARK.finditer(data):
            start = data.rfind(b"<w:style ", 0, match.start())
            if start < 0 or data.rfind(b"</w:style>", start, match.start()) >= 0:
                continue
            head = data[start:data.find(b">", start)]
            style_id = _STYLE_ID.search(head)
            if style_id and b'w:type="paragraph"' in head:
                found.add(style_id.group(1).decode("utf-8", "replace"))
        return frozenset(found)

    def _heading_styles_parsed(self, styles: str) -> frozenset[str]:
        found = set()
        for style in self.pkg.parse(styles).iter(_w("style")):
            if style.get(W_TYPE) != "paragraph":
                continue
            name_el = style.find(_w("name"))
            name = (name_el.get(W_VAL, "") if name_el is not None else "").lower()
            ppr = style.find(W_PPR)
            outline = ppr.find(W_OUTLINE) if ppr is not None else None
            if name.startswith("heading") or name == "title" or (outline is not None and outline.get(W_VAL, "9") < "9"):
                found.add(style.get(_w("styleId"), ""))
        return frozenset(found)

    def story(self, part: str) -> etree._Element | None:
        """A header, footer or notes part, or ``None`` when it holds no text at all (most do not)."""
        if self.pkg.find(part) is None:
            return None
        data = self.pkg.read(part)
        if b"<w:t" not in data and b":t>" not in data and b":t " not in data:
            return None
        return self.pkg.parse(part)

    def blocks(self) -> Iterator[Block]:
        root = self.pkg.parse(self.main)
        body = root.find(_w("body"))
        if body is not None:
            yield from self.content(body, _Part(self.main, "body", self.rels))
        for kind in ("header", "footer"):
            seen: set[str] = set()
            for rel in self.rels.values():
                root = self.story(rel.target) if rel.kind == kind else None
                if root is not None:
                    part = _Part(rel.target, kind, rel_map(self.pkg, rel.target))
                    for block in self.content(root, part):
                        if block.text not in seen:
                            seen.add(block.text)
                            yield block
        for kind in ("footnote", "endnote"):
            yield from self.notes(kind)
        yield from self.comments()
        yield from property_blocks(self.pkg)
        yield from embedded_blocks(self.pkg, posixpath.join(posixpath.dirname(self.main), "embeddings/"), self.ctx)

    # --- stories ---------------------------------------------------------------------------------
    def content(self, element: etree._Element, part: _Part) -> Iterator[Block]:
        """Block-level content: paragraphs, tables, content controls, alternative chunks."""
        for child in choices(element):
            tag = child.tag
            if tag == W_P:
                yield from self.paragraph(child, part)
            elif tag == W_TBL:
                yield from self.table(child, part)
            elif tag == W_ALTCHUNK:
                rel = part.rels.get(child.get(R_ID, ""))
                if rel is not None and self.pkg.find(rel.target):
                    yield from self.ctx.extract_child(posixpath.basename(rel.target), self.pkg.read_member(rel.target))
            elif tag in _SKIP or not isinstance(tag, str):
                continue
            elif len(child):  # sdt, sdtContent, customXml, ins/del around rows of a table, ...
                yield from self.content(child, part)

    def paragraph(self, p: etree._Element, part: _Part) -> Iterator[Block]:
        self.paragraphs += 1
        if self.paragraphs % 500 == 0:
            self.ctx.check_time()
        runs = read_paragraph(p)
        location = Location(part=part.label)
        text = runs.text().strip()
        if text:
            kind = "heading" if self.headings and self._is_heading(p) else "text"
            yield Block(text=text, location=location, kind=kind, flags=("inserted",) if runs.inserted else ())
        yield from self.changes(runs, location)
        yield from self.visuals(runs, part)

    def changes(self, runs: _Runs, location: Location) -> Iterator[Block]:
        if len(runs.segments) < 2 and not (runs.segments and runs.segments[0][0] != NORMAL):
            return
        for state, flag in ((DELETED, "deleted"), (HIDDEN, "hidden")):
            text = runs.text(state).strip()
            if text:
                yield Block(text=text, location=location, flags=(flag,))

    def visuals(self, runs: _Runs, part: _Part) -> Iterator[Block]:
        """Text boxes, charts, diagrams and alt text of the drawings anchored in a paragraph."""
        if not runs.visuals:
            return
        location = Location(part=part.label)
        for visual in runs.visuals:
            boxes: list[etree._Element] = []
            _text_boxes(visual, boxes)
            for box in boxes:
                yield from self.content(box, part)
            for text in graphic_texts(self.pkg, part.name, visual, part.rels):
                yield Block(text=text, location=location)
            for doc_pr in visual.iter(WP_DOCPR):
                alt = (doc_pr.get("descr") or "").strip()
                if alt:
                    yield Block(text=alt, location=location, flags=("alt_text",))

    def _is_heading(self, p: etree._Element) -> bool:
        ppr = p.find(W_PPR)
        if ppr is None:
            return False
        style = ppr.find(W_PSTYLE)
        return style is not None and style.get(W_VAL) in self.headings

    def table(self, tbl: etree._Element, part: _Part) -> Iterator[Block]:
        part.tables += 1
        number = part.tables
        header: str | None = None
        for row_number, tr in enumerate(_children(tbl, W_TR), 1):
            values: list[tuple[int, str]] = []
            after: list[Block] = []
            nested: list[etree._Element] = []
            col = 1 + _int_val(tr.find(W_TRPR), W_GRIDBEFORE, 0)
            for tc in _children(tr, W_TC):
                props = tc.find(W_TCPR)
                span = max(1, _int_val(props, W_GRIDSPAN, 1))
                merge = props.find(W_VMERGE) if props is not None else None
                if merge is not None and merge.get(W_VAL, "continue") == "continue":
                    col += span  # covered by the merged cell above: Word shows none of its text
                    continue
                runs_text: list[str] = []
                for child in _cell_items(tc):
                    if child.tag == W_P:
                        runs = read_paragraph(child)
                        runs_text.append(runs.text())
                        ref = Location(part=part.label, cell=f"R{row_number}C{col}", row=row_number, col=col)
                        after.extend(self.changes(runs, ref))
                        after.extend(self.visuals(runs, part))
                    else:
                        nested.append(child)
                values.append((col, "\n".join(runs_text)))
                col += span
            block = row_block(values, row=row_number, location=Location(part=part.label), header=header,
                              table=number, spreadsheet=False)
            if block is not None:
                header = next_header(header, block)
                yield block
            yield from after
            for inner in nested:
                yield from self.table(inner, part)

    def notes(self, kind: str) -> Iterator[Block]:
        for rel in self.rels.values():
            root = self.story(rel.target) if rel.kind == f"{kind}s" else None
            if root is None:
                continue
            part = _Part(rel.target, kind, rel_map(self.pkg, rel.target))
            for note in root:
                if note.get(W_TYPE) in (None, "normal"):
                    yield from self.content(note, part)

    def comments(self) -> Iterator[Block]:
        for rel in self.rels.values():
            if rel.kind != "comments" or not self.pkg.find(rel.target):
                continue
            location = Location(part="comment")
            for comment in self.pkg.parse(rel.target):
                texts = []
                for p in comment.iter(W_P):
                    texts.append(read_paragraph(p).text())
                text = "\n".join(texts).strip()
                if text:
                    yield Block(text=text, location=location, flags=("comment",))


def _children(element: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with ``tag``, looking through content controls and custom XML wrappers."""
    for child in choices(element):
        if child.tag == tag:
            yield child
        elif child.tag in (W_SDT, W_SDTCONTENT, _w("customXml"), W_INS, W_DEL):
            yield from _children(child, tag)


def _cell_items(element: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and nested tables of a table cell, looking through content controls."""
    for child in choices(element):
        if child.tag == W_P or child.tag == W_TBL:
            yield child
        elif child.tag in (W_SDT, W_SDTCONTENT, _w("customXml")):
            yield from _cell_items(child)


def _int_val(props: etree._Element | None, tag: str, default: int) -> int:
    if props is None:
        return default
    el = props.find(tag)
    if el is None:
        return default
    value = el.get(W_VAL, "")
    return int(value) if value.isdigit() and int(value) < 1000 else default


@register
class DocxExtractor(Extractor):
    """DOCX, DOCM, DOTX, DOTM and OOXML WPS documents."""

    name = "docx"
    extensions = (".docx", ".docm", ".dotx", ".dotm")
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return is_ooxml(source, "word/", ("word/document.xml",), cls.extensions)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        with open_package(source, ctx) as pkg:
            yield from _Reader(pkg, ctx).blocks()
