"""OFD (GB/T 33190-2016), the Chinese fixed-layout format of e-documents and e-invoices.

An OFD file is a ZIP: ``OFD.xml`` names each document's ``Document.xml``, which lists the pages
(``Pages/Page_N/Content.xml``), their templates, annotations, attachments and custom tags. Page text
sits in ``TextObject`` elements as ``TextCode`` runs with a position (``X``, ``Y`` inside the object's
``Boundary``, optionally transformed by ``CTM``) and per-character advances (``DeltaX``, with the
``g N d`` repeat notation). Runs of a page and of its templates are gathered, grouped into lines by
their baseline and into paragraphs by line spacing, so a reader sees "发票号码 12345678" rather than
scattered fragments. Document info (title, subject, keywords, custom data) becomes ``metadata``;
e-invoice custom tags name the fields they point to (``InvoiceNo: 12345678``); attachments are
extracted as embedded files.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from ..data import Block, Location
from ..errors import CorruptDocumentError
from .base import Context, Extractor, Source, register
from .xmlsafe import Package, local

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True, slots=True)
class _Run:
    """One positioned text run on a page (millimetres, y growing downwards)."""

    x: float
    y: float
    end: float  # x where the run's last character ends
    size: float
    text: str


def _children(element: etree._Element | None, name: str) -> Iterator[etree._Element]:
    if element is None:
        return
    for child in element:
        if local(child.tag) == name:
            yield child


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    return next(_children(element, name), None)


def _child_text(element: etree._Element | None, name: str) -> str | None:
    child = _child(element, name)
    return child.text if child is not None else None


def _numbers(value: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(value or "")]


def deltas(value: str | None) -> list[float]:
    """Character advances of a ``DeltaX``/``DeltaY`` list, ``g N d`` meaning ``d`` repeated ``N`` times."""
    out: list[float] = []
    tokens = (value or "").split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "g" and i + 2 < len(tokens):
            with contextlib.suppress(ValueError):
                out.extend([float(tokens[i + 2])] * min(int(float(tokens[i + 1])), 100_000))
            i += 3
            continue
        with contextlib.suppress(ValueError):
            out.append(float(token))
        i += 1
    return out


def _text_runs(element: etree._Element, origin: tuple[float, float] = (0.0, 0.0)) -> Iterator[_Run]:
    """Runs of all ``TextObject`` elements below ``element`` (blocks and composite layers opened)."""
    for obj in element.iter():
        if local(obj.tag) != "TextObject":
            continue
        box = _numbers(obj.get("Boundary"))
        bx, by = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
        size = (_numbers(obj.get("Size")) or [3.5])[0]
        ctm = _numbers(obj.get("CTM"))
        a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        scale = (abs(d) or 1.0) if len(ctm) == 6 else 1.0
        x0 = y0 = 0.0
        for code in _children(obj, "TextCode"):
            text = code.text or ""
            x = float(code.get("X", x0) or x0)
            y = float(code.get("Y", y0) or y0)
            dx = deltas(code.get("DeltaX"))
            dy = deltas(code.get("DeltaY"))
            width = sum(dx[: max(len(text) - 1, 0)]) + size
            # A later TextCode without X/Y continues where this one ended.
            x0, y0 = x + width, y + sum(dy[: max(len(text) - 1, 0)])
            if not text.strip():
                continue
            px, py = a * x + c * y + e, b * x + d * y + f
            yield _Run(origin[0] + bx + px, origin[1] + by + py, origin[0] + bx + px + width * (abs(a) or 1.0),
                       size * scale, text)


def layout(runs: list[_Run]) -> list[str]:
    """Runs grouped into lines (close baselines) and lines into paragraphs (normal line spacing)."""
    if not runs:
        return []
    runs = sorted(runs, key=lambda r: (r.y, r.x))
    lines: list[list[_Run]] = []
    for run in runs:
        if lines:
            line = lines[-1]
            tolerance = max(min(run.size, line[0].size) * 0.5, 0.5)
            if abs(run.y - line[0].y) <= tolerance:
                line.append(run)
                continue
        lines.append([run])
    paragraphs: list[list[str]] = []
    previous: tuple[float, float] | None = None
    for line in lines:
        line.sort(key=lambda r: r.x)
        parts = [line[0].text]
        for before, run in zip(line, line[1:], strict=False):
            gap = run.x - before.end
            parts.append(("  " if gap > run.size * 1.5 else " " if gap > run.size * 0.3 else "") + run.text)
        text = "".join(parts).strip()
        y = line[0].y
        size = max(r.size for r in line)
        if previous is not None and y - previous[0] <= max(previous[1], size) * 1.8 and paragraphs:
            paragraphs[-1].append(text)
        else:
            paragraphs.append([text])
        previous = (y, size)
    return ["\n".join(p) for p in paragraphs]


class _Ofd:
    def __init__(self, pkg: Package, ctx: Context) -> None:
        self.pkg = pkg
        self.ctx = ctx

    def _parse(self, base: str, loc: str | None) -> tuple[str, etree._Element] | None:
        """The member ``loc`` points to (relative to ``base``, or absolute), parsed; ``None`` if absent."""
        if not loc or not loc.strip():
            return None
        loc = loc.strip()
        for candidate in (self.pkg.resolve(base, loc), loc.lstrip("/")):
            found = self.pkg.find(candidate)
            if found is not None:
                return found, self.pkg.parse(found)
        self.ctx.warn(f"OFD part {loc} referenced from {base} is missing")
        return None

    def blocks(self) -> Iterator[Block]:
        root = self.pkg.parse("OFD.xml")
        bodies = list(_children(root, "DocBody"))
        if not bodies:
            raise CorruptDocumentError(f"{self.pkg.source.name}: OFD.xml has no DocBody; the file is damaged")
        for body in bodies:
            yield from self.doc_info(_child(body, "DocInfo"))
            found = self._parse("OFD.xml", _child_text(body, "DocRoot"))
            if found is not None:
                yield from self.document(*found)

    def doc_info(self, info: etree._Element | None) -> Iterator[Block]:
        if info is None:
            return
        location = Location(part="metadata")
        for name in ("Title", "Subject", "Abstract"):
            el = _child(info, name)
            if el is not None and (el.text or "").strip():
                yield Block(text=el.text.strip(), location=location, kind="metadata")
        keywords = [k.text.strip() for k in _children(_child(info, "Keywords"), "Keyword") if (k.text or "").strip()]
        if keywords:
            yield Block(text=" ".join(keywords), location=location, kind="metadata")
        for data in _children(_child(info, "CustomDatas"), "CustomData"):
            if (data.text or "").strip():
                yield Block(text=f"{data.get('Name', '')}: {data.text.strip()}".lstrip(": "), location=location,
                            kind="metadata")

    def document(self, part: str, doc: etree._Element) -> Iterator[Block]:
        common = _child(doc, "CommonData")
        templates: dict[str, str] = {}
        for tpl in _children(common, "TemplatePage"):
            templates[tpl.get("ID", "")] = tpl.get("BaseLoc", "")
        pages = list(_children(_child(doc, "Pages"), "Page"))
        self.ctx.check_pages(len(pages))
        objects: dict[str, str] = {}  # object ID -> its text, for custom tags
        annotations = self.annotations(part, _child_text(doc, "Annotations"))
        template_runs: dict[str, list[_Run]] = {}
        for number, page in enumerate(pages, 1):
            self.ctx.check_time()
            runs: list[_Run] = []
            found = self._parse(part, page.get("BaseLoc"))
            if found is not None:
                page_part, content = found
                for tpl in _children(content, "Template"):
                    tid = tpl.get("TemplateID", "")
                    if tid not in template_runs:
                        tpl_found = self._parse(part, templates.get(tid))
                        template_runs[tid] = list(_text_runs(tpl_found[1])) if tpl_found else []
                    runs.extend(template_runs[tid])
                runs.extend(_text_runs(content))
                for obj in content.iter():
                    if local(obj.tag) == "TextObject" and obj.get("ID"):
                        objects[obj.get("ID", "")] = "".join(t.text or "" for t in _children(obj, "TextCode"))
            location = Location(part=f"page:{number}", page=number)
            for text in layout(runs):
                yield Block(text=text, location=location)
            for text in annotations.get(page.get("ID", ""), []):
                yield Block(text=text, location=location, flags=("comment",))
        yield from self.custom_tags(part, _child_text(doc, "CustomTags"), objects)
        yield from self.attachments(part, _child_text(doc, "Attachments"))

    def annotations(self, part: str, index: str | None) -> dict[str, list[str]]:
        """Annotation texts (remarks and visible text) per page ID."""
        out: dict[str, list[str]] = {}
        found = self._parse(part, index)
        if found is None:
            return out
        index_part, root = found
        for page in _children(root, "Page"):
            annots = self._parse(index_part, _child_text(page, "FileLoc"))
            if annots is None:
                continue
            texts = out.setdefault(page.get("PageID", ""), [])
            for annot in annots[1].iter():
                if local(annot.tag) != "Annot":
                    continue
                remark = _child(annot, "Remark")
                if remark is not None and (remark.text or "").strip():
                    texts.append(remark.text.strip())
                texts.extend(layout(list(_text_runs(annot))))
        return out

    def custom_tags(self, part: str, index: str | None, objects: dict[str, str]) -> Iterator[Block]:
        """Named fields of e-invoices: each custom tag with the text of the page objects it points to."""
        found = self._parse(part, index)
        if found is None:
            return
        index_part, root = found
        location = Location(part="metadata")
        for tag in _children(root, "CustomTag"):
            tags = self._parse(index_part, _child_text(tag, "FileLoc"))
            if tags is None:
                continue
            for field in tags[1].iter():
                if not isinstance(field.tag, str):
                    continue
                refs = [ref for ref in field if local(ref.tag) == "ObjectRef"]
                if refs:
                    value = "".join(objects.get((ref.text or "").strip(), "") for ref in refs).strip()
                elif len(field) == 0:
                    value = (field.text or "").strip()
                else:
                    continue
                if value and local(field.tag) != "ObjectRef":
                    yield Block(text=f"{local(field.tag)}: {value}", location=location, kind="metadata")

    def attachments(self, part: str, index: str | None) -> Iterator[Block]:
        found = self._parse(part, index)
        if found is None:
            return
        index_part, root = found
        for attachment in _children(root, "Attachment"):
            loc = (_child_text(attachment, "FileLoc") or "").strip()
            if not loc:
                continue
            member = self.pkg.find(self.pkg.resolve(index_part, loc)) or self.pkg.find(loc)
            if member is None:
                continue
            name = attachment.get("Name") or posixpath.basename(member)
            if "." not in name and attachment.get("Format"):
                name = f"{name}.{attachment.get('Format')}"
            yield from self.ctx.extract_child(name, self.pkg.read_member(member))


@register
class OfdExtractor(Extractor):
    """OFD documents and e-invoices (GB/T 33190-2016)."""

    name = "ofd"
    extensions = (".ofd",)
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return "OFD.xml" in source.zip_names

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        with Package(source, ctx) as pkg:
            if pkg.find("OFD.xml") is None:
                raise CorruptDocumentError(f"{source.name}: OFD package without OFD.xml; the file is damaged")
            yield from _Ofd(pkg, ctx).blocks()
