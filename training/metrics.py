"""Evaluation metrics: document precision/recall/F1/FPR, secret-passage recall, category accuracy,
each overall and by language, format (render) and difficulty, plus a threshold sweep."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class DocOutcome:
    """One evaluated document."""

    id: str
    confidential: bool  # truth
    score: float  # predicted document score
    lang: str
    render: str
    difficulty: str
    source: str
    secret_passages: int = 0  # truth: passages with a substantive label
    found_passages: int = 0  # of those, passages predicted secret (score >= finding threshold)
    category_correct: int = 0  # of the found ones, with the right category


def document_metrics(outcomes: Sequence[DocOutcome], threshold: float) -> dict[str, Any]:
    tp = sum(o.confidential and o.score >= threshold for o in outcomes)
    fp = sum((not o.confidential) and o.score >= threshold for o in outcomes)
    fn = sum(o.confidential and o.score < threshold for o in outcomes)
    tn = sum((not o.confidential) and o.score < threshold for o in outcomes)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    secret = sum(o.secret_passages for o in outcomes)
    found = sum(o.found_passages for o in outcomes)
    correct = sum(o.category_correct for o in outcomes)
    return {
        "documents": len(outcomes),
        "confidential": tp + fn,
        "public": fp + tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_positive_rate": round(fp / (fp + tn), 4) if fp + tn else 0.0,
        "passage_recall": round(found / secret, 4) if secret else None,
        "category_accuracy": round(correct / found, 4) if found else None,
    }


def by(outcomes: Sequence[DocOutcome], key: Callable[[DocOutcome], str], threshold: float) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[DocOutcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    return {k: document_metrics(v, threshold) for k, v in sorted(groups.items())}


def sweep(outcomes: Sequence[DocOutcome], thresholds: Sequence[float] = tuple(np.round(np.arange(0.1, 0.95, 0.05), 2))) -> list[dict[str, Any]]:
    rows = []
    for t in thresholds:
        m = document_metrics(outcomes, float(t))
        rows.append({"threshold": float(t), "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                     "false_positive_rate": m["false_positive_rate"]})
    return rows


def report(outcomes: Sequence[DocOutcome], threshold: float) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "overall": document_metrics(outcomes, threshold),
        "by_language": by(outcomes, lambda o: o.lang, threshold),
        "by_format": by(outcomes, lambda o: o.render, threshold),
        "by_difficulty": by(outcomes, lambda o: f"{o.difficulty}/{'confidential' if o.confidential else 'public'}", threshold),
        "by_source": by(outcomes, lambda o: o.source, threshold),
        "sweep": sweep(outcomes),
    }


def markdown_table(rows: dict[str, dict[str, Any]], columns: Sequence[str] = ("documents", "precision", "recall", "f1",
                                                                                  "false_positive_rate", "passage_recall",
                                                                                  "category_accuracy")) -> str:
    lines = ["| group | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, m in rows.items():
        lines.append(f"| {name} | " + " | ".join("" if m.get(c) is None else str(m.get(c)) for c in columns) + " |")
    return "\n".join(lines)
