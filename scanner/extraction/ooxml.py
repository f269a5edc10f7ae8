"""What DOCX, XLSX and PPTX share: packages, relationships, properties, DrawingML text, embedded objects.

An OOXML file is a ZIP of XML parts tied together by relationship parts (``_rels/*.rels``). The
extractors in :mod:`.docx`, :mod:`.xlsx` and :mod:`.pptx` follow relationships from the package root
rather than guessing member names, and read every part through :class:`~.xmlsafe.Package`.
Strict OOXML (ISO 29500 strict namespaces) is read by mapping its namespaces to the transitional ones.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from ..data import Block, Location
from .base import Context, Source
from .xmlsafe import Package, local, refuse_entities, text_of

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
X = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"

_STRICT = {
    b"http://purl.oclc.org/ooxml/wordprocessingml/main": W.encode(),
    b"http://purl.oclc.org/ooxml/drawingml/main": A.encode(),
    b"http://purl.oclc.org/ooxml/officeDocument/relationships": R.encode(),
    b"http://purl.oclc.org/ooxml/presentationml/main": P.encode(),
    b"http://purl.oclc.org/ooxml/spreadsheetml/main": X.encode(),
    b"http://purl.oclc.org/ooxml/drawingml/chart": C.encode(),
}

R_ID = f"{{{R}}}id"
R_EMBED = f"{{{R}}}embed"
A_P = f"{{{A}}}p"
A_R = f"{{{A}}}r"
A_T = f"{{{A}}}t"
A_BR = f"{{{A}}}br"
A_FLD = f"{{{A}}}fld"
A_TBL = f"{{{A}}}tbl"
MC_ALT = f"{{{MC}}}AlternateContent"
MC_CHOICE = f"{{{MC}}}Choice"
MC_FALLBACK = f"{{{MC}}}Fallback"
C_TITLE = f"{{{C}}}title"
C_CHART = f"{{{C}}}chart"

_CORE_FIELDS = ("title", "subject", "keywords", "description", "category")


def translate_strict(data: bytes) -> bytes:
    """Strict OOXML namespaces rewritten to their transitional twins (same elements, other URIs)."""
    if b"purl.oclc.org/ooxml" not in data:
        return data
    for strict, transitional in _STRICT.items():
        data = data.replace(strict, transitional)
    return data


def is_ooxml(source: Source, folder: str, main_part_names: tuple[str, ...] = (), extensions: tuple[str, ...] = ()) -> bool:
    """True for an OPC package whose parts live in ``folder`` (``word/``, ``xl/``, ``ppt/``).

    A file with one of ``extensions`` that is empty or a damaged ZIP is claimed too, so it is reported
    corrupt rather than read as text.
    """
    if source.suffix in extensions and (not source.data or (source.data[:2] == b"PK" and not source.zip_names)):
        return True
    names = source.zip_names
    if "[Content_Types].xml" not in names:
        return False
    if any(name in names for name in main_part_names):
        return True
    return any(name.startswith(folder) for name in names)


def open_package(source: Source, ctx: Context) -> Package:
    return Package(source, ctx, translate=translate_strict)


@dataclass(frozen=True, slots=True)
class Rel:
    """One relationship: its id, its type's last word (``header``, ``slide``...) and the part it targets."""

    id: str
    kind: str
    target: str


_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'(\w+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def relationships(pkg: Package, part: str) -> list[Rel]:
    """Internal relationships of ``part`` (``""`` for the package root), in document order.

    Relationship parts are flat lists of attributes, read with a pattern rather than a parser
    (they are read for every part, and a tree costs more than the rest of a small document).
    """
    folder, base = posixpath.split(part)
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if pkg.find(rels_name) is None:
        return []
    data = pkg.read(rels_name)
    refuse_entities(data, pkg.what(rels_name))
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = data.decode("utf-16").encode("utf-8")
    rels = []
    for match in _REL.finditer(data):
        attrs = {m.group(1): (m.group(2) if m.group(2) is not None else m.group(3)) for m in _ATTR.finditer(match.group(1))}
        target = attrs.get(b"Target")
        if not target or attrs.get(b"TargetMode") == b"External":
            continue
        target_text = unquote(html.unescape(target.decode("utf-8", "replace")))
        kind = attrs.get(b"Type", b"").decode("ascii", "replace").rstrip("/").rpartition("/")[2]
        rels.append(Rel(html.unescape(attrs.get(b"Id", b"").decode("utf-8", "replace")), kind,
                        pkg.resolve(part, target_text)))
    return rels


def rel_map(pkg: Package, part: str) -> dict[str, Rel]:
    return {rel.id: rel for rel in relationships(pkg, part)}


def main_part(pkg: Package, default: str) -> str:
    """The package's main document part from the root relationships, else ``default``."""
    for rel in relationships(pkg, ""):
        if rel.kind == "officeDocument" and pkg.find(rel.target):
            return pkg.find(rel.target) or rel.target
    return default


def choices(element: etree._Element) -> Iterator[etree._Element]:
    """Children of ``element`` with ``mc:AlternateContent`` replaced by its first choice.

    The fallback of an alternate content block repeats the same content for older readers (a VML copy
    of a DrawingML text box); reading both would output the text twice.
    """
    for child in element:
        if child.tag == MC_ALT:
            for option in child:
                if option.tag in (MC_CHOICE, MC_FALLBACK):
                    yield from choices(option)
                    break
        else:
            yield child


def first_choice(alt: etree._Element) -> etree._Element:
    """The first option of an ``mc:AlternateContent`` block (the element itself when it has none)."""
    for option in alt:
        if option.tag in (MC_CHOICE, MC_FALLBACK):
            return option
    return alt


def drawing_paragraph(p: etree._Element) -> str:
    """The text of one DrawingML paragraph (``a:p``): runs, fields, line breaks."""
    parts: list[str] = []
    _paragraph_parts(p, parts)
    return "".join(parts).replace("\x0b", "\n")


def _paragraph_parts(element: etree._Element, parts: list[str]) -> None:
    for child in choices(element):
        tag = child.tag
        if tag in (A_R, A_FLD):
            for t in child:
                if t.tag == A_T and t.text:
                    parts.append(t.text)
        elif tag == A_BR:
            parts.append("\n")


def drawing_paragraphs(element: etree._Element) -> list[str]:
    """Texts of the DrawingML paragraphs inside ``element`` in document order, tables left out."""
    out: list[str] = []
    _walk_paragraphs(element, out)
    return out


def _walk_paragraphs(element: etree._Element, out: list[str]) -> None:
    for child in choices(element):
        tag = child.tag
        if tag == A_P:
            text = drawing_paragraph(child)
            if text.strip():
                out.append(text)
        elif tag != A_TBL and len(child):
            _walk_paragraphs(child, out)


def drawing_table_rows(tbl: etree._Element) -> list[list[tuple[int, str]]]:
    """Rows of a DrawingML table (``a:tbl``) as ``(col, text)`` pairs, merged cells counted once."""
    rows = []
    for tr in tbl.iter(f"{{{A}}}tr"):
        cells = []
        col = 0
        for tc in tr.iter(f"{{{A}}}tc"):
            col += 1
            if tc.get("hMerge") in ("1", "true") or tc.get("vMerge") in ("1", "true"):
                continue
            text = "\n".join(drawing_paragraphs(tc))
            cells.append((col, text))
            span = tc.get("gridSpan")
            if span and span.isdigit():
                col += int(span) - 1
        rows.append(cells)
    return rows


def chart_texts(pkg: Package, part: str) -> list[str]:
    """Titles of a chart part (chart and axis titles), which often name what the numbers are."""
    root = pkg.parse_optional(part)
    if root is None:
        return []
    texts = []
    for title in root.iter(C_TITLE):
        text = " ".join(drawing_paragraphs(title)) or " ".join(t.text or "" for t in title.iter(f"{{{C}}}v"))
        if text.strip() and text not in texts:
            texts.append(text)
    return texts


def diagram_texts(pkg: Package, part: str) -> list[str]:
    """Texts of a SmartArt data part, one per diagram node."""
    root = pkg.parse_optional(part)
    if root is None:
        return []
    texts = []
    for node in root.iter():
        if local(node.tag) == "t" and node.getparent() is not None and local(node.getparent().tag) == "pt":
            text = "\n".join(drawing_paragraphs(node))
            if text.strip():
                texts.append(text)
    return texts


def graphic_texts(pkg: Package, part: str, frame: etree._Element, rels: dict[str, Rel]) -> list[str]:
    """Texts of charts and SmartArt diagrams referenced from a graphic frame or drawing in ``part``."""
    texts: list[str] = []
    for el in frame.iter():
        name = local(el.tag)
        if name == "chart" and el.get(R_ID) in rels:
            texts.extend(chart_texts(pkg, rels[el.get(R_ID)].target))
        elif name == "relIds":
            dm = el.get(f"{{{R}}}dm")
            if dm in rels:
                texts.extend(diagram_texts(pkg, rels[dm].target))
    return texts


def property_blocks(pkg: Package) -> Iterator[Block]:
    """Title, subject, keywords, description and category, then custom properties (part ``metadata``)."""
    location = Location(part="metadata")
    core = pkg.parse_optional("docProps/core.xml")
    if core is not None:
        for field in core:
            name = local(field.tag)
            text = text_of(field).strip()
            if name in _CORE_FIELDS and text:
                yield Block(text=text, location=location, kind="metadata")
    custom = pkg.parse_optional("docProps/custom.xml")
    if custom is not None:
        for prop in custom:
            value = text_of(prop).strip()
            name = prop.get("name", "")
            if value:
                yield Block(text=f"{name}: {value}" if name else value, location=location, kind="metadata")


def embedded_blocks(pkg: Package, folder: str, ctx: Context) -> Iterator[Block]:
    """Blocks of embedded objects (workbooks in documents, OLE packages...) via ``ctx.extract_child``."""
    for name in pkg.under(folder):
        ctx.check_time()
        data = pkg.read_member(name)
        yield from ctx.extract_child(posixpath.basename(name), data)
