"""Retrain on a company's own documents: ``midian train --confidential DIR --public DIR --out MODEL_DIR``.

A company knows which of its files are confidential and which are public, but rarely which
*passages* carry the secret. Midian therefore learns at two levels:

- documents: every file carries its folder's label, and the document combiner — which reads the
  document's mean TF-IDF as well as its passage evidence — learns the company's own vocabulary
  (product code names, customer names, internal jargon) from as few as ~20 files per side;
- passages: with ``--labels FILE`` (the ``midian eval`` label format with ``secret_passages``),
  labelled passages are used as given; without it, passages of confidential files get the category
  the default model sees in them when it is fairly sure (p ≥ 0.5), and everything in public files is
  labelled not secret (weak supervision).

The company's files are added to the project corpus (never replacing it: a few dozen files cannot
teach Chinese and English from scratch) and weighted by repetition; cross-validation keeps each file's
copies together and reports precision and recall on the company's files alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from scanner.data import Extraction
from scanner.errors import UsageError
from scanner.extraction import extract_path
from scanner.inputs import walk
from scanner.sandbox import WorkerPool
from scanner.settings import Settings
from scanner.taxonomy import NONE, SUBSTANTIVE

from .corpus import load_corpus
from .dataset import LabelledDocument, build_examples, from_corpus
from .evaluate import covered
from .metrics import DocOutcome, document_metrics
from .train import Hyper, train

log = logging.getLogger(__name__)

MIN_PER_SIDE = 5  # below this, refuse
ADVISED_PER_SIDE = 20  # below this, warn that the numbers are shaky
COMPANY_WEIGHT = 3  # copies of each company file in the training set


def _extract(task: tuple[str, Settings]) -> Extraction:
    return extract_path(task[0], settings=task[1])


def extract_folder(folder: Path, settings: Settings) -> list[Extraction]:
    """Extract every file under ``folder`` in worker processes; unreadable files are skipped with a warning."""
    paths = [item.path for item in walk(folder)]
    out = []
    with WorkerPool(_extract, workers=settings.worker_count(), timeout=settings.file_timeout_s,
                    memory_mb=settings.worker_memory_mb) as pool:
        for result in pool.map([(p, settings) for p in paths], lambda t, e: Extraction(path=t[0], sha256="", status="error")):
            if result.ok and result.blocks:
                out.append(result)
            else:
                log.warning("skipped %s (%s)", result.path, result.status)
    return out


def _weak_labels(docs: list[LabelledDocument]) -> None:
    """Label passages of confidential company files with the default model's confident categories."""
    from scanner.scan import Scanner

    scanner = Scanner().load()
    none = scanner.model.labels.index(NONE)
    for doc in docs:
        if not doc.confidential:
            continue
        passages = scanner.segmenter.segment(doc.blocks)
        from scanner.detectors.classifier import run_rules
        from scanner.features import DocumentSignals

        signals = run_rules(scanner.detectors, passages)
        probabilities, _ = scanner.classifier.probabilities(passages, signals, DocumentSignals.collect(signals))
        labels = [NONE] * len(doc.blocks)
        for passage, p in zip(passages, probabilities, strict=True):
            if 1.0 - p[none] >= 0.5:
                best = max((k for k, label in enumerate(scanner.model.labels) if label in SUBSTANTIVE), key=lambda k: p[k])
                labels[passage.block_index] = scanner.model.labels[best]
        doc.block_labels = labels


def _explicit_labels(docs: list[LabelledDocument], labels_file: Path, root_of: dict[str, Path]) -> set[str]:
    """Apply ``secret_passages`` from a labels file; returns the ids of documents it covered."""
    covered_ids = set()
    records = {json.loads(line)["path"]: json.loads(line) for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()}
    for doc in docs:
        rel = str(Path(doc.id).relative_to(root_of[doc.id])) if doc.id in root_of else doc.id
        record = records.get(rel) or records.get(doc.id)
        if not record or "secret_passages" not in record:
            continue
        covered_ids.add(doc.id)
        texts = [b.text for b in doc.blocks]
        labels = [NONE] * len(doc.blocks)
        for passage in record["secret_passages"]:
            for i, text in enumerate(texts):
                if covered(passage["text"], [text]) is not None or covered(text, [passage["text"]]) is not None:
                    labels[i] = passage.get("category", labels[i]) if passage.get("category") in SUBSTANTIVE else labels[i]
        doc.block_labels = labels
    return covered_ids


def company_documents(confidential: Path, public: Path, settings: Settings, labels_file: Path | None) -> list[LabelledDocument]:
    docs: list[LabelledDocument] = []
    root_of: dict[str, Path] = {}
    for folder, label in ((confidential, "confidential"), (public, "public")):
        for extraction in extract_folder(folder, settings):
            blocks = list(extraction.blocks)
            docs.append(LabelledDocument(
                id=extraction.path, label=label, lang="unknown", group=f"company:{extraction.sha256 or extraction.path}",
                source="company", difficulty="unknown", kind="company", render=Path(extraction.path).suffix.lstrip("."),
                blocks=blocks, block_labels=[NONE] * len(blocks)))
            root_of[extraction.path] = folder
    explicit = _explicit_labels(docs, labels_file, root_of) if labels_file else set()
    _weak_labels([d for d in docs if d.id not in explicit])
    return docs


def retrain(confidential: Path, public: Path, out: Path, settings: Settings, labels_file: Path | None = None,
            hyper: Hyper | None = None, base_corpus: Iterable[LabelledDocument] | None = None) -> dict[str, Any]:
    """Train a model on the project corpus plus the company's files; returns the manifest."""
    from .export import write_model_dir

    company = company_documents(confidential, public, settings, labels_file)
    n_conf = sum(d.confidential for d in company)
    n_pub = len(company) - n_conf
    if min(n_conf, n_pub) < MIN_PER_SIDE:
        raise UsageError(f"too little data: {n_conf} confidential and {n_pub} public readable files; "
                         f"at least {MIN_PER_SIDE} per side are needed, about {ADVISED_PER_SIDE} per side for useful numbers")
    if min(n_conf, n_pub) < ADVISED_PER_SIDE:
        log.warning("only %d confidential and %d public files: the model will train, but its cross-validated "
                    "numbers are uncertain; about %d per side are advised", n_conf, n_pub, ADVISED_PER_SIDE)
    base = list(base_corpus) if base_corpus is not None else [from_corpus(d) for d in load_corpus()]
    weighted = [replace(d, id=f"{d.id}#{k}") if k else d for d in company for k in range(COMPANY_WEIGHT)]
    examples = build_examples(base + weighted)
    trained = train(examples, hyper or Hyper())
    outcomes = []
    for i, doc in enumerate(examples.documents):
        if doc.source == "company" and "#" not in doc.id:
            outcomes.append(DocOutcome(id=doc.id, confidential=doc.confidential, score=float(trained.oof_document_proba[i]),
                                       lang=doc.lang, render=doc.render, difficulty="unknown", source="company"))
    metrics = {"cross_validated_company": document_metrics(outcomes, 0.5),
               "company_files": {"confidential": n_conf, "public": n_pub}}
    provenance = {"corpus": "training/corpus (project corpus)", "company": {"confidential": str(confidential), "public": str(public),
                  "labels": str(labels_file) if labels_file else "weak labels from the default model", "weight": COMPANY_WEIGHT}}
    return write_model_dir(out, trained.passage, trained.context, trained.document, version="company-1",
                           provenance=provenance, metrics=metrics, hyper=(hyper or Hyper()).as_dict())

