"""Labelled examples for training and evaluation, built with the scanner's own segmentation and features.

Every document — a corpus YAML file or a public text from ``../shared/data`` — is turned into the
blocks an extractor would produce, segmented by :class:`scanner.segmentation.Segmenter`, run through
the rule detectors, and described by :mod:`scanner.features`: exactly what happens at scan time.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scanner.data import Block, Finding, Location
from scanner.detectors.classifier import rule_detectors, run_rules
from scanner.extraction.tables import row_block
from scanner.features import DocumentSignals, feature_matrix
from scanner.segmentation import Segmenter
from scanner.taxonomy import NONE, SUBSTANTIVE

from .corpus import CorpusDocument

LABELS: tuple[str, ...] = (NONE, *SUBSTANTIVE)
REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """``$MIDIAN_SHARED_DATA`` or ``../shared/data`` next to the repository."""
    return Path(os.environ.get("MIDIAN_SHARED_DATA", REPO.parent / "shared" / "data"))


@dataclass
class LabelledDocument:
    """A document as blocks with a label per block, ready for segmentation."""

    id: str
    label: str  # confidential | public
    lang: str
    group: str  # documents of one group never straddle a split (topic pairs)
    source: str  # corpus set or public source name
    difficulty: str
    kind: str
    render: str
    blocks: list[Block]
    block_labels: list[str]
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def confidential(self) -> bool:
        return self.label == "confidential"


def _passage_label(category: str) -> str:
    return category if category in SUBSTANTIVE else NONE


def from_corpus(doc: CorpusDocument) -> LabelledDocument:
    """The blocks an extractor would give for a corpus document, with their labels."""
    blocks: list[Block] = []
    labels: list[str] = []
    table_index = 0
    for raw in doc.blocks:
        part = raw.get("part") or "body"
        sheet = raw.get("sheet")
        slide = raw.get("slide")
        if sheet:
            part = f"sheet:{sheet}"
        elif slide and part == "body":
            part = f"slide:{slide}"
        elif slide and part == "notes":
            part = f"notes:{slide}"
        location = Location(part=part, sheet=sheet, slide=slide)
        if "table" in raw:
            table_index += 1
            table = raw["table"]
            header_cells = [str(c) for c in table.get("header") or []]
            default = _passage_label(str(table.get("category") or NONE))
            header_text = None
            row_number = 1
            if header_cells:
                block = row_block(list(enumerate(header_cells, 1)), row=row_number, location=location, table=table_index, spreadsheet=bool(sheet))
                if block is not None:
                    blocks.append(block)
                    labels.append(NONE)
                    header_text = block.text
            for row in table.get("rows") or []:
                row_number += 1
                if isinstance(row, dict):
                    cells, category = row.get("cells") or [], _passage_label(str(row.get("category") or default))
                else:
                    cells, category = row, default
                values = [(j, "" if c is None else str(c)) for j, c in enumerate(cells, 1)]
                block = row_block(values, row=row_number, location=location, header=header_text, table=table_index, spreadsheet=bool(sheet))
                if block is not None:
                    blocks.append(block)
                    labels.append(category)
        else:
            key = "heading" if "heading" in raw else "text"
            text = str(raw.get(key, "")).strip()
            if text:
                blocks.append(Block(text=text, location=location, kind="heading" if key == "heading" else "text"))
                labels.append(_passage_label(str(raw.get("category") or NONE)))
    return LabelledDocument(
        id=doc.id, label=doc.label, lang=doc.lang, group=doc.topic, source=doc.path.parent.name,
        difficulty=doc.difficulty, kind=doc.kind, render=doc.render, blocks=blocks, block_labels=labels,
        meta={"title": doc.title, "industry": doc.industry},
    )


# --- public documents from ../shared/data (by reference, never committed) --------------------

def _paragraphs(text: str, min_chars: int = 8) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n(?=#)", text) if len(p.strip()) >= min_chars]


def _public(doc_id: str, source: str, lang: str, paragraphs: Sequence[str], kind: str) -> LabelledDocument:
    blocks = [Block(text=p) for p in paragraphs]
    return LabelledDocument(id=doc_id, label="public", lang=lang, group=doc_id, source=source, difficulty="hard",
                            kind=kind, render="txt", blocks=blocks, block_labels=[NONE] * len(blocks))


def held_out(doc_id: str, share: float = 0.5) -> bool:
    """A stable split of public texts: this share is kept for evaluation, never trained on."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def public_documents(root: Path | None = None, per_source: int = 200, seed: int = 7) -> Iterator[LabelledDocument]:
    """Real public documents of ``../shared/data/hard_negatives_*`` (laws, news, abstracts, Wikipedia...)."""
    root = root or shared_data_dir()
    if not root.is_dir():
        return
    rng = random.Random(seed)
    zh = root / "hard_negatives_zh"
    en = root / "hard_negatives_en"

    def sample(rows: list, n: int = per_source) -> list:
        rows = list(rows)
        rng.shuffle(rows)
        return rows[:n]

    # laws: the trade-secret provisions and related statutes, plus a sample of the national law book
    laws = zh / "laws"
    if laws.is_dir():
        for path in sorted(laws.glob("*.md")):
            paras = _paragraphs(path.read_text(encoding="utf-8"))
            for i in range(0, len(paras), 40):
                yield _public(f"law-{path.stem[:12]}-{i // 40}", "zh_laws", "zh", paras[i : i + 40], "law")
        book = laws / "lawrefbook_national.jsonl"
        if book.is_file():
            with book.open(encoding="utf-8") as fh:
                rows = [json.loads(line) for line in fh]
            for row in sample(rows, per_source // 2):
                paras = _paragraphs(row["text"])[:60]
                yield _public(f"lawbook-{hashlib.md5(row['title'].encode()).hexdigest()[:10]}", "zh_laws", "zh", paras, "law")
    news = zh / "thucnews" / "cnews_1000.tsv"
    if news.is_file():
        with news.open(encoding="utf-8") as fh:
            rows = [line.rstrip("\n").split("\t", 1) for line in fh if "\t" in line]
        for i, (_category, text) in enumerate(sample(rows)):
            paras = [p for p in re.split(r"(?<=[。！？])\s*", text) if p.strip()]
            grouped = ["".join(paras[j : j + 3]) for j in range(0, len(paras), 3)]
            yield _public(f"thucnews-{i}", "zh_news", "zh", grouped, "news")
    fewclue = zh / "fewclue"
    for name, field_names, kind in (("csl_test_public.jsonl", ("abst",), "paper"), ("iflytek_test_public.jsonl", ("sentence",), "other"),
                                    ("tnews_test_public.jsonl", ("sentence",), "news"), ("csldcp_test_public.jsonl", ("content",), "paper")):
        path = fewclue / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        picked = sample(rows)
        # short items (headlines, app descriptions) are grouped into documents of ten
        step = 10 if kind != "paper" else 1
        for i in range(0, len(picked), step):
            texts = [str(r.get(f, "")) for r in picked[i : i + step] for f in field_names if r.get(f)]
            yield _public(f"fewclue-{name.split('_')[0]}-{i}", "zh_fewclue", "zh", texts, kind)
    for path in sorted((zh / "oss_docs").rglob("*.md")) if (zh / "oss_docs").is_dir() else []:
        yield _public(f"osszh-{path.stem[:20]}-{hashlib.md5(str(path).encode()).hexdigest()[:6]}", "zh_oss_docs", "zh",
                      _paragraphs(path.read_text(encoding="utf-8"))[:80], "manual")
    wiki = en / "wikipedia_en" / "wikipedia_en_sample.jsonl"
    if wiki.is_file():
        with wiki.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        for row in sample(rows):
            paras = _paragraphs(str(row.get("text", "")), 20)[:40]
            title = str(row.get("title", ""))
            yield _public(f"wiki-{hashlib.md5(title.encode()).hexdigest()[:10]}", "en_wikipedia", "en", paras, "other")
    ag = en / "ag_news" / "ag_news_subset_train.csv"
    if ag.is_file():
        with ag.open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))[1:]
        picked = sample(rows, per_source * 3)
        for i in range(0, len(picked), 3):
            texts = [" ".join(r[1:]) for r in picked[i : i + 3]]
            yield _public(f"agnews-{i}", "en_ag_news", "en", texts, "news")
    for path in sorted((en / "oss_readmes").glob("*.md")) if (en / "oss_readmes").is_dir() else []:
        yield _public(f"ossen-{path.stem[:24]}", "en_oss_readmes", "en", _paragraphs(path.read_text(encoding="utf-8"))[:80], "manual")


# Real public files (test-suite fixtures of Tika, POI, pdfplumber, ...; public Office files and PDFs):
# page numbers, forms, statistics tables, lorem ipsum, scanned pages — the everyday noise of real
# files that written corpora lack. Read through Midian's own extraction, so blocks carry real layout.
FILE_SOURCES = {"format_fixtures": "files_fixtures", "hard_negatives_zh/poi_real_docs": "files_public",
                "hard_negatives_en/poi_real_docs": "files_public", "hard_negatives_en/pdfs": "files_public"}
MAX_FILE_BLOCKS = 150
_CJK = re.compile(r"[\u4e00-\u9fff]")


def file_id(root: Path, path: Path) -> str:
    return f"file-{path.relative_to(root).as_posix()}"


def public_file_paths(root: Path | None = None) -> Iterator[tuple[str, str, Path]]:
    """``(id, source, path)`` of the real public files under ``root`` (expected-text JSON excluded)."""
    root = root or shared_data_dir()
    for folder, source in FILE_SOURCES.items():
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix.lower() != ".json" and not path.name.startswith("."):
                yield file_id(root, path), source, path


def public_files(root: Path | None = None, keep: Callable[[str], bool] = lambda _id: True) -> Iterator[LabelledDocument]:
    """The real public files that extract cleanly, as documents of ``none`` blocks (first ``MAX_FILE_BLOCKS``)."""
    from scanner.extraction import extract_path
    from scanner.settings import get_settings

    settings = get_settings()
    for doc_id, source, path in public_file_paths(root):
        if not keep(doc_id):
            continue
        try:
            extraction = extract_path(path, settings=settings)
        except Exception:  # noqa: BLE001 - a fixture that breaks extraction is not training data
            continue
        blocks = [b for b in extraction.blocks if b.text.strip()][:MAX_FILE_BLOCKS] if extraction.ok else []
        if not blocks:
            continue
        sample = "".join(b.text for b in blocks[:40])
        share = len(_CJK.findall(sample)) / max(1, len(sample))
        lang = "zh" if share > 0.3 else "mixed" if share > 0.05 else "en"
        yield LabelledDocument(id=doc_id, label="public", lang=lang, group=doc_id, source=source, difficulty="hard",
                               kind="file", render=extraction.format or path.suffix.lstrip(".") or "unknown",
                               blocks=blocks, block_labels=[NONE] * len(blocks))


# --- examples ----------------------------------------------------------------------------------

@dataclass
class Examples:
    """Passage-level examples with document bookkeeping."""

    texts: list[str]
    numeric: np.ndarray
    labels: list[str]
    doc_index: np.ndarray  # passage -> document index
    documents: list[LabelledDocument]
    signals: list[list[Finding]]  # per passage, the rule detectors' findings
    doc_signals: list[DocumentSignals]

    def __len__(self) -> int:
        return len(self.texts)

    def subset_documents(self, keep: Iterable[int]) -> Examples:
        keep = sorted(set(keep))
        new_index = {old: new for new, old in enumerate(keep)}
        mask = np.isin(self.doc_index, keep)
        idx = np.flatnonzero(mask)
        return Examples(
            texts=[self.texts[i] for i in idx],
            numeric=self.numeric[idx],
            labels=[self.labels[i] for i in idx],
            doc_index=np.array([new_index[d] for d in self.doc_index[idx]], dtype=np.int64),
            documents=[self.documents[i] for i in keep],
            signals=[self.signals[i] for i in idx],
            doc_signals=[self.doc_signals[i] for i in keep],
        )


def build_examples(documents: Sequence[LabelledDocument], segmenter: Segmenter | None = None) -> Examples:
    """Segment, detect and featurise every document, as the scanner does."""
    segmenter = segmenter or Segmenter().load()
    detectors = rule_detectors()
    texts: list[str] = []
    numeric: list[np.ndarray] = []
    labels: list[str] = []
    doc_index: list[int] = []
    all_signals: list[list[Finding]] = []
    doc_signals: list[DocumentSignals] = []
    for d, doc in enumerate(documents):
        passages = segmenter.segment(doc.blocks)
        signals = run_rules(detectors, passages)
        document = DocumentSignals.collect(signals)
        doc_signals.append(document)
        if not passages:
            continue
        t, x = feature_matrix(passages, signals, document)
        texts.extend(t)
        numeric.append(x)
        labels.extend(doc.block_labels[p.block_index] for p in passages)
        doc_index.extend([d] * len(passages))
        all_signals.extend(signals)
    return Examples(
        texts=texts,
        numeric=np.vstack(numeric).astype(np.float32) if numeric else np.zeros((0, 0), np.float32),
        labels=labels,
        doc_index=np.array(doc_index, dtype=np.int64),
        documents=list(documents),
        signals=all_signals,
        doc_signals=doc_signals,
    )
