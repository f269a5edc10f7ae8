"""Extraction speed and memory: Midian next to the raw libraries, measured in the same run.

Run from the repository root::

    python bench/extract.py                 # generated documents, about a minute on 2 cores
    python bench/extract.py --pdf some.pdf  # time your own PDF instead of the generated one
    python bench/extract.py --ocr           # also time OCR (needs the ocr extra)

Prints pages/s for PDF (Midian, each of its engines, and raw pdfplumber ``page.extract_text()`` over the
same file), files/s for DOCX/XLSX/PPTX (Midian's ``extract_path`` next to python-docx, openpyxl and
python-pptx reading all text of the same files), and resident memory over 1,000 extractions. Targets
(issue 2): PDF text at least 20x raw pdfplumber, OOXML at least 5x the python-docx family, memory flat.
Needs the ``bench`` extra (python-docx, openpyxl, python-pptx, reportlab).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scanner.extraction import extract_bytes, extract_path, registered  # noqa: E402
from scanner.settings import Settings  # noqa: E402

MiB = 1024 * 1024

ZH_SENTENCES = [
    "本报告涉及公司核心工艺参数，保温时间为{n}小时，毛利率控制在{p}%以内。",
    "客户名单与报价单仅供内部参考，请勿外传给供应商或其他第三方。",
    "华东精密的单价最低放到{price}元，再低就不做了，咱们成本在{cost}左右。",
    "新产线的良率目标为百分之{p}，设备投资回收期按{n}年测算。",
    "以上数据来自研发中心第{n}轮试验，结论尚未对外发布。",
]
EN_SENTENCES = [
    "This quarterly review summarises pricing floors, supplier terms and the process window for line {n}.",
    "Distribution is limited to the project team; the figures are not final.",
    "The coating holds at {p} degrees for {n} hours before the second pass.",
]


def sentence(rng: random.Random, pool: list[str]) -> str:
    return rng.choice(pool).format(n=rng.randint(2, 9), p=rng.randint(10, 40), price=f"{rng.randint(5, 9)},{rng.randint(100, 999)}",
                                   cost=f"{rng.randint(4, 8)},{rng.randint(100, 999)}")


def paragraph(rng: random.Random, zh: bool, count: int = 4) -> str:
    return ("" if zh else " ").join(sentence(rng, ZH_SENTENCES if zh else EN_SENTENCES) for _ in range(count))


# --- documents ------------------------------------------------------------------------------


def make_pdf(path: Path, pages: int, seed: int = 1) -> None:
    """A zh/en PDF in the non-embedded CID font STSong-Light, with a ruled table every tenth page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    zh = ParagraphStyle("zh", fontName="STSong-Light", fontSize=10.5, leading=15, wordWrap="CJK", spaceAfter=8)
    en = ParagraphStyle("en", fontName="Helvetica", fontSize=10.5, leading=14, spaceAfter=8)
    rng = random.Random(seed)
    story: list = []
    for page in range(pages):
        story.append(Paragraph(f"第{page + 1}章 技术方案与报价 Chapter {page + 1}", zh))
        for _ in range(4):
            story.append(Paragraph(paragraph(rng, True), zh))
            story.append(Paragraph(paragraph(rng, False, 2), en))
        if page % 10 == 5:
            table = Table([["料号", "单价（元）", "客户"], ["A-100", "8,650", "华东精密"], ["B-200", "9,100", "南方材料"]])
            table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                                       ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
            story.append(table)
        story.append(PageBreak())
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build(story)


def make_docx(path: Path, rng: random.Random) -> None:
    import docx

    document = docx.Document()
    document.add_heading("技术方案与报价", level=1)
    for _ in range(8):
        document.add_paragraph(paragraph(rng, rng.random() < 0.7))
    table = document.add_table(rows=6, cols=4)
    for row in table.rows:
        for cell in row.cells:
            cell.text = sentence(rng, ZH_SENTENCES)[:12]
    document.sections[0].header.paragraphs[0].text = "内部资料 严禁外传"
    document.save(path)


def make_xlsx(path: Path, rng: random.Random) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    for s, title in enumerate(("报价", "客户", "成本")):
        sheet = workbook.active if s == 0 else workbook.create_sheet()
        sheet.title = title
        sheet.append(["料号", "客户", "单价", "备注"])
        for r in range(60):
            sheet.append([f"A-{r:03d}", rng.choice(["华东精密", "南方材料", "北方机械"]), rng.randint(5000, 9999),
                          sentence(rng, ZH_SENTENCES)[:20]])
    workbook.save(path)


def make_pptx(path: Path, rng: random.Random) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for s in range(6):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"第{s + 1}页 报价策略"
        slide.placeholders[1].text = paragraph(rng, True, 2)
        if s % 2:
            shape = slide.shapes.add_table(3, 3, Inches(1), Inches(4), Inches(6), Inches(1.5))
            for row in shape.table.rows:
                for cell in row.cells:
                    cell.text = sentence(rng, EN_SENTENCES)[:16]
        slide.notes_slide.notes_text_frame.text = "讲者备注：底价不要提。"
    deck.save(path)


# --- baselines: the python-docx family reading all text --------------------------------------


def docx_text(path: Path) -> int:
    import docx

    document = docx.Document(path)
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return sum(map(len, parts))


def xlsx_text(path: Path) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    size = sum(len(str(v)) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
               for v in row if v is not None)
    workbook.close()
    return size


def pptx_text(path: Path) -> int:
    from pptx import Presentation

    size = 0
    for slide in Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                size += len(shape.text_frame.text)
            if shape.has_table:
                size += sum(len(cell.text) for row in shape.table.rows for cell in row.cells)
        if slide.has_notes_slide:
            size += len(slide.notes_slide.notes_text_frame.text)
    return size


def pdfplumber_text(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return sum(len(page.extract_text() or "") for page in pdf.pages)


def pdfium_text(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    size = 0
    for page in pdf:
        textpage = page.get_textpage()
        size += len(textpage.get_text_range())
        textpage.close()
        page.close()
    pdf.close()
    return size


def pdftotext_text(path: Path) -> int:
    return len(subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout)


# --- measuring --------------------------------------------------------------------------------


def best_time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cpu_time(fn: Callable[[], object]) -> float:
    """CPU seconds of one run, this process and its children (pdftotext) together."""
    def used() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    gc.collect()
    start = used()
    fn()
    return used() - start


def midian(path: Path, settings: Settings) -> tuple[str, int]:
    result = extract_bytes(path.name, path.read_bytes(), settings=settings)
    return result.status, sum(len(b.text) for b in result.blocks)


def _midian_half(args: tuple[bytes, bool]) -> int:
    data, pdftotext = args
    return len(extract_bytes("half.pdf", data, settings=Settings(pdftotext=pdftotext, ocr=False)).blocks)


def split_halves(path: Path) -> list[bytes]:
    import io

    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(path)
    count = len(source)
    halves = []
    for pages in (range(0, count // 2), range(count // 2, count)):
        half = pdfium.PdfDocument.new()
        half.import_pages(source, list(pages))
        buffer = io.BytesIO()
        half.save(buffer)
        halves.append(buffer.getvalue())
    return halves


def bench_pdf(path: Path, repeat: int, skip_pdfplumber: bool) -> None:
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(path))
    print(f"\nPDF: {path.name}, {pages} pages, {path.stat().st_size // 1024} KiB")
    rows: list[tuple[str, float, float, str]] = []  # name, best wall seconds, CPU seconds of one run, note

    def measure(name: str, fn: Callable[[], object], note: str) -> None:
        rows.append((name, best_time(fn, repeat), cpu_time(fn), note))

    poppler = shutil.which("pdftotext") is not None
    for label, settings in ((f"Midian ({'pdftotext' if poppler else 'PDFium'} text + PDFium survey)", Settings(ocr=False)),
                            ("Midian (PDFium only: no poppler on PATH)", Settings(ocr=False, pdftotext=False))):
        status, chars = midian(path, settings)
        measure(label, lambda settings=settings: midian(path, settings), f"{status}, {chars} chars")
    halves = split_halves(path)
    with ProcessPoolExecutor(2) as pool:
        for flag in (True, False):
            list(pool.map(_midian_half, [(h, flag) for h in halves]))  # warm the workers
            seconds = best_time(lambda flag=flag: list(pool.map(_midian_half, [(h, flag) for h in halves])), repeat)
            rows.append((f"  same, pages split over 2 processes ({'pdftotext' if flag else 'PDFium'})", seconds, float("nan"),
                         "halves pre-split, split cost not counted"))
    measure("raw pypdfium2 get_text_range()", lambda: pdfium_text(path), f"{pdfium_text(path)} chars")
    if poppler:
        measure("raw pdftotext (plain text)", lambda: pdftotext_text(path), f"{pdftotext_text(path)} bytes")
    wall = cpu = None
    if not skip_pdfplumber:  # one run, timed both ways: it is slow
        start = time.perf_counter()
        cpu = cpu_time(lambda: pdfplumber_text(path))
        wall = time.perf_counter() - start
        rows.append(("raw pdfplumber page.extract_text()", wall, cpu, f"{pdfplumber_text(path)} chars (1 run)"))
    print(f"{'engine':<58} {'seconds':>8} {'pages/s':>8} {'ratio':>6} {'CPU s':>6} {'CPU ratio':>9}  note")
    for name, seconds, used, note in rows:
        ratio = f"{wall / seconds:.1f}x" if wall else "-"
        cpu_ratio = f"{cpu / used:.1f}x" if cpu and used == used else "-"
        used_text = f"{used:.2f}" if used == used else "-"
        print(f"{name:<58} {seconds:8.3f} {pages / seconds:8.0f} {ratio:>6} {used_text:>6} {cpu_ratio:>9}  {note}")
    if wall and cpu:
        ours = rows[0]
        print(f"target: Midian >= 20x pdfplumber -> {'met' if wall / ours[1] >= 20 else 'NOT met'} "
              f"({wall / ours[1]:.1f}x wall clock, {cpu / ours[2]:.1f}x CPU time)")


def bench_ooxml(folder: Path, count: int, repeat: int) -> dict[str, list[Path]]:
    rng = random.Random(7)
    files: dict[str, list[Path]] = {}
    makers = {"docx": (make_docx, docx_text, "python-docx"), "xlsx": (make_xlsx, xlsx_text, "openpyxl"),
              "pptx": (make_pptx, pptx_text, "python-pptx")}
    print(f"\nOOXML: {count} generated files per format")
    print(f"{'format':<8} {'Midian files/s':>15} {'baseline files/s':>17} {'ratio':>7}  baseline      Midian status")
    settings = Settings(ocr=False)
    for ext, (make, baseline, library) in makers.items():
        paths = []
        for i in range(count):
            path = folder / f"doc{i:03d}.{ext}"
            make(path, rng)
            paths.append(path)
        files[ext] = paths
        statuses = {extract_path(p, settings=settings).status for p in paths}
        base = best_time(lambda baseline=baseline, paths=paths: [baseline(p) for p in paths], repeat)
        if statuses == {"ok"}:
            ours = best_time(lambda paths=paths: [extract_path(p, settings=settings) for p in paths], repeat)
            ratio = base / ours
            print(f"{ext.upper():<8} {count / ours:15.0f} {count / base:17.0f} {ratio:6.1f}x  {library:<13} ok "
                  f"(target >= 5x: {'met' if ratio >= 5 else 'NOT met'})")
        else:
            print(f"{ext.upper():<8} {'-':>15} {count / base:17.0f} {'-':>7}  {library:<13} {'/'.join(sorted(statuses))} "
                  "(no extractor for this format on this branch yet)")
    return files


def rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def peak_rss() -> int:
    """The process's resident high-water mark (VmHWM: unlike ru_maxrss it does not carry over an exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_run(paths: list[Path], total: int) -> list[str]:
    """Extract ``total`` files in this (fresh) process; report resident memory at a few points."""
    settings = Settings(ocr=False)
    lines = []
    marks = {10, 100, 500, total}
    for i in range(1, total + 1):
        extract_path(paths[i % len(paths)], settings=settings)
        if i in marks:
            lines.append(f"  after {i:>5} files: RSS {rss() / MiB:7.1f} MiB, peak so far {peak_rss() / MiB:7.1f} MiB")
    return lines


def bench_memory(paths: list[Path], total: int) -> None:
    import multiprocessing

    print(f"\nMemory: {total} extractions in a fresh process, cycling over {len(paths)} files "
          f"({', '.join(sorted({p.suffix for p in paths}))})")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for line in pool.submit(memory_run, paths, total).result():
            print(line)


def bench_ocr(repeat: int) -> None:
    from scanner.extraction import ocr

    if not ocr.installed():
        print("\nOCR: the ocr extra is not installed (pip install 'midian[ocr]')")
        return
    start = time.perf_counter()
    ocr.engine()
    print(f"\nOCR (RapidOCR): engine loaded in {time.perf_counter() - start:.2f} s (once per process)")
    settings = Settings()
    for path in (REPO / "tests/data/image/scan_zh.png", REPO / "tests/data/pdf/scanned_page.pdf"):
        seconds = best_time(lambda path=path: extract_path(path, settings=settings), repeat)
        text = " / ".join(b.text for b in extract_path(path, settings=settings).blocks if "ocr" in b.flags)
        print(f"  {path.name:<20} {seconds:6.2f} s  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, help="PDF to time (default: a generated zh/en CID-font PDF)")
    parser.add_argument("--pages", type=int, default=200, help="pages of the generated PDF")
    parser.add_argument("--files", type=int, default=20, help="generated files per OOXML format")
    parser.add_argument("--memory-files", type=int, default=1000, help="extractions for the memory check")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the best is kept)")
    parser.add_argument("--skip-pdfplumber", action="store_true", help="skip the slow pdfplumber baseline")
    parser.add_argument("--ocr", action="store_true", help="also time OCR of a scanned page and a picture")
    args = parser.parse_args()
    print(f"Midian extraction bench: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"pdftotext {'on PATH' if shutil.which('pdftotext') else 'absent'}, extractors: {', '.join(registered())}")
    with tempfile.TemporaryDirectory(prefix="midian-bench-") as tmp:
        folder = Path(tmp)
        pdf = args.pdf
        if pdf is None:
            pdf = folder / f"zh_en_{args.pages}_pages.pdf"
            make_pdf(pdf, args.pages)
        bench_pdf(pdf, args.repeat, args.skip_pdfplumber)
        files = bench_ooxml(folder, args.files, args.repeat)
        small_pdfs = []
        for i in range(5):
            small = folder / f"small{i}.pdf"
            make_pdf(small, 2, seed=100 + i)
            small_pdfs.append(small)
        mix = small_pdfs + [p for paths in files.values() for p in paths[:5]]
        bench_memory(mix, args.memory_files)
    if args.ocr:
        bench_ocr(args.repeat)


if __name__ == "__main__":
    main()
