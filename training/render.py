"""Render corpus documents into real files (DOCX, XLSX, PPTX, PDF, EML, HTML, TXT, MD, CSV) plus a labels file.

Evaluation on rendered files goes through Midian's real extraction, so a model is measured by format,
the way users meet it. ``python -m training.render SRC_DIR OUT_DIR`` writes one file per document and
``OUT_DIR/labels.jsonl`` for ``midian eval OUT_DIR/labels.jsonl OUT_DIR``.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import sys
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scanner.taxonomy import SUBSTANTIVE

from .corpus import CorpusDocument, iter_documents

EXTENSIONS = {"txt": ".txt", "md": ".md", "docx": ".docx", "xlsx": ".xlsx", "pptx": ".pptx", "pdf": ".pdf",
              "eml": ".eml", "html": ".html", "csv": ".csv"}


def _rows(block: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    table = block["table"]
    header = [str(c) for c in table.get("header") or []]
    rows = []
    for row in table.get("rows") or []:
        cells = row.get("cells", []) if isinstance(row, dict) else row
        rows.append(["" if c is None else str(c) for c in cells])
    return header, rows


def _text(block: dict[str, Any]) -> str:
    return str(block.get("heading") or block.get("text") or "").strip()


def plain_text(doc: CorpusDocument) -> str:
    parts = []
    for block in doc.blocks:
        if "table" in block:
            header, rows = _rows(block)
            parts.append("\n".join("\t".join(r) for r in ([header] if header else []) + rows))
        else:
            parts.append(_text(block))
    return "\n\n".join(p for p in parts if p)


def render_txt(doc: CorpusDocument, path: Path) -> None:
    path.write_text(plain_text(doc) + "\n", encoding="utf-8")


def render_md(doc: CorpusDocument, path: Path) -> None:
    parts = []
    for block in doc.blocks:
        if "table" in block:
            header, rows = _rows(block)
            width = max([len(header)] + [len(r) for r in rows] + [1])
            header = header or [""] * width
            lines = ["| " + " | ".join(c.replace("|", "/") for c in header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
            parts.append("\n".join(lines))
        elif "heading" in block:
            parts.append("## " + _text(block))
        else:
            parts.append(_text(block))
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def render_csv(doc: CorpusDocument, path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for block in doc.blocks:
        if "table" in block:
            header, rows = _rows(block)
            if header:
                writer.writerow(header)
            writer.writerows(rows)
        elif _text(block):
            writer.writerow([_text(block)])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def render_html(doc: CorpusDocument, path: Path) -> None:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(doc.title)}</title></head><body>"]
    for block in doc.blocks:
        if "table" in block:
            header, rows = _rows(block)
            parts.append("<table>")
            if header:
                parts.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
            parts.append("</table>")
        elif "heading" in block:
            parts.append(f"<h2>{html.escape(_text(block))}</h2>")
        else:
            parts += [f"<p>{html.escape(p)}</p>" for p in _text(block).split("\n\n") if p.strip()]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def render_eml(doc: CorpusDocument, path: Path) -> None:
    msg = EmailMessage()
    meta = doc.meta
    msg["From"] = str(meta.get("from") or "sender@example.com")
    msg["To"] = str(meta.get("to") or "recipient@example.com")
    if meta.get("cc"):
        msg["Cc"] = str(meta["cc"])
    msg["Subject"] = str(meta.get("subject") or doc.title or doc.id)
    date = meta.get("date")
    msg["Date"] = str(date) if date else format_datetime(datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc))
    msg.set_content(plain_text(doc))
    path.write_bytes(bytes(msg))


def render_docx(doc: CorpusDocument, path: Path) -> None:
    import docx

    document = docx.Document()
    section = document.sections[0]
    for block in doc.blocks:
        part = block.get("part")
        if part in ("header", "footer") and "table" not in block:
            target = section.header if part == "header" else section.footer
            target.paragraphs[0].text = (target.paragraphs[0].text + " " + _text(block)).strip()
        elif "table" in block:
            header, rows = _rows(block)
            width = max([len(header)] + [len(r) for r in rows] + [1])
            table = document.add_table(rows=0, cols=width)
            for r in ([header] if header else []) + rows:
                cells = table.add_row().cells
                for j, value in enumerate(r[:width]):
                    cells[j].text = value
        elif "heading" in block:
            document.add_heading(_text(block), level=2)
        else:
            for para in _text(block).split("\n\n"):
                document.add_paragraph(para)
    document.core_properties.title = doc.title
    document.save(str(path))


def render_xlsx(doc: CorpusDocument, path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    sheets: dict[str, Any] = {}

    def sheet_for(name: str | None) -> Any:
        key = str(name or "Sheet1")[:31]
        for bad in "[]:*?/\\":
            key = key.replace(bad, "_")
        if key not in sheets:
            if not sheets:
                first.title = key
                sheets[key] = first
            else:
                sheets[key] = workbook.create_sheet(key)
        return sheets[key]

    current = None
    for block in doc.blocks:
        ws = sheet_for(block.get("sheet") or current)
        current = ws.title
        if "table" in block:
            header, rows = _rows(block)
            if ws.max_row > 1 or ws.cell(1, 1).value is not None:
                ws.append([])
            for r in ([header] if header else []) + rows:
                ws.append([_cell_value(c) for c in r])
        else:
            ws.append([_text(block)])
    workbook.save(str(path))


def _cell_value(text: str) -> Any:
    try:
        number = float(text.replace(",", "")) if text and text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit() else None
    except ValueError:
        number = None
    if number is not None and "," not in text and not (text.startswith("0") and len(text) > 1 and "." not in text):
        return int(number) if number.is_integer() and "." not in text else number
    return text


def render_pptx(doc: CorpusDocument, path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    layout = prs.slide_layouts[6]  # blank
    slides: dict[int, Any] = {}
    y: dict[int, float] = {}
    current = 1
    for block in doc.blocks:
        number = int(block.get("slide") or current)
        current = number
        slide = slides.get(number)
        if slide is None:
            slide = slides[number] = prs.slides.add_slide(layout)
            y[number] = 0.4
        if block.get("part") == "notes":
            notes = slide.notes_slide.notes_text_frame
            notes.text = (notes.text + "\n" + _text(block)).strip()
            continue
        if "table" in block:
            header, rows = _rows(block)
            all_rows = ([header] if header else []) + rows
            width = max([len(r) for r in all_rows] + [1])
            shape = slide.shapes.add_table(len(all_rows) or 1, width, Inches(0.4), Inches(y[number]), Inches(9), Inches(0.3 * len(all_rows)))
            for i, r in enumerate(all_rows):
                for j, value in enumerate(r[:width]):
                    shape.table.cell(i, j).text = value
            y[number] += 0.35 * len(all_rows) + 0.2
        else:
            box = slide.shapes.add_textbox(Inches(0.4), Inches(y[number]), Inches(9), Inches(0.8))
            box.text_frame.word_wrap = True
            box.text_frame.text = _text(block)
            if "heading" in block:
                box.text_frame.paragraphs[0].runs[0].font.size = Pt(24)
            y[number] += 0.9
    if not slides:
        prs.slides.add_slide(layout)
    prs.save(str(path))


def render_pdf(doc: CorpusDocument, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10.5, leading=15, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=20, spaceAfter=6)
    story: list[Any] = []
    footer = " ".join(_text(b) for b in doc.blocks if b.get("part") == "footer")
    for block in doc.blocks:
        if block.get("part") == "footer" and "table" not in block:
            continue
        if "table" in block:
            header, rows = _rows(block)
            data = [[Paragraph(html.escape(c), body) for c in r] for r in ([header] if header else []) + rows]
            if data:
                story.append(Table(data, repeatRows=1 if header else 0, style=[("GRID", (0, 0), (-1, -1), 0.5, "grey")]))
        else:
            style = head if "heading" in block else body
            for para in _text(block).split("\n\n"):
                story.append(Paragraph(html.escape(para).replace("\n", "<br/>"), style))
        story.append(Spacer(1, 6))

    def on_page(canvas: Any, _doc: Any) -> None:
        if footer:
            canvas.setFont("STSong-Light", 8)
            canvas.drawString(40, 20, footer[:120])

    SimpleDocTemplate(str(path), pagesize=A4, title=doc.title).build(story, onFirstPage=on_page, onLaterPages=on_page)


RENDERERS = {"txt": render_txt, "md": render_md, "csv": render_csv, "html": render_html, "eml": render_eml,
             "docx": render_docx, "xlsx": render_xlsx, "pptx": render_pptx, "pdf": render_pdf}


def label_record(doc: CorpusDocument, relpath: str) -> dict[str, Any]:
    passages = [{"text": p.text, "category": p.category} for p in doc.passages() if p.category in SUBSTANTIVE]
    return {
        "path": relpath,
        "label": doc.label,
        "categories": sorted({p["category"] for p in passages}),
        "lang": doc.lang,
        "difficulty": doc.difficulty,
        "format": doc.render,
        "kind": doc.kind,
        "secret_passages": passages,
    }


def render_all(docs: Iterable[CorpusDocument], out: Path, formats: dict[str, str] | None = None) -> Path:
    """Render ``docs`` into ``out`` (optionally overriding formats by id) and write ``labels.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    labels = out / "labels.jsonl"
    with labels.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fmt = (formats or {}).get(doc.id, doc.render)
            name = doc.id + EXTENSIONS[fmt]
            RENDERERS[fmt](doc, out / name)
            record = label_record(doc, name)
            record["format"] = fmt
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.render", description=__doc__)
    parser.add_argument("source", type=Path, help="a corpus directory of YAML documents")
    parser.add_argument("out", type=Path)
    parser.add_argument("--format", choices=sorted(RENDERERS), help="render every document in this format")
    args = parser.parse_args(argv)
    docs = list(iter_documents(args.source))
    formats = {d.id: args.format for d in docs} if args.format else None
    labels = render_all(docs, args.out, formats)
    print(f"{len(docs)} documents rendered into {args.out}; labels in {labels}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
