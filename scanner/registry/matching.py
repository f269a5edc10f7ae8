"""From fingerprint hits to matched regions: where an outbound text repeats a registered document.

A *hit* is one gram of the outbound text whose keyed hash is a fingerprint of registered document
``d``: (outbound position ``q``, position in ``d``, weight). Hits of common grams prove nothing —
short phrases (中华人民共和国, "in the United States") are shared by unrelated texts all the time —
so a match needs many hits that line up on *both* sides:

1. **chains**: hits whose diagonal ``d − q`` stays within :data:`BAND` characters (an edit shifts
   it by one) and whose outbound gap stays under :data:`MAX_GAP` form a chain — a piece of text
   copied in order. A chain counts only from :data:`MIN_CHAIN` weighted hits on: a phrase shared
   by chance gives a chain of one or two hits.
2. **regions**: chains of one registered document that follow each other in the outbound text
   (gap under :data:`REGION_GAP`) and come from one stretch of it (sentences of an excerpt may be
   reordered, but an excerpt comes from one place) join into a region.
3. a region is a match when its weighted hits reach :data:`MIN_EVIDENCE` and it covers at least
   :data:`MIN_SPAN` folded characters.

A hit's weight falls with the number of registered documents that share its fingerprint
(:func:`weight`): boilerplate that many registered documents share adds little, and fingerprints
shared by more than :data:`MAX_DOCUMENT_FREQUENCY` documents are not even fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BAND = 3  # diagonal drift tolerated between consecutive hits of a chain (insertions, deletions)
MAX_GAP = 16  # outbound folded characters between consecutive hits of a chain
MIN_CHAIN = 2.0  # weighted hits of a chain for it to count at all
REGION_GAP = 24  # outbound folded characters between chains of one region
REGION_SLACK = 40  # a region's registered stretch may exceed its outbound length by this much
MIN_EVIDENCE = 8.0  # weighted hits of a region for a match
MIN_SPAN = 20  # folded characters a matching region covers, at least
FULL_WEIGHT_FREQUENCY = 3  # fingerprints in up to this many registered documents weigh 1
MAX_DOCUMENT_FREQUENCY = 64  # fingerprints in more registered documents are ignored


def weight(document_frequency: int) -> float:
    """The weight of a hit on a fingerprint that ``document_frequency`` registered documents share."""
    if document_frequency <= FULL_WEIGHT_FREQUENCY:
        return 1.0
    if document_frequency > MAX_DOCUMENT_FREQUENCY:
        return 0.0
    return FULL_WEIGHT_FREQUENCY / document_frequency


@dataclass(frozen=True, slots=True)
class Region:
    """A stretch of the outbound text that repeats part of registered document ``doc``.

    ``start``/``end`` are folded offsets in the outbound text (``end``: end of the last hit's gram);
    ``evidence`` the weighted hits, ``hits`` their number; ``doc_start``/``doc_end`` the registered
    positions the hits cover; ``fingerprints`` the distinct fingerprints hit.
    """

    doc: int
    start: int
    end: int
    evidence: float
    hits: int
    doc_start: int
    doc_end: int
    fingerprints: frozenset[int] = frozenset()


@dataclass
class _Chain:
    last_q: int
    diagonal: int
    start: int
    end: int
    doc_start: int
    doc_end: int
    keys: dict[int, float]  # fingerprint -> weight: a fingerprint counts once, however often it repeats

    @property
    def evidence(self) -> float:
        return sum(self.keys.values())

    def take(self, q: int, q_end: int, d: int, w: float, key: int) -> None:
        self.keys[key] = w
        self.last_q, self.diagonal = q, d - q
        self.end = max(self.end, q_end)
        self.doc_start, self.doc_end = min(self.doc_start, d), max(self.doc_end, d)


def chains(query: np.ndarray, query_ends: np.ndarray, doc_positions: np.ndarray, weights: np.ndarray,
           keys: np.ndarray) -> list[_Chain]:
    """Colinear chains of hits (see the module docstring), in outbound order of their start."""
    order = np.lexsort((doc_positions, query))
    active: list[_Chain] = []
    finished: list[_Chain] = []
    for q, qe, d, w, key in zip(query[order].tolist(), query_ends[order].tolist(), doc_positions[order].tolist(),
                                weights[order].tolist(), keys[order].tolist(), strict=True):
        diagonal = d - q
        still = []
        best: _Chain | None = None
        for chain in active:
            if q - chain.last_q > MAX_GAP:
                finished.append(chain)
                continue
            still.append(chain)
            drift = abs(diagonal - chain.diagonal)
            if drift <= BAND and (best is None or drift < abs(diagonal - best.diagonal)):
                best = chain
        active = still
        if best is None:
            active.append(_Chain(q, diagonal, q, qe, d, d, {key: w}))
        else:
            best.take(q, qe, d, w, key)
    finished.extend(active)
    finished.sort(key=lambda c: c.start)
    return finished


def find_regions(
    doc: int,
    query: np.ndarray,
    query_ends: np.ndarray,
    doc_positions: np.ndarray,
    weights: np.ndarray,
    keys: np.ndarray,
    *,
    min_evidence: float = MIN_EVIDENCE,
    min_span: int = MIN_SPAN,
) -> list[Region]:
    """Matched regions of one registered document.

    Args:
        doc: the registered document's id.
        query: outbound folded start of each hit's gram.
        query_ends: outbound folded end of each hit's gram.
        doc_positions: the fingerprint's position in the registered document, per hit.
        weights: per hit, :func:`weight` of the fingerprint.
        keys: per hit, the fingerprint itself (a fingerprint counts once per region).
        min_evidence, min_span: thresholds of a match (defaults: the module constants).
    """
    if len(query) == 0 or float(weights.sum()) < min_evidence:
        return []
    strong = [c for c in chains(query, query_ends, doc_positions, weights, keys) if c.evidence >= MIN_CHAIN]
    regions: list[Region] = []
    current: list[_Chain] = []
    for chain in strong:
        if current and _joins(current, chain):
            current.append(chain)
            continue
        if current:
            regions.append(_region(doc, current))
        current = [chain]
    if current:
        regions.append(_region(doc, current))
    return [r for r in regions if r.evidence >= min_evidence and r.end - r.start >= min_span]


def _joins(current: list[_Chain], chain: _Chain) -> bool:
    end = max(c.end for c in current)
    if chain.start - end > REGION_GAP:
        return False
    start = min(c.start for c in current)
    doc_start = min(min(c.doc_start for c in current), chain.doc_start)
    doc_end = max(max(c.doc_end for c in current), chain.doc_end)
    return doc_end - doc_start <= max(end, chain.end) - start + REGION_SLACK


def _region(doc: int, group: list[_Chain]) -> Region:
    keys: dict[int, float] = {}
    for chain in group:
        keys.update(chain.keys)
    return Region(
        doc=doc,
        start=min(c.start for c in group),
        end=max(c.end for c in group),
        evidence=sum(keys.values()),
        hits=len(keys),
        doc_start=min(c.doc_start for c in group),
        doc_end=max(c.doc_end for c in group),
        fingerprints=frozenset(keys),
    )
