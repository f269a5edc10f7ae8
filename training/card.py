"""Write ``models/MODEL_CARD.md`` from the model's manifest and a fresh run on the held-out evaluation set.

``python -m training card [--model models] [--evalset training/evalset]`` renders the evaluation set
(documents never trained on) into real files, scans them with the model through the real extraction,
and writes the card: purpose, training data, cross-validated metrics from the manifest, the held-out
results by language, format and difficulty, a threshold sweep, and where the model fails. Every
number in the card comes from this run or from the manifest the build wrote; nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .corpus import iter_documents
from .metrics import markdown_table

REPO = Path(__file__).resolve().parent.parent
EVALSET = REPO / "training" / "evalset"

TARGETS = {"recall": 0.95, "false_positive_rate": 0.05, "passage_recall": 0.90, "category_accuracy": 0.85}

PURPOSE = """\
## What the model is for

Midian's classifier reads the passages of a document (after extraction and segmentation) and says,
per passage, which trade-secret category it carries (13 categories of `../shared/TAXONOMY.md`,
`marking`, `personal_info`, or `none`), and, per document, how likely the document as a whole is
confidential. It is one detector among several: markings, patterns, identifiers, lexicon, public-context
cues and the secret registry add evidence, and `scanner/scoring.py` combines them. It is meant for
pre-screening outbound documents in Chinese, English and mixed text; it is not a legal judgement, and
a lawyer decides on each flag with the passage and evidence in front of them.

## How it is built

Three stages, all scikit-learn, exported to ONNX (`passage.onnx`, `context.onnx`, `document.onnx`):

1. Passage: TF-IDF over the scanner's own tokens (rjieba + rules, the same segmentation as at scan
   time; words and character bigrams) plus the detectors' numeric signals, logistic regression with
   temperature scaling.
2. Context: each passage's probabilities with its neighbours' and the document's mean and max, so a
   row of a price sheet or a paragraph of an e-mail is read in its surroundings.
3. Document: aggregated passage evidence plus the mean TF-IDF of the document, logistic regression.

Only onnxruntime runs at scan time; `models/manifest.json` records the sha256 of every file (checked on
load), the labels, feature version, hyper-parameters, training-data provenance and these metrics.
Rebuild with `python -m training build` (see `training/README.md`)."""

FAILURES = """\
## Where it fails

- Spreadsheets and CSV: a sheet is many short rows with little language; a customer list and a
  published statistics table look alike to the passage model. Per-format rows below show it.
- Public documents full of numbers: datasheets, published price lists and annual-report tables are the
  commonest false positives. Register a company's own public documents in the allow-list
  (`midian registry add --public`) to suppress them.
- Category: the model often finds the secret passage but names a neighbouring category (pricing vs.
  customer vs. bid; process vs. formula vs. data). The document verdict is more reliable than the
  category of each passage.
- Only what it was trained on: the corpus is written by the project (real internal documents are
  never public); industries, voices and layouts far from it will score worse. Measure on your own
  documents with `midian eval` and retrain with `midian train`.
- Scanned images go through OCR; OCR errors lower recall on image-only pages."""


def fmt(value: Any) -> str:
    return "" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def target_row(overall: dict[str, Any]) -> str:
    lines = ["| measure | target | held-out | met |", "|---|---|---|---|"]
    for key, target in TARGETS.items():
        got = overall.get(key)
        met = got is not None and (got <= target if key == "false_positive_rate" else got >= target)
        lines.append(f"| {key} | {'≤' if key == 'false_positive_rate' else '≥'} {target} | {fmt(got)} | {'yes' if met else 'no'} |")
    return "\n".join(lines)


def operating_point(sweep: list[dict[str, Any]], max_fpr: float = 0.05) -> dict[str, Any] | None:
    """The sweep row with the best recall whose false-positive rate is within ``max_fpr``."""
    ok = [r for r in sweep if r["false_positive_rate"] is not None and r["false_positive_rate"] <= max_fpr]
    return max(ok, key=lambda r: (r["recall"] or 0, -r["threshold"])) if ok else None


def corpus_section(stats: dict[str, Any]) -> str:
    parts = ["## Training data", "",
             "The project's own corpus (`training/corpus/`: documents written for Midian in the shapes companies",
             "produce, labelled per passage, confidential documents paired with public twins on the same topic),",
             "plus public texts from `../shared/data` (laws, news, open-source documentation, Wikipedia) as",
             "extra negatives, some sources held out entirely for the false-positive check below.", ""]
    for key, title in (("by_language", "Documents by language"), ("by_difficulty", "Documents by difficulty"),
                       ("by_format", "Documents by rendered format"), ("passages", "Passages by category")):
        values = stats.get(key) or {}
        parts += [f"{title}:", "", "| group | count |", "|---|---|"]
        parts += [f"| {k} | {v} |" for k, v in values.items()]
        parts.append("")
    return "\n".join(parts)


def held_out_fp(rows: dict[str, Any]) -> str:
    lines = ["| source | documents | flagged | rate |", "|---|---|---|---|"]
    lines += [f"| {s} | {r['documents']} | {r['flagged']} | {r['rate']} |" for s, r in rows.items()]
    return "\n".join(lines)


def card(manifest: dict[str, Any], evaluation: dict[str, Any] | None, evalset_docs: int) -> str:
    metrics = manifest.get("metrics", {})
    cv = metrics.get("cross_validated_corpus", {})
    stats = manifest.get("training_data", {}).get("corpus", {}).get("statistics", {})
    parts = [f"# Model card: {manifest.get('name', 'midian')} {manifest.get('version')}", "",
             f"Built {manifest.get('created')}; features `{manifest.get('feature_version')}`, "
             f"vocabulary {manifest.get('vocabulary_size')} terms. Generated by `python -m training card`.", "",
             PURPOSE, "", corpus_section(stats)]
    if evaluation:
        overall = evaluation["overall"]
        parts += ["## Held-out evaluation (documents never trained on)", "",
                  f"`training/evalset/`: {evalset_docs} documents written separately from the corpus (other topics, "
                  "firms and voices), rendered into real files and scanned by `midian eval` through the real "
                  f"extraction. Document threshold {evaluation['threshold']}.", "",
                  target_row(overall), ""]
        point = operating_point(evaluation.get("sweep", []))
        if point:
            parts += [f"Best recall at a false-positive rate ≤ 0.05: threshold {point['threshold']}, recall "
                      f"{fmt(point['recall'])}, false-positive rate {fmt(point['false_positive_rate'])}.", ""]
        parts += ["Overall:", "", markdown_table({"all": overall}), ""]
        for key, title in (("by_language", "By language"), ("by_format", "By format"), ("by_difficulty", "By difficulty")):
            parts += [f"{title}:", "", markdown_table(evaluation[key]), ""]
        parts += ["Threshold sweep:", "", "| threshold | precision | recall | f1 | false_positive_rate |", "|---|---|---|---|---|"]
        parts += [f"| {r['threshold']} | {r['precision']} | {r['recall']} | {r['f1']} | {r['false_positive_rate']} |"
                  for r in evaluation["sweep"]]
        parts.append("")
    if cv:
        parts += ["## Cross-validated on the training corpus", "",
                  "Five document-grouped folds (no document, and no confidential/public topic pair, on both sides).", "",
                  markdown_table({"all": cv["overall"]}), "", "By language:", "", markdown_table(cv["by_language"]), "",
                  "By format:", "", markdown_table(cv["by_format"]), ""]
        point = operating_point(cv.get("sweep", []))
        if point:
            parts += [f"Best recall at a false-positive rate ≤ 0.05 (cross-validated): threshold {point['threshold']}, "
                      f"recall {fmt(point['recall'])}.", ""]
    if metrics.get("held_out_public_false_positive_rate"):
        parts += ["## False positives on held-out public texts (`../shared/data`)", "",
                  held_out_fp(metrics["held_out_public_false_positive_rate"]), ""]
    parts += [FAILURES, ""]
    return "\n".join(parts)


def run_evaluation(model: Path, evalset: Path, workers: int | None) -> dict[str, Any]:
    from scanner.engine import ScannerConfig
    from scanner.settings import get_settings

    from .evaluate import evaluate
    from .render import render_all

    with tempfile.TemporaryDirectory(prefix="midian-evalset-") as tmp:
        labels = render_all(list(iter_documents(evalset)), Path(tmp), None, None)
        config = ScannerConfig(settings=get_settings(), model_dir=str(model), registry_path=None)
        summary, _ = evaluate(labels, Path(tmp), config, workers)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training card", description=__doc__)
    parser.add_argument("--model", type=Path, default=REPO / "models")
    parser.add_argument("--evalset", type=Path, default=EVALSET)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="default: MODEL/MODEL_CARD.md")
    args = parser.parse_args(argv)
    manifest = json.loads((args.model / "manifest.json").read_text(encoding="utf-8"))
    evaluation = run_evaluation(args.model, args.evalset, args.workers) if args.evalset.is_dir() else None
    out = args.out or args.model / "MODEL_CARD.md"
    out.write_text(card(manifest, evaluation, sum(1 for _ in iter_documents(args.evalset)) if evaluation else 0), encoding="utf-8")
    if evaluation:
        (args.model / "evaluation.json").write_text(json.dumps(evaluation, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
