"""Rebuild the shipped model: corpus + public texts → cross-validated training → ONNX in ``models/``.

``python -m training build [--out models] [--no-shared]`` — see ``training/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from scanner.taxonomy import SUBSTANTIVE

from .corpus import CORPUS_DIR, load_corpus
from .dataset import (
    LABELS,
    Examples,
    LabelledDocument,
    build_examples,
    from_corpus,
    held_out,
    public_documents,
    public_files,
    shared_data_dir,
)
from .export import write_model_dir
from .metrics import DocOutcome, report
from .train import Hyper, Trained, context_matrix, document_matrix, tfidf_means, train

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
MODEL_VERSION = "0.3.0"
FINDING_THRESHOLD = 0.5
DOCUMENT_THRESHOLD = 0.5


def outcomes(examples: Examples, passage_proba: np.ndarray, doc_proba: np.ndarray) -> list[DocOutcome]:
    none = LABELS.index("none")
    result = []
    for d, doc in enumerate(examples.documents):
        idx = np.flatnonzero(examples.doc_index == d)
        truth = [examples.labels[i] for i in idx]
        secret_idx = [i for i, label in zip(idx, truth, strict=True) if label in SUBSTANTIVE]
        found = [i for i in secret_idx if 1 - passage_proba[i, none] >= FINDING_THRESHOLD]
        substantive = [k for k, label in enumerate(LABELS) if label in SUBSTANTIVE]
        correct = sum(LABELS[max(substantive, key=lambda k: passage_proba[i, k])] == examples.labels[i] for i in found)
        result.append(DocOutcome(id=doc.id, confidential=doc.confidential, score=float(doc_proba[d]), lang=doc.lang,
                                 render=doc.render, difficulty=doc.difficulty, source=doc.source,
                                 secret_passages=len(secret_idx), found_passages=len(found), category_correct=correct))
    return result


def predict(trained: Trained, examples: Examples) -> tuple[np.ndarray, np.ndarray]:
    """Passage and document probabilities of the final (scikit-learn) models, as the scanner computes them."""
    stage1 = trained.passage.predict_proba(examples.texts, examples.numeric)
    proba = trained.context.predict_proba(context_matrix(examples, stage1))
    doc_X, _ = document_matrix(examples, proba)
    return proba, trained.document.predict_proba(doc_X, tfidf_means(examples, trained.passage))


def corpus_statistics(docs: list[LabelledDocument], examples: Examples) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "documents": dict(Counter(f"{d.source}/{d.label}" for d in docs)),
        "by_language": dict(Counter(f"{d.lang}/{d.label}" for d in docs)),
        "by_difficulty": dict(Counter(f"{d.difficulty}/{d.label}" for d in docs)),
        "by_format": dict(Counter(d.render for d in docs)),
        "passages": dict(Counter(examples.labels)),
    }
    return {k: dict(sorted(v.items())) for k, v in stats.items()}


def run(out: Path, use_shared: bool = True, hyper: Hyper | None = None, corpus_dir: Path = CORPUS_DIR) -> dict[str, Any]:
    started = time.time()
    hyper = hyper or Hyper()
    corpus = [from_corpus(d) for d in load_corpus(corpus_dir)]
    public_train: list[LabelledDocument] = []
    public_test: list[LabelledDocument] = []
    if use_shared:
        for doc in public_documents():
            (public_test if held_out(doc.id) else public_train).append(doc)
        for doc in public_files():
            (public_test if held_out(doc.id) else public_train).append(doc)
    log.info("corpus: %d documents; shared public: %d train, %d held out", len(corpus), len(public_train), len(public_test))
    documents = corpus + public_train
    examples = build_examples(documents)
    log.info("%d passages", len(examples))
    trained: Trained = train(examples, hyper)
    corpus_idx = [i for i, d in enumerate(documents) if d.source not in _PUBLIC_SOURCES]
    cv = outcomes(examples, trained.oof_passage_proba, trained.oof_document_proba)
    metrics: dict[str, Any] = {
        "cross_validated_corpus": report([cv[i] for i in corpus_idx], DOCUMENT_THRESHOLD),
        "cross_validated_all": report(cv, DOCUMENT_THRESHOLD)["overall"],
    }
    if public_test:
        test_examples = build_examples(public_test)
        proba, doc_p = predict(trained, test_examples)
        held = outcomes(test_examples, proba, doc_p)
        by_source = Counter(o.source for o in held)
        flagged = Counter(o.source for o in held if o.score >= DOCUMENT_THRESHOLD)
        metrics["held_out_public_false_positive_rate"] = {
            s: {"documents": n, "flagged": flagged.get(s, 0), "rate": round(flagged.get(s, 0) / n, 4)} for s, n in sorted(by_source.items())
        }
    provenance = {
        "corpus": {"path": "training/corpus", "statistics": corpus_statistics(corpus, examples.subset_documents(corpus_idx))},
        "shared_public": {
            "path": str(shared_data_dir()) if use_shared else None,
            "sources": dict(Counter(d.source for d in public_train)),
            "held_out_for_evaluation": dict(Counter(d.source for d in public_test)),
            "licences": "PRC laws (not copyrightable), THUCNews/AG News (research use), FewCLUE, Wikipedia (CC BY-SA), "
                        "open-source READMEs and test-suite fixture files of Apache Tika/POI, pdfplumber, pdfminer.six, "
                        "pdf.js, Unstructured, python-docx, MinerU, RapidOCR (Apache-2.0/MIT); see ../shared/data/MANIFEST.tsv",
        },
    }
    manifest = write_model_dir(out, trained.passage, trained.context, trained.document, version=MODEL_VERSION, provenance=provenance,
                               metrics=metrics, hyper=hyper.as_dict())
    log.info("model written to %s in %.0f s", out, time.time() - started)
    return manifest


_PUBLIC_SOURCES = {"zh_laws", "zh_news", "zh_fewclue", "zh_oss_docs", "en_wikipedia", "en_ag_news", "en_oss_readmes",
                   "files_fixtures", "files_public"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training build", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "models")
    parser.add_argument("--no-shared", action="store_true", help="train on the corpus only (no ../shared/data texts)")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    manifest = run(args.out, use_shared=not args.no_shared, corpus_dir=args.corpus)
    print(json.dumps(manifest["metrics"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
