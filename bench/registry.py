"""The secret registry on real public text: recall on edited excerpts in DOCX/PDF/XLSX, false matches, lookup cost.

    python bench/registry.py [--excerpts 900] [--negatives 10000] [--sizes 1000,10000,100000] [--shared DIR]

Reads PRC laws, THUCNews, FewCLUE, English Wikipedia and AG News from ../shared/data (override with
MIDIAN_SHARED_DATA; exits cleanly when absent) and:

1. registers 1,000 real documents (300 laws, 250 news, 150 FewCLUE abstracts/descriptions, 250
   Wikipedia articles, 50 AG News items) in a fresh registry;
2. builds outbound files from excerpts of them, 50–300 characters: sentences reordered, up to 15%
   of characters edited (substituted, inserted, deleted), traditional characters (half of the
   Chinese ones), full-width or half-width forms, punctuation and whitespace changed, embedded in
   unrelated real text, saved as DOCX, PDF (reportlab, STSong-Light) or XLSX; reads them back through
   Midian's extractors and segmenter and asks the registry — recall by length, format, language
   and edit rate;
3. asks the registry about 10,000 passages of real documents that were not registered: every match
   is listed, split into matches on passages that really share a run of ≥ 20 letters/digits with
   the matched registered document (other versions of the same law, quotations, news boilerplate)
   and false matches (no such run);
4. times the lookup per scanned page (~1,800 characters, already segmented) with 1k, 10k and 100k
   registered documents (the extra documents are real text cut into ~200-character pieces) and
   prints them side by side, with the registry's size on disk per document.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import sys
import tempfile
import time
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.data import Block  # noqa: E402
from scanner.extraction import extract_bytes  # noqa: E402
from scanner.normalize import normalize  # noqa: E402
from scanner.registry import Registry  # noqa: E402
from scanner.registry.fingerprint import fold  # noqa: E402
from scanner.segmentation import Segmenter  # noqa: E402

PLAN = {"laws": 300, "news": 250, "fewclue": 150, "wiki": 250, "agnews": 50}
LENGTHS = (50, 80, 120, 200, 300)
FORMATS = ("docx", "pdf", "xlsx")
SHARED_RUN = 20  # folded characters a passage must share with a registered document to be "related"
PAGE_CHARS = 1800

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;.\n])")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ZH_PUNCT = "，。、；：！？“”（）《》"
_EN_PUNCT = ",.;:!?\"'()-"


# --- data ------------------------------------------------------------------------------------

def load_sources(root: Path) -> dict[str, list[tuple[str, str]]]:
    zh, en = root / "hard_negatives_zh", root / "hard_negatives_en"
    sources: dict[str, list[tuple[str, str]]] = {}
    sources["laws"] = [(d["title"], d["text"]) for d in map(json.loads, (zh / "laws/lawrefbook_national.jsonl").open(encoding="utf-8"))]
    sources["news"] = [(f"{cat} #{i}", text.strip()) for i, (cat, text) in enumerate(
        line.split("\t", 1) for line in (zh / "thucnews/cnews_1000.tsv").open(encoding="utf-8") if "\t" in line)]
    fewclue = []
    for name, key in (("csl_test_public.jsonl", "abst"), ("csldcp_test_public.jsonl", "content"), ("iflytek_test_public.jsonl", "sentence")):
        fewclue += [(f"{name} #{d.get('id')}", d[key]) for d in map(json.loads, (zh / "fewclue" / name).open(encoding="utf-8"))]
    sources["fewclue"] = fewclue
    sources["wiki"] = [(d["title"], d["text"]) for d in map(json.loads, (en / "wikipedia_en/wikipedia_en_sample.jsonl").open(encoding="utf-8"))]
    rows = csv.reader((en / "ag_news/ag_news_subset_train.csv").open(encoding="utf-8"))
    sources["agnews"] = [(r[1], r[1] + ". " + r[2].replace("\\", " ")) for r in rows if len(r) >= 3]
    for name, docs in sources.items():
        seen: set[str] = set()
        sources[name] = [d for d in docs if not (d[1] in seen or seen.add(d[1]))]  # type: ignore[func-returns-value]
    return sources


def _law_stem(title: str) -> str:
    stem = re.sub(r"[（(][^）)]*[）)]", "", title)
    return re.sub(r"^(最高人民法院|最高人民检察院|、|关于)+", "", stem)


def split(sources: dict[str, list[tuple[str, str]]], rng: random.Random) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    registered, pool = [], []
    for name, count in PLAN.items():
        docs = list(sources[name])
        rng.shuffle(docs)
        registered += [(name, *d) for d in docs[:count]]
        rest = docs[count:]
        if name == "laws":  # other versions of a registered law are not "unrelated"
            stems = {_law_stem(t) for t, _ in docs[:count]}
            rest = [d for d in rest if _law_stem(d[0]) not in stems]
        pool += [(name, *d) for d in rest]
    return registered, pool


# --- outbound files ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")


def is_prose(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= 0.7 * len(text)


def mutate(text: str, rng: random.Random, alphabet: list[str]) -> tuple[str, dict[str, object]]:
    info: dict[str, object] = {}
    parts = [p for p in _SENTENCE_END.split(text) if p]
    if len(parts) > 1:
        rng.shuffle(parts)
    info["reordered"] = len(parts) > 1
    chars = list("".join(parts))
    rate = rng.uniform(0.0, 0.15)
    info["rate"] = rate
    for _ in range(round(rate * len(chars))):
        op, i = rng.random(), rng.randrange(max(1, len(chars)))
        if op < 0.5 and chars:
            chars[i] = rng.choice(alphabet)
        elif op < 0.75:
            chars.insert(i, rng.choice(alphabet))
        elif chars:
            del chars[i]
    out = "".join(chars)
    if _CJK.search(out) and rng.random() < 0.5:
        out = _s2t().convert(out)
        info["traditional"] = True
    r = rng.random()
    if r < 0.33:
        out = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in out)
        info["width"] = "full"
    elif r < 0.66:
        out = out.translate(str.maketrans("，。；：！？（）", ",.;:!?()"))
        info["width"] = "half"
    pieces = []
    for c in out:
        if c in _ZH_PUNCT or c in _EN_PUNCT:
            x = rng.random()
            if x < 0.3:
                continue
            if x < 0.6:
                pieces.append(rng.choice(_ZH_PUNCT + _EN_PUNCT))
                continue
        if c.isspace():
            pieces.append(rng.choice(["", " ", "  ", "\t"]))
            continue
        pieces.append(c)
        if rng.random() < 0.03:
            pieces.append(rng.choice([" ", "  ", "\u3000"]))
    return "".join(pieces), info


def make_docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx(paragraphs: list[str]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "记录"
    sheet.append(["序号", "内容"])
    for i, p in enumerate(paragraphs, 1):
        sheet.append([i, p])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_pdf(paragraphs: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("body", fontName="STSong-Light", fontSize=10.5, leading=15, wordWrap="CJK", spaceAfter=6)
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build([Paragraph(escape(p), style) for p in paragraphs if p.strip()])
    return buffer.getvalue()


MAKERS = {"docx": make_docx, "pdf": make_pdf, "xlsx": make_xlsx}


def alphabet_for(text: str) -> list[str]:
    cjk = _CJK.findall(text)
    return cjk if len(cjk) > 20 else list("abcdefghijklmnopqrstuvwxyz")


def paragraphs_around(excerpt: str, filler: str, rng: random.Random) -> list[str]:
    start = rng.randrange(0, max(1, len(filler) - 700))
    before, after = filler[start : start + 350], filler[start + 350 : start + 700]
    return [p for p in (before, excerpt, after) if p.strip()]


# --- measurements -----------------------------------------------------------------------------

def measure_recall(registry: Registry, registered, pool, segmenter: Segmenter, count: int, rng: random.Random):  # type: ignore[no-untyped-def]
    rows = []
    unsupported: dict[str, str] = {}
    attempts = 0
    while len(rows) < count and attempts < count * 20:
        attempts += 1
        index = rng.randrange(len(registered))
        source, _, text = registered[index]
        length = LENGTHS[len(rows) % len(LENGTHS)]
        fmt = FORMATS[(len(rows) // len(LENGTHS)) % len(FORMATS)]
        if len(text) < length:
            continue
        start = rng.randrange(0, len(text) - length + 1)
        excerpt = text[start : start + length]
        if not is_prose(excerpt):
            continue
        filler = pool[rng.randrange(len(pool))][2]
        mutated, info = mutate(excerpt, rng, alphabet_for(filler))
        data = MAKERS[fmt](paragraphs_around(mutated, filler, rng))
        extraction = extract_bytes(f"outbound.{fmt}", data)
        if not extraction.ok or extraction.format != fmt:
            why = (extraction.error or {}).get("message", "")[:120] if not extraction.ok else f"read as {extraction.format}"
            unsupported[fmt] = f"{extraction.status}: {why}; no {fmt} extractor on this checkout?"
            rows.append(None)
            continue
        passages = segmenter.segment(extraction.blocks)
        found = {m.document.id for m in registry.matches(passages)}
        rows.append({"source": source, "lang": "en" if source in ("wiki", "agnews") else "zh", "length": length,
                     "format": fmt, "rate": float(info["rate"]), "found": (index + 1) in found,
                     "other": len(found - {index + 1})})
    return [r for r in rows if r is not None], unsupported


def measure_negatives(registry: Registry, registered, pool, segmenter: Segmenter, count: int, rng: random.Random):  # type: ignore[no-untyped-def]
    order = list(range(len(pool)))
    rng.shuffle(order)
    folded_registered: dict[int, str] = {}
    scanned = 0
    related, false = [], []
    for i in order:
        if scanned >= count:
            break
        source, title, text = pool[i]
        blocks = [Block(p) for p in text[:20000].split("\n") if p.strip()]
        passages = segmenter.segment(blocks)[: count - scanned]
        scanned += len(passages)
        for m in registry.matches(passages):
            doc = m.document.id
            if doc not in folded_registered:
                folded_registered[doc] = fold(normalize(registered[doc - 1][2]).text).text
            mine = fold(passages[m.passage].norm_text).text
            shared = SequenceMatcher(None, mine, folded_registered[doc], autojunk=False).find_longest_match(
                0, len(mine), 0, len(folded_registered[doc])).size
            row = (source, title[:40], registered[doc - 1][1][:40], shared, passages[m.passage].text[m.start : m.end][:60])
            (related if shared >= SHARED_RUN else false).append(row)
    return scanned, related, false


def filler_documents(sources, need: int, rng: random.Random) -> list[str]:  # type: ignore[no-untyped-def]
    pieces: list[str] = []
    texts = [t for docs in sources.values() for _, t in docs]
    rng.shuffle(texts)
    while len(pieces) < need:
        for text in texts:
            for start in range(0, len(text) - 200, 200):
                piece = text[start : start + 200]
                if is_prose(piece):
                    pieces.append(piece)
                    if len(pieces) >= need:
                        return pieces
        texts = [t[97:] for t in texts if len(t) > 400]  # another pass, cut at other places
    return pieces


def time_pages(registry: Registry, pages: list[list], repeat: int = 3) -> float:  # type: ignore[type-arg]
    registry.matches(pages[0])  # warm the page cache
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for passages in pages:
            registry.matches(passages)
        best = min(best, (time.perf_counter() - started) / len(pages))
    return best * 1000


def disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


# --- report -------------------------------------------------------------------------------------

def rate(rows: list[dict]) -> str:  # type: ignore[type-arg]
    return f"{sum(r['found'] for r in rows) / len(rows):.3f} ({len(rows)})" if rows else "—"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("MIDIAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    parser.add_argument("--excerpts", type=int, default=900)
    parser.add_argument("--negatives", type=int, default=10_000)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where to build the registries (default: a temporary folder)")
    args = parser.parse_args()
    if not (args.shared / "hard_negatives_zh").is_dir():
        print(f"bench/registry.py: shared data not found at {args.shared} (set MIDIAN_SHARED_DATA); nothing to measure")
        return 0
    rng = random.Random(args.seed)
    sources = load_sources(args.shared)
    registered, pool = split(sources, rng)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="midian-registry-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    segmenter = Segmenter().load()

    path = workdir / "registry-1k.db"
    for p in workdir.glob("registry-1k.db*"):
        p.unlink()
    registry = Registry(path)
    started = time.perf_counter()
    with registry.batch():
        for i, (source, title, text) in enumerate(registered, 1):
            doc = registry.add_blocks([Block(text)], title[:80] or source, sha256=f"bench-{i}", category="technical.data", name=source)
            assert doc.id == i
    register_s = time.perf_counter() - started
    chars = sum(len(t) for _, _, t in registered)
    print(f"registered {len(registered)} real documents ({chars / 1e6:.1f} M characters) in {register_s:.1f} s; "
          f"{disk_size(path) / len(registered) / 1024:.1f} KiB on disk per document, "
          f"{disk_size(path) / chars:.1f} bytes per registered character", flush=True)

    rows, unsupported = measure_recall(registry, registered, pool, segmenter, args.excerpts, rng)
    print(f"\nRecall on {len(rows)} edited excerpts embedded in unrelated real text (found = the right registered document matched)")
    print(f"{'excerpt chars':<14}" + "".join(f"{f:>14}" for f in FORMATS) + f"{'all':>14}")
    for length in LENGTHS:
        cells = [rate([r for r in rows if r["length"] == length and r["format"] == f]) for f in FORMATS]
        print(f"{length:<14}" + "".join(f"{c:>14}" for c in cells) + f"{rate([r for r in rows if r['length'] == length]):>14}")
    print(f"{'all':<14}" + "".join(f"{rate([r for r in rows if r['format'] == f]):>14}" for f in FORMATS) + f"{rate(rows):>14}")
    print("by language and edit rate:")
    for lang in ("zh", "en"):
        cells = []
        for lo, hi in ((0, 0.05), (0.05, 0.10), (0.10, 0.151)):
            cells.append(f"edits {lo:.0%}–{min(hi, 0.15):.0%}: {rate([r for r in rows if r['lang'] == lang and lo <= r['rate'] < hi])}")
        print(f"  {lang}: " + "; ".join(cells) + f"; all {rate([r for r in rows if r['lang'] == lang])}")
    print(f"  excerpts that also matched another registered document: {sum(r['other'] > 0 for r in rows)}")
    for fmt, why in unsupported.items():
        print(f"  {fmt}: outbound files could not be read on this checkout ({why})")

    scanned, related, false = measure_negatives(registry, registered, pool, segmenter, args.negatives, rng)
    print(f"\nUnrelated real passages: {scanned} passages of documents that were not registered")
    print(f"  false matches (no shared run of ≥ {SHARED_RUN} letters/digits with the matched document): {len(false)}")
    print(f"  matches on passages that do share such a run (quotations, templates, other versions): {len(related)}")
    for row in false[:20]:
        print("    FALSE", row)
    for row in related[:8]:
        print("    shared", row)

    page_texts = []
    for _, _, text in pool[: 400]:
        for start in range(0, len(text) - PAGE_CHARS, PAGE_CHARS * 3):
            page_texts.append(text[start : start + PAGE_CHARS])
    rng.shuffle(page_texts)
    pages = [segmenter.segment([Block(p) for p in t.split("\n") if p.strip()]) for t in page_texts[:60]]
    sizes = [int(s) for s in args.sizes.split(",")]
    timings = []
    biggest = max(sizes)
    filler = filler_documents(sources, max(0, biggest - len(registered)), rng)
    count = len(registered)
    for size in sorted(sizes):
        if size > count:
            with registry.batch():
                for j in range(count, size):
                    registry.add_blocks([Block(filler[j - len(registered)])], "filler", sha256=f"filler-{j}",
                                        category="technical.data")
            count = size
        registry.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timings.append((size, time_pages(registry, pages), disk_size(path)))
        print(f"  … {size} registered documents: {timings[-1][1]:.2f} ms per page, {timings[-1][2] / 2**20:.1f} MiB", flush=True)
    print(f"\nLookup time per scanned page (~{PAGE_CHARS} characters, {len(pages)} real pages, already segmented)")
    print(f"{'registered documents':<22}" + "".join(f"{s:>12,}" for s, _, _ in timings))
    print(f"{'ms per page':<22}" + "".join(f"{t:>12.2f}" for _, t, _ in timings))
    print(f"{'registry size (MiB)':<22}" + "".join(f"{b / 2**20:>12.1f}" for _, _, b in timings))
    registry.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
