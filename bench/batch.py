"""Batch scanning at scale: files/s with 1 and 2 workers, the incremental run's cost, peak memory.

Generates (once, then reuses) a tree of mixed files — text, DOCX and XLSX zipped from minimal XML,
PDFs from reportlab with a CJK font, and a share of corrupt files — then, all in one run:

1. ``midian scan TREE --state db1 --workers 1``: files/s with one worker;
2. ``midian scan TREE --state db2 --workers 2``: files/s with two workers;
3. the same command again, nothing changed: its time as a ratio of run 2 (target <= 0.05);
4. again after editing 1% of the files: time and files rescanned;

sampling the whole process tree's memory (psutil, every 0.2 s: sum of RSS, and of PSS, which counts
pages shared by forked workers once). Timings are wall-clock of the command, start-up included; CPU
seconds of the whole tree (getrusage of reaped children) show the work done when other processes
share the machine.

    python bench/batch.py [--files 10000] [--out bench/out/batch]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

import psutil

REPO = Path(__file__).resolve().parent.parent

SECRET_ZH = [
    "B线HX-{n}外壳缩痕问题：注射压力分四段调整为 {a}/{b}/64/40 MPa，保压 6.{d} s，模温前模 {c} ℃、后模 58 ℃。",
    "客户{co}年用量{big}件，单价{p}元，最低可以给到{q}元，再低就不做了，咱们成本在{r}左右。",
    "配方：环氧树脂 {a} 份、固化剂 {d} 份、硅微粉 {c} 份，搅拌 {b} 分钟后在 {c}0 ℃ 固化。",
    "内部资料 注意保密。{co}投标报价 {big} 元，底价 {q} 万元，不得外传。",
    "2024年薪酬调整：高级工程师月薪 {a}k-{b}k，总监年薪 {big} 元，请勿转发。",
]
SECRET_EN = [
    "CONFIDENTIAL - INTERNAL ONLY. Our bid for project {n}: we will quote {p}M USD, our floor is {q}M; margin {d}%.",
    "Supplier {co2} agreed to a unit cost of ${p} for {big} units; do not disclose the rebate of {d}%.",
]
PUBLIC = [
    "中华人民共和国反不正当竞争法第九条规定，经营者不得实施下列侵犯商业秘密的行为。",
    "下周三组织消防演练，请各部门提前安排人员，演练时间约 {d}0 分钟。",
    "今天天气很好，我们去公园散步，看到了 {a} 只白鹭。",
    "The quarterly newsletter is out: read about our volunteering day and the new cafeteria menu.",
    "Trade secret law protects information that derives value from not being generally known (Wikipedia).",
    "本公司产品目录第 {n} 版已发布，公开报价请见官网。",
]
COMPANIES = ["华东精密", "南方机电", "北辰化工", "远航物流", "金石材料"]
COMPANIES_EN = ["Acme Metals", "Northwind", "Globex", "Initech"]


def sentence(rng: random.Random, secret: bool) -> str:
    pool = (SECRET_ZH + SECRET_EN) if secret else PUBLIC
    return rng.choice(pool).format(
        n=rng.randint(100, 999), a=rng.randint(60, 99), b=rng.randint(40, 80), c=rng.randint(10, 90), d=rng.randint(1, 9),
        p=f"{rng.uniform(1, 20):.2f}", q=f"{rng.uniform(1, 20):.2f}", r=f"{rng.uniform(1, 9):.2f}",
        big=rng.randint(10_000, 900_000), co=rng.choice(COMPANIES), co2=rng.choice(COMPANIES_EN))


def paragraphs(rng: random.Random) -> list[str]:
    secret = rng.random() < 0.3
    lines = [sentence(rng, False) for _ in range(rng.randint(3, 12))]
    if secret:
        for _ in range(rng.randint(1, 3)):
            lines.insert(rng.randrange(len(lines) + 1), sentence(rng, True))
    return lines


# --- formats, written without office libraries ---------------------------------------------------

_DOCX_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
               '<Default Extension="xml" ContentType="application/xml"/>'
               '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_DOCX_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
_XLSX_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
               '<Default Extension="xml" ContentType="application/xml"/>'
               '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
               '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_XLSX_RELS = _DOCX_RELS.replace("word/document.xml", "xl/workbook.xml")
_XLSX_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                  'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="报价" sheetId="1" r:id="rId1"/></sheets></workbook>')
_XLSX_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def docx(lines: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(t)}</w:t></w:r></w:p>" for t in lines)
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{body}</w:body></w:document>")
    return _zip({"[Content_Types].xml": _DOCX_TYPES, "_rels/.rels": _DOCX_RELS, "word/document.xml": document})


def xlsx(rng: random.Random, lines: list[str]) -> bytes:
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>客户</t></is></c><c r="B1" t="inlineStr"><is><t>单价(元)</t></is></c>'
            '<c r="C1" t="inlineStr"><is><t>备注</t></is></c></row>']
    for i, text in enumerate(lines, start=2):
        rows.append(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{escape(rng.choice(COMPANIES))}</t></is></c>'
                    f'<c r="B{i}"><v>{rng.uniform(1, 99):.2f}</v></c><c r="C{i}" t="inlineStr"><is><t>{escape(text)}</t></is></c></row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{''.join(rows)}</sheetData></worksheet>")
    return _zip({"[Content_Types].xml": _XLSX_TYPES, "_rels/.rels": _XLSX_RELS, "xl/workbook.xml": _XLSX_WORKBOOK,
                 "xl/_rels/workbook.xml.rels": _XLSX_WB_RELS, "xl/worksheets/sheet1.xml": sheet})


def _zip(parts: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def pdf(lines: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 10)
    y = 780
    for text in lines:
        for start in range(0, len(text), 48):  # CJK wraps by characters
            c.drawString(60, y, text[start:start + 48])
            y -= 15
            if y < 60:
                c.showPage()
                c.setFont("STSong-Light", 10)
                y = 780
    c.showPage()
    c.save()
    return buf.getvalue()


def generate(root: Path, count: int, seed: int = 7) -> Counter[str]:
    """Write ``count`` files under ``root`` (50 folders); returns counts by kind."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    for i in range(count):
        folder = root / f"dept{i % 10}" / f"project{i % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = paragraphs(rng)
        roll = rng.random()
        if roll < 0.40:
            kind, name, data = "txt", f"note{i:05d}.txt", "\n".join(lines).encode("utf-8")
        elif roll < 0.60:
            kind, name, data = "docx", f"memo{i:05d}.docx", docx(lines)
        elif roll < 0.80:
            kind, name, data = "xlsx", f"sheet{i:05d}.xlsx", xlsx(rng, lines)
        elif roll < 0.95:
            kind, name, data = "pdf", f"report{i:05d}.pdf", pdf(lines)
        else:  # corrupt: truncated containers, or noise under an office name
            kind = "corrupt"
            choice = rng.randrange(3)
            if choice == 0:
                name, data = f"broken{i:05d}.docx", docx(lines)[: rng.randint(20, 200)]
            elif choice == 1:
                name, data = f"broken{i:05d}.pdf", pdf(lines)[: rng.randint(50, 400)]
            else:
                name, data = f"broken{i:05d}.xlsx", rng.randbytes(rng.randint(100, 3000))
        (folder / name).write_bytes(data)
        kinds[kind] += 1
    return kinds


# --- measuring -----------------------------------------------------------------------------------

class TreeMemory:
    """Peak memory of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    info = p.memory_full_info()
                    rss += info.rss
                    pss += getattr(info, "pss", info.rss)
                except psutil.Error:
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, len(procs))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def scan(tree: Path, db: Path, workers: int, label: str, *extra: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "scanner", "scan", str(tree), "--state", str(db), "--workers", str(workers),
           "--no-registry", "--format", "jsonl", "--output", os.devnull, *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid)
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    memory.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every descendant, reaped by its parent
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"{label}: midian scan failed ({proc.returncode}):\n{err}")
    summary = next((line for line in err.splitlines() if line.startswith(f"midian: state {db}")), "")
    print(f"  {label:<34} {elapsed:8.1f} s  CPU {cpu:7.1f} s   peak RSS {memory.peak_rss / 2**20:5.0f} MiB "
          f"(PSS {memory.peak_pss / 2**20:4.0f} MiB, {memory.peak_processes} processes)")
    print(f"  {'':<34} {summary.removeprefix(f'midian: state {db}: ')}")
    return {"elapsed": elapsed, "cpu": cpu, "rss": memory.peak_rss, "pss": memory.peak_pss}


def statuses(db: Path) -> dict[str, dict[str, int]]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT result FROM files").fetchall()
    by: dict[str, Counter[str]] = {}
    for (text,) in rows:
        r = json.loads(text)
        ext = os.path.splitext(r["path"])[1].lstrip(".")
        kind = "corrupt" if "broken" in os.path.basename(r["path"]) else ext
        by.setdefault(kind, Counter())[r["status"] if r["status"] != "ok" else r["verdict"]] += 1
    return {k: dict(v) for k, v in sorted(by.items())}


def edit_some(tree: Path, share: float, seed: int = 11) -> int:
    rng = random.Random(seed)
    edited = 0
    for path in sorted(tree.rglob("note*.txt")):
        if rng.random() < share * 2.5:  # txt files are 40% of the tree
            with path.open("a", encoding="utf-8") as fh:
                fh.write("\n" + sentence(rng, rng.random() < 0.5))
            edited += 1
    return edited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "batch")
    args = parser.parse_args()

    tree = args.out / f"tree-{args.files}"
    marker = args.out / f"tree-{args.files}.complete"
    if not marker.exists():
        shutil.rmtree(tree, ignore_errors=True)
        started = time.perf_counter()
        kinds = generate(tree, args.files)
        marker.write_text(json.dumps(kinds))
        print(f"generated {args.files} files in {time.perf_counter() - started:.1f} s: {dict(kinds)}")
    else:
        print(f"reusing {tree}: {json.loads(marker.read_text())}")
    size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    print(f"tree: {tree} ({size / 1e6:.1f} MB), {os.cpu_count()} CPU core(s), load average {os.getloadavg()[0]:.1f}\n")

    for db in args.out.glob("state-*.db*"):
        db.unlink()
    one = scan(tree, args.out / "state-1.db", 1, "first run, 1 worker")
    two = scan(tree, args.out / "state-2.db", 2, "first run, 2 workers")
    again = scan(tree, args.out / "state-2.db", 2, "second run, nothing changed")
    edited = edit_some(tree, 0.01)
    changed = scan(tree, args.out / "state-2.db", 2, f"third run, {edited} files edited")
    marker.unlink()  # the tree was edited: the next bench regenerates it

    n = args.files
    print("\nresults by kind (status, or verdict when ok):")
    for kind, counts in statuses(args.out / "state-2.db").items():
        print(f"  {kind:<8} {counts}")
    print(f"\nfiles/s, 1 worker:   {n / one['elapsed']:8.1f}   ({n / one['cpu']:.1f} files per CPU second)")
    print(f"files/s, 2 workers:  {n / two['elapsed']:8.1f}   ({n / two['cpu']:.1f} files per CPU second; "
          f"speed-up {one['elapsed'] / two['elapsed']:.2f}x)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} core(s) (other work shares the CPUs)")
    ratio = again["elapsed"] / two["elapsed"]
    print(f"incremental run / first run: {ratio:.4f}   (target <= 0.05: {'met' if ratio <= 0.05 else 'NOT met'})")
    print(f"after editing {edited} files: {changed['elapsed']:.1f} s ({changed['elapsed'] / two['elapsed']:.3f} of the first run)")
    peak = max(one, two, again, changed, key=lambda m: m["rss"])
    print(f"peak memory of the process tree: RSS {peak['rss'] / 2**20:.0f} MiB, PSS {max(m['pss'] for m in (one, two, again, changed)) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
