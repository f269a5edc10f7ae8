"""The scanner: extract → segment → detect → score → report, top to bottom in :meth:`Scanner.scan`."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from .data import Extraction, Finding, ScanResult
from .detectors.classifier import ClassifierDetector, rule_detectors, run_rules
from .errors import ExtractionError, error_info, status_of
from .extraction import extract_bytes, extract_path
from .features import DocumentSignals, document_features
from .model import Model
from .policy import Policy, load_policy
from .scoring import PUBLIC, DocumentScore, Scorer
from .segmentation import Passage, Segmenter
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

# member failures that leave part of a container unread: the container cannot be cleared as public
BLOCKING_MEMBER_STATUSES = ("encrypted", "corrupt", "too_large", "timeout", "error")


class SecretRegistry(Protocol):
    """What the scanner needs from the secret registry (``scanner.registry``)."""

    def match(self, passages: Sequence[Passage]) -> tuple[list[list[Finding]], float]:
        """Per passage, registry findings; and the document-level match score."""


@dataclass(frozen=True)
class Target:
    """A document to scan: a path to read, or bytes already in memory under a display name."""

    name: str
    data: bytes | None = None
    sha256: str | None = None


class Scanner:
    """Scans documents for trade secrets. Constructing is cheap; :meth:`load` loads what is heavy.

    Args:
        settings: limits and locations (default: from the environment).
        policy: thresholds, switches and allow-lists (default: the shipped policy).
        model: a :class:`~scanner.model.Model` or a model directory (default: the shipped ``models/``).
        registry: the secret registry to consult, if any.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        policy: Policy | None = None,
        model: Model | str | Path | None = None,
        registry: SecretRegistry | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.policy = policy or load_policy(self.settings.policy_file)
        self.model = model if isinstance(model, Model) else Model(model or self.settings.model_dir)
        self.registry = registry
        self.segmenter = Segmenter()
        self.classifier = ClassifierDetector(self.model)
        self.scorer = Scorer(self.policy)
        self.detectors: list = []

    def load(self) -> Scanner:
        """Load the segmenter's dictionaries, the detectors' automata and the model (once)."""
        self.segmenter.load()
        self.detectors = rule_detectors()
        self.classifier.load()
        return self

    @property
    def loaded(self) -> bool:
        return bool(self.detectors) and self.model.loaded

    def scan(self, target: str | Path | Target, password: str | None = None) -> ScanResult:
        """Scan one document; failures become a typed status in the result, never an exception."""
        if not self.loaded:
            self.load()
        started = time.perf_counter()
        extraction = self._extract(target, password)  # extract
        if not extraction.ok:
            return self._unreadable(extraction, started)
        try:
            passages = self.segmenter.segment(extraction.blocks)  # segment
            signals = run_rules(self.detectors, passages)  # detect: rules
            matches, registry_score = self._registry(passages)  # detect: registered secret points
            document = DocumentSignals.collect(signals)
            probabilities, tfidf_mean = self.classifier.probabilities(passages, signals, document)  # detect: classifier
            passage_scores = self.scorer.score_passages(  # score
                passages, signals, probabilities, self.model.labels, document, matches)
            secret = [(1.0 - float(p[self.model.labels.index("none")])) * _known_public(matches, i)
                      for i, p in enumerate(probabilities)]
            doc_features = document_features(secret, signals, document, registry_score)
            doc_probability = float(self.model.document_probability(doc_features, tfidf_mean)[0]) if passages else 0.0
            scored = self.scorer.score_document(passage_scores, doc_probability, signals, registry_score=registry_score)
        except Exception as exc:  # a bug or resource failure costs this file, not the batch
            log.exception("scanning %s failed", extraction.path)
            failed = replace(extraction, status=status_of(exc), error=error_info(exc))
            return self._unreadable(failed, started)
        return self._report(extraction, scored, started)  # report

    # --- stages -----------------------------------------------------------------------------
    def _extract(self, target: str | Path | Target, password: str | None) -> Extraction:
        if isinstance(target, Target):
            if target.data is not None:
                return extract_bytes(target.name, target.data, settings=self.settings, password=password, sha256=target.sha256)
            target = target.name
        return extract_path(target, settings=self.settings, password=password)

    def _registry(self, passages: Sequence[Passage]) -> tuple[list[list[Finding]] | None, float]:
        if self.registry is None or not passages:
            return None, 0.0
        return self.registry.match(passages)

    def _report(self, extraction: Extraction, scored: DocumentScore, started: float) -> ScanResult:
        warnings = list(extraction.warnings) + list(scored.notes)
        status, error, verdict = "ok", None, scored.verdict
        allowed = self.policy.allows_document(extraction.path, extraction.sha256)
        if allowed is not None:
            warnings.append(f"judged public by the policy's document allow-list ({allowed})")
            scored = DocumentScore(0.0, "public", "none", (), (), scored.notes)
            verdict = "public"
        blocking = [m for m in extraction.member_errors if m.status in BLOCKING_MEMBER_STATUSES]
        if blocking and verdict != "confidential":
            # Fail closed: part of the container could not be read, so it cannot be cleared as public.
            first = blocking[0]
            status, verdict = first.status, "unknown"
            error = {"type": first.error["type"],
                     "message": f"{len(blocking)} embedded file(s) could not be read, e.g. {first.attachment}: {first.error['message']}"}
        return ScanResult(
            path=extraction.path,
            sha256=extraction.sha256,
            status=status,
            error=error,
            verdict=verdict,
            score=scored.score,
            level=scored.level if verdict != "unknown" else "none",
            categories=scored.categories,
            findings=scored.findings,
            warnings=tuple(warnings),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            format=extraction.format,
            size=extraction.size,
            model=self.model.version,
            policy=self.policy.fingerprint(),
        )

    def _unreadable(self, extraction: Extraction, started: float) -> ScanResult:
        return ScanResult(
            path=extraction.path,
            sha256=extraction.sha256,
            status=extraction.status,
            error=extraction.error,
            verdict="unknown",
            score=0.0,
            level="none",
            warnings=extraction.warnings,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            format=extraction.format,
            size=extraction.size,
            model=self.model.version,
            policy=self.policy.fingerprint(),
        )


def _known_public(matches: Sequence[Sequence[Finding]] | None, i: int) -> float:
    """The factor by which allow-list (public) registry matches lower passage ``i``'s secret probability."""
    factor = 1.0
    for match in matches[i] if matches else ():
        if match.category == PUBLIC:
            factor *= 1.0 - match.score
    return factor


def failed_result(path: str, exc: BaseException, sha256: str = "") -> ScanResult:
    """The result for a file whose scan died outside the scanner (worker crash, timeout)."""
    status = status_of(exc) if isinstance(exc, ExtractionError | TimeoutError | MemoryError) else "error"
    return ScanResult(path=path, sha256=sha256, status=status, error=error_info(exc), verdict="unknown", level="none")
