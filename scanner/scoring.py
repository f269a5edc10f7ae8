"""Scoring: evidence in, passage scores, a document score, a verdict and a level out.

Passage score
    The classifier's calibrated probability that the passage carries secret substance of an enabled
    category (1 − p(none) − p(disabled categories)); its category is the most probable enabled one.
    The classifier already weighs the rule detectors' signals (they are its numeric features), so
    rules are not added a second time: their findings are listed as the evidence behind the score.
    A registered secret point found in the passage lifts its score to the match score.

Document score
    Not the maximum: the document combiner (trained on aggregated passage evidence) reads how many
    passages are how secret, the markings and the public-context cues of the whole document, so one
    marked page of boilerplate stays public while one real secret row in a 40-row sheet does not.

Every threshold comes from the :class:`~scanner.policy.Policy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .data import Evidence, Finding
from .features import DocumentSignals
from .policy import Policy
from .segmentation import Passage
from .taxonomy import NONE, SUBSTANTIVE

PUBLIC = "public"  # category of negative evidence: allow-list registry matches, public-context cues

MAX_EVIDENCE = 8
SECONDARY = ("marking", "personal_info")


@dataclass(frozen=True)
class PassageScore:
    passage: Passage
    category: str
    score: float
    evidence: tuple[Evidence, ...]
    allowed_by: str | None = None


@dataclass(frozen=True)
class DocumentScore:
    score: float
    verdict: str
    level: str
    findings: tuple[Finding, ...]
    categories: tuple[str, ...]
    notes: tuple[str, ...]


class Scorer:
    """Combines detector evidence and classifier probabilities under a policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._allowed_terms = policy.allowed_terms()

    def score_passages(
        self,
        passages: Sequence[Passage],
        signals: Sequence[Sequence[Finding]],
        probabilities: np.ndarray,
        labels: Sequence[str],
        document: DocumentSignals,
        registry: Sequence[Sequence[Finding]] | None = None,
    ) -> list[PassageScore]:
        enabled = [j for j, label in enumerate(labels) if label in SUBSTANTIVE and self.policy.enabled(label)]
        scores = []
        for i, passage in enumerate(passages):
            p = probabilities[i]
            if enabled:
                j = max(enabled, key=lambda k: p[k])
                category, secret = labels[j], float(sum(p[k] for k in enabled))
            else:
                category, secret = NONE, 0.0
            evidence = [Evidence("classifier", f"{category} p={p[j] if enabled else 0:.2f}; secret p={secret:.2f}", secret)]
            matches = list(registry[i]) if registry else []
            for match in matches:
                if match.category == PUBLIC:  # a registered public text (allow-list registry)
                    secret *= 1.0 - match.score
                elif match.score > secret and self.policy.enabled(match.category):
                    secret, category = match.score, match.category
            evidence.extend(e for f in matches for e in f.evidence)
            evidence.extend(self._rule_evidence(signals[i], document))
            allowed = next((t for t in self._allowed_terms if t in passage.norm_text), None)
            scores.append(PassageScore(passage, category, min(1.0, max(0.0, secret)), tuple(evidence[:MAX_EVIDENCE]), allowed))
        return scores

    @staticmethod
    def _rule_evidence(findings: Sequence[Finding], document: DocumentSignals) -> list[Evidence]:
        evidence = sorted((e for f in findings for e in f.evidence), key=lambda e: -abs(e.weight))
        kinds = {e.kind for e in evidence}
        if document.public > 0 and document.public_cues:
            evidence.append(Evidence("public_context", "document: " + ", ".join(document.public_cues[:4]), -document.public))
        if document.marking > 0 and "marking" not in kinds:
            evidence.append(Evidence("marking", "the document carries a confidentiality legend", document.marking))
        return evidence

    def score_document(
        self,
        passage_scores: Sequence[PassageScore],
        document_probability: float,
        signals: Sequence[Sequence[Finding]],
        *,
        registry_score: float = 0.0,
    ) -> DocumentScore:
        t = self.policy.thresholds
        score = float(document_probability)
        notes: list[str] = []
        if registry_score >= t.registry:
            score = max(score, registry_score)
        candidates = [s for s in passage_scores if s.allowed_by is None]
        if len(candidates) < len(passage_scores):
            notes.append(f"{len(passage_scores) - len(candidates)} passage(s) skipped by the policy's allow-list")
        if not candidates and passage_scores:
            score = 0.0
        verdict = "confidential" if score >= t.confidential else "public"
        findings: list[Finding] = []
        if verdict == "confidential":
            flagged = [s for s in candidates if s.score >= t.finding and s.category in SUBSTANTIVE]
            if not flagged and candidates:  # the document is confidential: show the reviewer where to look
                flagged = [max(candidates, key=lambda s: s.score)]
            findings = [self._finding(s) for s in flagged]
            findings.extend(self._secondary(signals, {f.block for f in findings}))
        elif any(e.kind == "marking" for fs in signals for f in fs for e in f.evidence):
            notes.append("the document carries a confidentiality legend, but no secret substance was found")
        categories = tuple(sorted({f.category for f in findings}, key=_category_order))
        return DocumentScore(score, verdict, self.policy.level(score), tuple(findings), categories, tuple(notes))

    @staticmethod
    def _finding(s: PassageScore) -> Finding:
        p = s.passage
        location = p.location
        if p.block.cells:
            cell = p.block.cell_at(p.start)
            if cell is not None:
                location = replace(location, cell=cell.ref, row=cell.row, col=cell.col)
        return Finding(
            detector="scoring",
            category=s.category,
            text=p.text,
            block=p.block_index,
            start=p.start,
            end=p.end,
            location=location,
            score=s.score,
            evidence=s.evidence,
        )

    def _secondary(self, signals: Sequence[Sequence[Finding]], blocks: set[int]) -> list[Finding]:
        """Markings and personal identifiers, shown beside the substantive findings."""
        out = []
        seen = set()
        for findings in signals:
            for f in findings:
                if f.category in SECONDARY and self.policy.enabled(f.category) and (f.block, f.start, f.end) not in seen:
                    seen.add((f.block, f.start, f.end))
                    out.append(f)
        return out


def _category_order(category: str) -> int:
    order = (*SUBSTANTIVE, *SECONDARY)
    return order.index(category) if category in order else len(order)
