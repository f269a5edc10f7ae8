"""PowerPoint decks (PPTX, PPTM, POTX, PPSX, and WPS presentations saved as OOXML).

Slides come in presentation order (``p:sldIdLst``), each shape's paragraphs in shape-tree order with
group shapes opened, tables row by row, chart titles and SmartArt text; then the slide's speaker notes
(``notes:N``) and comments. Hidden slides flag all their blocks ``hidden``. Text that masters and
layouts put on every slide (a confidentiality legend in the footer, a text box on the master) is
emitted once with part ``master``; their prompt placeholders ("Click to edit...") are left out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from lxml import etree

from ..data import Block, Location
from .base import Context, Extractor, Source, register
from .ooxml import (
    A_TBL,
    R_ID,
    P,
    Rel,
    choices,
    drawing_paragraphs,
    drawing_table_rows,
    embedded_blocks,
    graphic_texts,
    is_ooxml,
    main_part,
    open_package,
    property_blocks,
    rel_map,
)
from .tables import next_header, row_block
from .xmlsafe import Package, local


def _p(name: str) -> str:
    return f"{{{P}}}{name}"


P_SP, P_GRPSP, P_FRAME, P_PIC = _p("sp"), _p("grpSp"), _p("graphicFrame"), _p("pic")
P_TXBODY, P_PH, P_CSLD, P_SPTREE = _p("txBody"), _p("ph"), _p("cSld"), _p("spTree")

_TITLES = ("title", "ctrTitle")
_NOTES_SKIP = frozenset({"sldImg", "sldNum", "dt", "hdr", "ftr"})
_MASTER_KEEP = frozenset({"ftr", "hdr"})


def _placeholder(shape: etree._Element) -> str | None:
    """The placeholder type of a shape (``body`` when unnamed), or ``None`` for a free shape."""
    for nv in shape:
        if local(nv.tag).startswith("nv"):
            for prop in nv:
                if local(prop.tag) == "nvPr":
                    ph = prop.find(P_PH)
                    if ph is not None:
                        return ph.get("type", "body")
            break
    return None


class _Deck:
    def __init__(self, pkg: Package, ctx: Context) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main_part(pkg, "ppt/presentation.xml")
        self.rels = rel_map(pkg, self.main)
        presentation = pkg.parse(self.main)
        ids = presentation.find(_p("sldIdLst"))
        self.slides = []
        for sld in ids if ids is not None else ():
            rel = self.rels.get(sld.get(R_ID, ""))
            if rel is not None and pkg.find(rel.target):
                self.slides.append(rel.target)
        ctx.check_pages(len(self.slides), "slides")
        self.layouts: list[str] = []  # layouts the slides use, filled while reading them

    def blocks(self) -> Iterator[Block]:
        seen: set[str] = set()
        for block in self.slide_blocks():
            seen.add(block.text)
            yield block
        yield from (block for block in self.masters() if block.text not in seen)
        yield from property_blocks(self.pkg)
        yield from embedded_blocks(self.pkg, posixpath.join(posixpath.dirname(self.main), "embeddings/"), self.ctx)

    def slide_blocks(self) -> Iterator[Block]:
        for number, part in enumerate(self.slides, 1):
            self.ctx.check_time()
            root = self.pkg.parse(part)
            flags = ("hidden",) if root.get("show") in ("0", "false") else ()
            rels = rel_map(self.pkg, part)
            self.layouts.extend(rel.target for rel in rels.values() if rel.kind == "slideLayout")
            yield from self.shapes(self._tree(root), part, rels, Location(part=f"slide:{number}", slide=number), flags)
            for rel in rels.values():
                if rel.kind == "notesSlide" and self.pkg.find(rel.target):
                    notes = self.pkg.parse(rel.target)
                    yield from self.shapes(self._tree(notes), rel.target, rel_map(self.pkg, rel.target),
                                           Location(part=f"notes:{number}", slide=number), flags, skip=_NOTES_SKIP)
            yield from self.comments(rels, number, flags)

    @staticmethod
    def _tree(root: etree._Element) -> etree._Element | None:
        csld = root.find(P_CSLD)
        return csld.find(P_SPTREE) if csld is not None else None

    def shapes(self, tree: etree._Element | None, part: str, rels: dict[str, Rel] | None, location: Location,
               flags: tuple[str, ...], skip: frozenset[str] = frozenset(), keep: frozenset[str] | None = None,
               tables: list[int] | None = None) -> Iterator[Block]:
        """Blocks of the shapes in a shape tree, in tree order, group shapes opened.

        ``skip`` names placeholder types to leave out; with ``keep``, only free shapes and placeholders
        of those types are read (masters and layouts).
        """
        if tree is None:
            return
        tables = [0] if tables is None else tables
        for shape in choices(tree):
            tag = shape.tag
            if tag == P_SP:
                ph = _placeholder(shape)
                if ph in skip or (keep is not None and ph is not None and ph not in keep):
                    continue
                kind = "heading" if ph in _TITLES else "text"
                body = shape.find(P_TXBODY)
                for text in drawing_paragraphs(body) if body is not None else ():
                    yield Block(text=text, location=location, kind=kind, flags=flags)
            elif tag == P_GRPSP:
                yield from self.shapes(shape, part, rels, location, flags, skip, keep, tables)
            elif tag == P_FRAME:
                for tbl in shape.iter(A_TBL):
                    tables[0] += 1
                    header = None
                    for row_number, cells in enumerate(drawing_table_rows(tbl), 1):
                        block = row_block(cells, row=row_number, location=location, header=header, table=tables[0],
                                          spreadsheet=False, flags=flags)
                        if block is not None:
                            header = next_header(header, block)
                            yield block
                if rels is None:  # masters and layouts: their relationships are read only when needed
                    rels = rel_map(self.pkg, part)
                for text in graphic_texts(self.pkg, part, shape, rels):
                    yield Block(text=text, location=location, flags=flags)
            if tag in (P_PIC, P_SP, P_FRAME):
                yield from self._alt_text(shape, location, flags)

    @staticmethod
    def _alt_text(shape: etree._Element, location: Location, flags: tuple[str, ...]) -> Iterator[Block]:
        for nv in shape:
            if local(nv.tag).startswith("nv"):
                for prop in nv:
                    if local(prop.tag) == "cNvPr":
                        alt = (prop.get("descr") or "").strip()
                        if alt:
                            yield Block(text=alt, location=location, flags=(*flags, "alt_text"))
                break

    def comments(self, rels: dict[str, Rel], number: int, flags: tuple[str, ...]) -> Iterator[Block]:
        location = Location(part="comment", slide=number)
        for rel in rels.values():
            if rel.kind != "comments" or not self.pkg.find(rel.target):
                continue
            for comment in self.pkg.parse(rel.target):
                texts: list[str] = []
                for child in comment:
                    name = local(child.tag)
                    if name == "text":  # classic comments: plain text
                        texts.append(child.text or "")
                    elif name == "txBody":  # modern comments: DrawingML paragraphs
                        texts.extend(drawing_paragraphs(child))
                text = "\n".join(texts).strip()
                if text:
                    yield Block(text=text, location=location, flags=(*flags, "comment"))

    def masters(self) -> Iterator[Block]:
        """Free text and footers of slide masters and of the layouts slides use, each distinct text once.

        Texts a slide already showed are left out by :meth:`blocks`: they were read where they appear.
        """
        seen: set[str] = set()
        location = Location(part="master")
        parts = [rel.target for rel in self.rels.values() if rel.kind == "slideMaster"] + list(self.layouts)
        for part in dict.fromkeys(parts):
            if self.pkg.find(part) is None:
                continue
            data = self.pkg.read(part)
            # Most layouts hold only prompt placeholders: skip them without building a tree.
            free_shapes = data.count(b"<p:sp>") + data.count(b"<p:sp ") > data.count(b"<p:ph")
            if not free_shapes and b'type="ftr"' not in data and b'type="hdr"' not in data:
                continue
            root = self.pkg.parse(part)
            for block in self.shapes(self._tree(root), part, None, location, (), keep=_MASTER_KEEP):
                if block.text not in seen:
                    seen.add(block.text)
                    yield block


@register
class PptxExtractor(Extractor):
    """PPTX, PPTM, POTX, PPSX and OOXML WPS presentations."""

    name = "pptx"
    extensions = (".pptx", ".pptm", ".potx", ".potm", ".ppsx", ".ppsm")
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return is_ooxml(source, "ppt/", ("ppt/presentation.xml",), cls.extensions)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        with open_package(source, ctx) as pkg:
            yield from _Deck(pkg, ctx).blocks()
