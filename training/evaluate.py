"""Evaluate Midian on any labelled folder: ``midian eval LABELS.jsonl DIR``.

``LABELS.jsonl`` has one object per file: ``path`` (relative to DIR), ``label`` (confidential | public)
and optionally ``categories``, ``secret_passages`` (``[{"text", "category"}]``), ``lang``,
``format``, ``difficulty``. Files are scanned by the real scanner (extraction included), so the
numbers are what users get: document precision, recall, F1 and false-positive rate, recall of secret
passages (a labelled passage counts as found when findings together cover at least half of it), category
accuracy of the found passages, each by language, format and difficulty, and a threshold sweep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.data import ScanResult
from scanner.engine import LocalEngine, ScanJob, ScannerConfig
from scanner.normalize import normalize

from .metrics import DocOutcome, markdown_table, report

_SPACE = re.compile(r"\s+")
GRAM = 3


def _grams(text: str) -> set[str]:
    text = _SPACE.sub("", normalize(text).text)
    if len(text) <= GRAM:
        return {text} if text else set()
    return {text[i : i + GRAM] for i in range(len(text) - GRAM + 1)}


def covered(passage: str, findings: Sequence[str]) -> int | None:
    """Whether the findings together cover at least half of ``passage`` (by character trigrams).

    Returns the index of the finding that covers most of it (whose category is compared with the
    label), or None. A labelled paragraph that the scanner splits into several flagged sentences
    counts as found, the way a reviewer sees it: the flagged parts span the paragraph.
    """
    target = _grams(passage)
    if not target:
        return None
    best, best_share, union = None, 0, set()
    for i, text in enumerate(findings):
        hit = target & _grams(text)
        union |= hit
        if len(hit) > best_share:
            best, best_share = i, len(hit)
    return best if len(union) >= 0.5 * len(target) else None


def load_labels(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("label") not in ("confidential", "public") or not record.get("path"):
                raise ValueError(f"{path}:{n}: each line needs `path` and `label` (confidential|public)")
            records.append(record)
    return records


def outcome(record: dict[str, Any], result: ScanResult) -> DocOutcome:
    findings = [f.text for f in result.findings if f.category not in ("marking", "personal_info")]
    categories = [f.category for f in result.findings if f.category not in ("marking", "personal_info")]
    secret = record.get("secret_passages") or []
    found = correct = 0
    for passage in secret:
        i = covered(passage["text"], findings)
        if i is not None:
            found += 1
            correct += categories[i] == passage.get("category")
    fmt = record.get("format") or Path(record["path"]).suffix.lstrip(".") or "unknown"
    # a document that could not be scanned counts as flagged: a gateway blocks it (fail closed)
    score = result.score if result.status == "ok" else 1.0
    return DocOutcome(id=record["path"], confidential=record["label"] == "confidential", score=score,
                      lang=record.get("lang", "unknown"), render=fmt, difficulty=record.get("difficulty", "unknown"),
                      source=record.get("kind", "unknown"), secret_passages=len(secret), found_passages=found,
                      category_correct=correct)


def evaluate(labels: Path, root: Path, config: ScannerConfig, workers: int | None = None,
             threshold: float | None = None) -> tuple[dict[str, Any], list[tuple[dict[str, Any], ScanResult]]]:
    records = load_labels(labels)
    jobs = [ScanJob(path=str(root / r["path"]), display=r["path"]) for r in records]
    results = list(LocalEngine(config, workers).run(jobs))
    from scanner.policy import load_policy

    threshold = threshold if threshold is not None else load_policy(config.policy_file).thresholds.confidential
    outcomes = [outcome(r, res) for r, res in zip(records, results, strict=True)]
    summary = report(outcomes, threshold)
    summary["unscanned"] = [res.path for res in results if res.status != "ok"]
    return summary, list(zip(records, results, strict=True))


def markdown(summary: dict[str, Any]) -> str:
    parts = [f"Threshold {summary['threshold']}", "", "Overall", "", markdown_table({"all": summary["overall"]})]
    for key, title in (("by_language", "By language"), ("by_format", "By format"), ("by_difficulty", "By difficulty")):
        parts += ["", title, "", markdown_table(summary[key])]
    parts += ["", "Threshold sweep", "", "| threshold | precision | recall | f1 | false_positive_rate |", "|---|---|---|---|---|"]
    parts += [f"| {r['threshold']} | {r['precision']} | {r['recall']} | {r['f1']} | {r['false_positive_rate']} |" for r in summary["sweep"]]
    if summary.get("unscanned"):
        parts += ["", f"Not scanned (counted as flagged): {', '.join(summary['unscanned'][:20])}"]
    return "\n".join(parts)
