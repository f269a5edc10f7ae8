"""The classifier as a detector: the ONNX passage model over text and the rule detectors' signals.

In a scan the :class:`~scanner.scan.Scanner` hands it the signals it already computed
(:meth:`ClassifierDetector.probabilities`); used alone, :meth:`detect_batch` runs the rule detectors
itself so the detector contract holds like for any other detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import Finding
from ..features import DocumentSignals, feature_matrix
from ..model import Model
from ..segmentation import Passage
from ..taxonomy import NONE, SUBSTANTIVE
from .base import Detector, register, registered

RULE_DETECTORS = ("marking", "process_parameters", "composition", "pricing", "bid", "salary", "test_data",
                  "source_code", "identifiers", "lexicon", "public_context")


def rule_detectors() -> list[Detector]:
    """Loaded instances of the rule detectors whose signals feed the classifier."""
    classes = registered()
    return [classes[name]().load() for name in RULE_DETECTORS]


def run_rules(detectors: Sequence[Detector], passages: Sequence[Passage]) -> list[list[Finding]]:
    """Per passage, the findings of all ``detectors``."""
    signals: list[list[Finding]] = [[] for _ in passages]
    for detector in detectors:
        for i, found in enumerate(detector.detect_batch(passages)):
            signals[i].extend(found)
    return signals


@register
class ClassifierDetector(Detector):
    """Passage category from the shipped (or a retrained) ONNX model."""

    name = "classifier"
    categories = SUBSTANTIVE
    evidence_kind = "classifier"

    def __init__(self, model: Model | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.model = model or Model()
        self._rules: list[Detector] | None = None

    def load(self) -> ClassifierDetector:
        if not self.model.loaded:
            self.model.load()
        return self

    def probabilities(
        self, passages: Sequence[Passage], signals: Sequence[Sequence[Finding]], document: DocumentSignals | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-passage class probabilities of one document's passages, and the document's mean TF-IDF row."""
        texts, numeric = feature_matrix(passages, signals, document)
        return self.model.passage_probabilities(texts, numeric)

    def detect(self, passage: Passage) -> list[Finding]:
        return self.detect_batch([passage])[0]

    def detect_batch(self, passages: Sequence[Passage]) -> list[list[Finding]]:
        if self._rules is None:
            self._rules = rule_detectors()
        probabilities, _ = self.probabilities(passages, run_rules(self._rules, passages))
        labels = self.model.labels
        out: list[list[Finding]] = []
        for passage, p in zip(passages, probabilities, strict=True):
            j = max((k for k, label in enumerate(labels) if label != NONE), key=lambda k: p[k])
            secret = 1.0 - float(p[labels.index(NONE)])
            out.append([self.whole(passage, labels[j], secret, f"{labels[j]} p={p[j]:.2f}; secret p={secret:.2f}")])
        return out
