"""Registered secret points (秘点) found in a passage: the secret registry as a detector.

The :class:`~scanner.registry.Registry` finds where passages repeat registered documents; this
detector turns each (passage, registered document) match into a finding on the matched span, with
evidence kind ``registry``. Matches of the allow-list (documents registered as public) get category
``public`` and negative evidence weight: the scorer lowers the passage's score by the share of it
that is known to be public. With no registry configured it finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..data import Finding
from ..segmentation import Passage
from ..taxonomy import SUBSTANTIVE
from .base import Detector, register, snippet

PUBLIC = "public"


@register
class RegistryDetector(Detector):
    """Passages that repeat a registered document (or, as negative evidence, a registered public text)."""

    name = "registry"
    categories = (*SUBSTANTIVE, PUBLIC)
    evidence_kind = "registry"

    def __init__(self, registry: Any = None, **options: Any) -> None:
        super().__init__(**options)
        self.registry = registry

    def detect(self, passage: Passage) -> list[Finding]:
        return self.detect_batch([passage])[0]

    def detect_batch(self, passages: Sequence[Passage]) -> list[list[Finding]]:
        return self.match(passages)[0]

    def match(self, passages: Sequence[Passage]) -> tuple[list[list[Finding]], float]:
        """Per passage, findings; and the document score: the best confidence of a secret match."""
        out: list[list[Finding]] = [[] for _ in passages]
        if self.registry is None or not passages:
            return out, 0.0
        score = 0.0
        for m in self.registry.matches(passages):
            passage = passages[m.passage]
            doc = m.document
            where = (f"{m.share:.0%} of the passage ({m.characters} letters/digits, {m.fingerprints} fingerprints); "
                     f"file: {m.file_share:.0%} of it from this document, {m.document_share:.0%} of the document's fingerprints")
            if doc.public:
                detail = f"known public text {doc.label!r} (registry #{doc.id}): {where}"
                finding = self.finding(passage, m.start, m.end, PUBLIC, -m.share, detail)
            else:
                detail = f"registered secret point {doc.label!r} (registry #{doc.id}, {doc.category}): {where}"
                finding = self.finding(passage, m.start, m.end, doc.category, m.confidence, detail)
                score = max(score, m.confidence)
            if finding.text:
                finding = _with_quote(finding)
            out[m.passage].append(finding)
        return out, score


def _with_quote(finding: Finding) -> Finding:
    from dataclasses import replace

    evidence = tuple(replace(e, detail=f"{e.detail}; matched: “{snippet(finding.text, 30)}”") for e in finding.evidence)
    return replace(finding, evidence=evidence)
