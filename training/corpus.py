"""The labelled training corpus: loading, validation and the near-duplicate check.

Each document is one YAML file under ``training/corpus/<set>/<id>.yaml``; the format is described in
``training/corpus/README.md``. ``python -m training.corpus check`` validates every file and reports
near-duplicate wording across documents.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scanner.taxonomy import CATEGORIES, NONE, is_substantive

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

LANGS = ("zh", "en", "mixed")
LABELS = ("confidential", "public")
DIFFICULTIES = ("easy", "medium", "hard")
RENDERS = ("txt", "md", "docx", "xlsx", "pptx", "pdf", "eml", "html", "csv")
KINDS = (
    "email", "chat", "minutes", "memo", "report", "sop", "work_instruction", "spec", "sheet", "deck",
    "contract", "bid", "code", "plan", "notice", "news", "law", "patent", "standard", "press_release",
    "annual_report", "datasheet", "price_list", "tender_notice", "job_ad", "template", "policy",
    "training", "manual", "faq", "paper", "blog", "other",
)


@dataclass(frozen=True)
class Passage:
    """One labelled unit of a corpus document: a paragraph, or one table row with its header."""

    text: str
    category: str  # a taxonomy category or "none"
    kind: str = "text"  # text | heading | table_row
    header: str | None = None
    part: str | None = None  # header | footer | notes | comment | ...
    sheet: str | None = None
    slide: int | None = None


@dataclass
class CorpusDocument:
    id: str
    lang: str
    label: str
    kind: str
    industry: str
    topic: str
    difficulty: str
    render: str
    title: str
    blocks: list[dict[str, Any]]
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def confidential(self) -> bool:
        return self.label == "confidential"

    def passages(self) -> Iterator[Passage]:
        """The document's passages in order; a table yields its header row then one passage per row."""
        for block in self.blocks:
            common = {k: block.get(k) for k in ("part", "sheet", "slide")}
            if "table" in block:
                table = block["table"]
                header_cells = [str(c) for c in table.get("header") or []]
                header = "\t".join(header_cells) if header_cells else None
                if header:
                    yield Passage(header, NONE, "table_row", None, **common)
                default = _category(table.get("category"))
                for row in table.get("rows") or []:
                    if isinstance(row, dict):
                        cells, category = row.get("cells") or [], _category(row.get("category"), default)
                    else:
                        cells, category = row, default
                    yield Passage("\t".join("" if c is None else str(c) for c in cells), category, "table_row", header, **common)
            elif "heading" in block:
                yield Passage(str(block["heading"]).strip(), _category(block.get("category")), "heading", **common)
            else:
                yield Passage(str(block.get("text", "")).strip(), _category(block.get("category")), "text", **common)

    def categories(self) -> set[str]:
        return {p.category for p in self.passages()} - {NONE}


def _category(value: Any, default: str = NONE) -> str:
    if value is None:
        return default
    if isinstance(value, list):
        return str(value[0]) if value else default
    return str(value)


class CorpusError(ValueError):
    """A corpus file that does not follow ``training/corpus/README.md``."""


def load_document(path: Path) -> CorpusDocument:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: the top level must be a mapping")
    missing = [k for k in ("id", "lang", "label", "kind", "topic", "difficulty", "render", "blocks") if k not in data]
    if missing:
        raise CorpusError(f"{path}: missing fields {missing}")
    doc = CorpusDocument(
        id=str(data["id"]),
        lang=str(data["lang"]),
        label=str(data["label"]),
        kind=str(data["kind"]),
        industry=str(data.get("industry", "")),
        topic=str(data["topic"]),
        difficulty=str(data["difficulty"]),
        render=str(data["render"]),
        title=str(data.get("title", "")),
        blocks=list(data["blocks"] or []),
        path=path,
        meta={k: v for k, v in data.items() if k not in {"blocks"}},
    )
    validate(doc)
    return doc


def validate(doc: CorpusDocument) -> None:
    where = f"{doc.path}"
    if doc.path.stem != doc.id:
        raise CorpusError(f"{where}: id {doc.id!r} must equal the file name")
    for name, value, allowed in (("lang", doc.lang, LANGS), ("label", doc.label, LABELS),
                                 ("difficulty", doc.difficulty, DIFFICULTIES), ("render", doc.render, RENDERS),
                                 ("kind", doc.kind, KINDS)):
        if value not in allowed:
            raise CorpusError(f"{where}: {name} {value!r} is not one of {allowed}")
    if not doc.blocks:
        raise CorpusError(f"{where}: no blocks")
    for i, block in enumerate(doc.blocks):
        if not isinstance(block, dict) or not ({"text", "table", "heading"} & block.keys()):
            raise CorpusError(f"{where}: block {i} needs `text`, `heading` or `table`")
    passages = list(doc.passages())
    for p in passages:
        if p.category != NONE and p.category not in CATEGORIES:
            raise CorpusError(f"{where}: unknown category {p.category!r} (see ../shared/TAXONOMY.md)")
    if not any(p.text.strip() for p in passages):
        raise CorpusError(f"{where}: all passages are empty")
    substantive = {p.category for p in passages if is_substantive(p.category)}
    if doc.confidential and not substantive:
        raise CorpusError(f"{where}: a confidential document needs at least one passage with a substantive category")
    if not doc.confidential and substantive:
        raise CorpusError(f"{where}: a public document must not label passages {sorted(substantive)} (only marking/personal_info/none)")


def iter_documents(root: Path = CORPUS_DIR) -> Iterator[CorpusDocument]:
    for path in sorted(root.rglob("*.yaml")):
        yield load_document(path)


def load_corpus(root: Path = CORPUS_DIR) -> list[CorpusDocument]:
    docs = list(iter_documents(root))
    seen: dict[str, Path] = {}
    for doc in docs:
        if doc.id in seen:
            raise CorpusError(f"duplicate id {doc.id!r}: {seen[doc.id]} and {doc.path}")
        seen[doc.id] = doc.path
    return docs


# --- near-duplicate wording -----------------------------------------------------------------

def _shingles(text: str, lang: str) -> set[str]:
    """Long n-grams: 14 characters of Chinese text, 9 words of English text."""
    import re

    if lang == "en":
        words = re.findall(r"[A-Za-z0-9']+", text.lower())
        return {" ".join(words[i : i + 9]) for i in range(len(words) - 8)}
    chars = re.sub(r"\s+", "", text)
    return {chars[i : i + 14] for i in range(len(chars) - 13)}


def near_duplicates(docs: list[CorpusDocument], threshold: float = 0.2) -> list[tuple[str, str, float]]:
    """Document pairs whose long n-grams overlap by more than ``threshold`` of the smaller document.

    Shingles that occur in many documents (shared boilerplate such as a standard confidentiality
    footer) are ignored, so the check finds copied or templated *content*.
    """
    shingles = {d.id: _shingles("\n".join(p.text for p in d.passages()), d.lang) for d in docs}
    df: Counter[str] = Counter()
    for s in shingles.values():
        df.update(s)
    index: dict[str, list[str]] = defaultdict(list)
    for doc_id, s in shingles.items():
        for sh in s:
            if df[sh] <= 5:
                index[sh].append(doc_id)
    overlap: Counter[tuple[str, str]] = Counter()
    for ids in index.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                overlap[(a, b) if a < b else (b, a)] += 1
    pairs = []
    for (a, b), count in overlap.items():
        smaller = max(1, min(len(shingles[a]), len(shingles[b])))
        if count / smaller > threshold:
            pairs.append((a, b, round(count / smaller, 3)))
    return sorted(pairs, key=lambda t: -t[2])


def statistics(docs: list[CorpusDocument]) -> dict[str, Any]:
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        by["label"][d.label] += 1
        by["lang"][f"{d.lang}/{d.label}"] += 1
        by["difficulty"][f"{d.difficulty}/{d.label}"] += 1
        by["render"][d.render] += 1
        by["kind"][d.kind] += 1
        for p in d.passages():
            by["passages"][p.category] += 1
    return {k: dict(sorted(v.items())) for k, v in by.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.corpus")
    parser.add_argument("command", choices=("check", "stats"))
    parser.add_argument("--root", type=Path, default=CORPUS_DIR)
    parser.add_argument("--threshold", type=float, default=0.2)
    args = parser.parse_args(argv)
    errors = []
    docs = []
    for path in sorted(args.root.rglob("*.yaml")):
        try:
            docs.append(load_document(path))
        except CorpusError as exc:
            errors.append(str(exc))
    ids = Counter(d.id for d in docs)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    if args.command == "stats":
        import json

        print(json.dumps(statistics(docs), ensure_ascii=False, indent=1))
    dups = near_duplicates(docs, args.threshold)
    for a, b, share in dups:
        errors.append(f"near-duplicate wording: {a} ~ {b} ({share:.0%} of long n-grams shared)")
    for e in errors:
        print(e, file=sys.stderr)
    print(f"{len(docs)} documents, {len(errors)} problem(s)", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
