"""The secret registry (秘点登记): register documents a company knows are secret, find them in outbound files.

Registering a document stores keyed, winnowed fingerprints of its normalised text
(:mod:`~scanner.registry.fingerprint`) and its metadata — never its text — in a SQLite file
(:mod:`~scanner.registry.store`), and appends an entry to a hash-chained evidence log
(:mod:`~scanner.registry.ledger`). At scan time :meth:`Registry.match` looks up every gram of a
document's passages in one query and turns the hits into matched regions
(:mod:`~scanner.registry.matching`); the ``registry`` detector turns regions into findings.

Documents registered with ``public=True`` form the allow-list: text known to be public (the
company's website, its published patents, its public price list). Their matches are negative
evidence, category ``public``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Block, Extraction, Finding
from ..errors import RegistryError
from ..normalize import normalize
from ..settings import Settings, get_settings
from ..taxonomy import SUBSTANTIVE
from . import ledger, matching
from .fingerprint import Fingerprinter, Folded, fold
from .ledger import Verification
from .store import Store

__all__ = ["PUBLIC", "Match", "RegisteredDocument", "Registry", "Verification", "open_registry"]

PUBLIC = "public"  # the category of allow-list documents (scanner.scoring.PUBLIC)


@dataclass(frozen=True, slots=True)
class RegisteredDocument:
    """A registered document's metadata (its text is never kept)."""

    id: int
    label: str
    category: str
    owner: str | None
    public: bool
    sha256: str
    name: str | None
    format: str | None
    registered_at: str
    chars: int
    fingerprints: int
    existing: bool = False  # True when add() found it already registered

    @classmethod
    def from_row(cls, row: dict[str, Any], existing: bool = False) -> RegisteredDocument:
        return cls(id=int(row["id"]), label=str(row["label"]), category=str(row["category"]), owner=row["owner"],
                   public=bool(row["public"]), sha256=str(row["sha256"]), name=row["name"], format=row["format"],
                   registered_at=str(row["registered_at"]), chars=int(row["chars"]),
                   fingerprints=int(row["fingerprints"]), existing=existing)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "category": self.category, "owner": self.owner,
                "public": self.public, "sha256": self.sha256, "name": self.name, "format": self.format,
                "registered_at": self.registered_at, "chars": self.chars, "fingerprints": self.fingerprints}


@dataclass(frozen=True, slots=True)
class Match:
    """Where one passage repeats one registered document (before it becomes a :class:`Finding`).

    ``start``/``end`` are offsets in the passage's normalised text; ``share`` the part of the
    passage's letters and digits covered; ``confidence`` in [0, 1] grows with the weighted hits of
    the best region (:func:`confidence`); ``file_share`` and ``document_share`` are the
    document-level containment: how much of the outbound file comes from the registered document,
    and how much of the registered document's fingerprints the file repeats.
    """

    passage: int
    document: RegisteredDocument
    start: int
    end: int
    share: float
    characters: int
    fingerprints: int
    confidence: float
    file_share: float
    document_share: float


def confidence(evidence: float) -> float:
    """0.6 at the minimum evidence of a match, approaching 1 as the matched region grows."""
    return min(1.0, 0.6 + 0.4 * max(0.0, 1.0 - matching.MIN_EVIDENCE / max(evidence, 1e-9)))


@dataclass
class _Query:
    """The grams of a document's passages in one coordinate space (their folded texts end to end)."""

    folded: list[Folded] = field(default_factory=list)
    bases: list[int] = field(default_factory=list)
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def length(self) -> int:
        return self.bases[-1] + len(self.folded[-1].text) if self.folded else 0


class Registry:
    """A secret registry in one SQLite file. Opening is cheap; nothing heavy is loaded.

    Args:
        path: the registry database (created with a fresh secret when missing and ``create``).
        create: create the file when it does not exist (otherwise :class:`RegistryError`).
        settings: extraction limits for :meth:`add`.
    """

    def __init__(self, path: str | Path, *, create: bool = True, settings: Settings | None = None) -> None:
        self.path = Path(path)
        self.settings = settings
        self.store = Store(self.path, create=create)
        self.fingerprinter = Fingerprinter(self.store.secret)
        self._detector: Any = None

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- registering -------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[Registry]:
        """Register many documents in one transaction (all or nothing, and much faster)."""
        with self.store.transaction():
            yield self

    def extract(self, path: str | Path, password: str | None = None) -> Extraction:
        """Read ``path`` with the extractors; raise :class:`RegistryError` unless it extracts ok."""
        from ..extraction import extract_path

        extraction = extract_path(path, settings=self.settings or get_settings(), password=password)
        if not extraction.ok:
            message = (extraction.error or {}).get("message", "")
            raise RegistryError(f"{path}: cannot register a file that does not extract ({extraction.status}: {message})")
        if extraction.member_errors:
            first = extraction.member_errors[0]
            raise RegistryError(f"{path}: cannot register it whole: embedded file {first.attachment} could not be read ({first.status})")
        return extraction

    def add(self, path: str | Path, label: str, *, category: str | None = None, owner: str | None = None,
            public: bool = False, password: str | None = None) -> RegisteredDocument:
        """Register one file (any format the extractors read)."""
        extraction = self.extract(path, password)
        return self.add_extraction(extraction, label, category=category, owner=owner, public=public)

    def add_extraction(self, extraction: Extraction, label: str, *, category: str | None = None,
                       owner: str | None = None, public: bool = False) -> RegisteredDocument:
        """Register an extracted document; ``category`` defaults to the classifier's reading of it."""
        if not extraction.ok:
            raise RegistryError(f"{extraction.path}: cannot register a document with status {extraction.status}")
        if category is None and not public:
            category = infer_category(extraction.blocks)
        return self.add_blocks(extraction.blocks, label, sha256=extraction.sha256, name=Path(extraction.path).name,
                               format=extraction.format, category=category, owner=owner, public=public)

    def add_text(self, text: str, label: str, *, category: str | None = None, owner: str | None = None,
                 public: bool = False, name: str | None = None) -> RegisteredDocument:
        """Register text held in memory (its SHA-256 is that of its UTF-8 bytes)."""
        blocks = (Block(text),)
        if category is None and not public:
            category = infer_category(blocks)
        return self.add_blocks(blocks, label, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), name=name,
                               format="text", category=category, owner=owner, public=public)

    def add_blocks(self, blocks: Sequence[Block], label: str, *, sha256: str, category: str | None,
                   owner: str | None = None, public: bool = False, name: str | None = None,
                   format: str | None = None) -> RegisteredDocument:
        """Fingerprint ``blocks`` and store the fingerprints, the metadata and an evidence-log entry."""
        label = label.strip()
        if not label:
            raise RegistryError("a registered document needs a non-empty --label")
        if public:
            category = PUBLIC
        elif category not in SUBSTANTIVE:
            raise RegistryError(f"unknown category {category!r}; use one of {', '.join(SUBSTANTIVE)}")
        assert category is not None
        folded = fold("".join(normalize(b.text).text + "\n" for b in blocks))
        starts, _, keys = self.fingerprinter.fingerprints(folded)
        if not keys:
            raise RegistryError(f"{name or label}: no text to fingerprint ({len(folded.text)} letters and digits); nothing registered")
        with self.store.transaction():
            for row in self.store.documents("WHERE sha256 = ? AND public = ?", (sha256, int(public))):
                return RegisteredDocument.from_row(row, existing=True)
            row: dict[str, Any] = {
                "label": label, "category": category, "owner": owner, "public": int(public), "sha256": sha256,
                "name": name, "format": format, "registered_at": _now(), "chars": len(folded.text),
                "fingerprints": 0,
            }
            pairs = dict(zip(starts.tolist(), keys, strict=True))  # position -> fingerprint
            unique = {(key, pos) for pos, key in pairs.items()}
            row["fingerprints"] = len(unique)
            doc_id = self.store.insert_document(row)
            self.store.insert_fingerprints(doc_id, unique)
            ledger.append(self.store, {
                "action": "register", "registry_id": doc_id, "sha256": sha256, "time": row["registered_at"],
                "label": label, "owner": owner, "category": category, "public": public, "name": name,
                "format": format, "chars": row["chars"], "fingerprints": row["fingerprints"],
            })
            row["id"] = doc_id
        return RegisteredDocument.from_row(row)

    def remove(self, doc_id: int) -> RegisteredDocument:
        """Remove one registered document (its fingerprints go; the evidence log records the removal)."""
        with self.store.transaction():
            rows = self.store.documents("WHERE id = ?", (doc_id,))
            if not rows:
                raise RegistryError(f"no registered document #{doc_id}; `midian registry list` shows the ids")
            doc = RegisteredDocument.from_row(rows[0])
            self.store.delete_document(doc_id)
            ledger.append(self.store, {"action": "remove", "registry_id": doc_id, "sha256": doc.sha256,
                                       "label": doc.label, "time": _now()})
        return doc

    def remove_label(self, label: str) -> list[RegisteredDocument]:
        """Remove every document registered under ``label``."""
        with self.store.transaction():
            return [self.remove(int(str(row["id"]))) for row in self.store.documents("WHERE label = ?", (label,))]

    # --- reading -----------------------------------------------------------------------------
    def documents(self) -> list[RegisteredDocument]:
        return [RegisteredDocument.from_row(row) for row in self.store.documents()]

    def get(self, doc_id: int) -> RegisteredDocument | None:
        rows = self.store.documents("WHERE id = ?", (doc_id,))
        return RegisteredDocument.from_row(rows[0]) if rows else None

    def verify(self) -> Verification:
        """Recompute the evidence log's hash chain and check the registry against it."""
        return ledger.verify(self.store)

    def receipt(self, doc_id: int) -> dict[str, Any]:
        """The JSON receipt of a registration: the evidence-log entry with its chain hashes."""
        found = ledger.receipt(self.store, doc_id)
        if found is None:
            raise RegistryError(f"no registration of document #{doc_id} in the evidence log; `midian registry list` shows the ids")
        return found

    # --- matching ----------------------------------------------------------------------------
    def match(self, passages: Sequence[Any]) -> tuple[list[list[Finding]], float]:
        """Per passage, registry findings; and the document-level match score (the ``SecretRegistry`` protocol)."""
        if self._detector is None:
            from ..detectors.registry import RegistryDetector

            self._detector = RegistryDetector(registry=self)
        return self._detector.match(passages)  # type: ignore[no-any-return]

    def matches(self, passages: Sequence[Any]) -> list[Match]:
        """Every (passage, registered document) pair where the passage repeats the document."""
        if not passages or not self.store.db.execute("SELECT EXISTS (SELECT 1 FROM document)").fetchone()[0]:
            return []
        query = self._query(passages)
        if len(query.keys) == 0:
            return []
        rows = self.store.lookup(query.keys.tolist(), matching.MAX_DOCUMENT_FREQUENCY)
        if not rows:
            return []
        regions = self._regions(query, np.asarray(rows, dtype=np.int64))
        if not regions:
            return []
        return self._to_matches(passages, query, regions)

    def _query(self, passages: Sequence[Any]) -> _Query:
        query = _Query()
        starts, ends, keys = [], [], []
        base = 0
        for passage in passages:
            folded = fold(passage.norm_text)
            grams = self.fingerprinter.grams(folded)
            query.folded.append(folded)
            query.bases.append(base)
            starts.append(grams.starts + base)
            ends.append(grams.ends + base)
            keys.extend(self.fingerprinter.keyed(folded.text, grams.starts, grams.ends))
            base += len(folded.text)
        query.starts = np.concatenate(starts) if starts else query.starts
        query.ends = np.concatenate(ends) if ends else query.ends
        query.keys = np.asarray(keys, dtype=np.int64)
        return query

    @staticmethod
    def _regions(query: _Query, rows: np.ndarray) -> list[matching.Region]:
        """Join the looked-up rows back to the query grams and find the regions of each document."""
        row_hash, row_docs, row_doc, row_pos = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        order = np.argsort(query.keys, kind="stable")
        sorted_keys = query.keys[order]
        lo = np.searchsorted(sorted_keys, row_hash, side="left")
        hi = np.searchsorted(sorted_keys, row_hash, side="right")
        counts = hi - lo
        row_index = np.repeat(np.arange(len(rows)), counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        gram_index = order[np.repeat(lo, counts) + offsets]
        weights = np.array([matching.weight(int(n)) for n in row_docs], dtype=np.float64)[row_index]
        doc = row_doc[row_index]
        regions: list[matching.Region] = []
        by_doc = np.argsort(doc, kind="stable")
        doc_sorted = doc[by_doc]
        bounds = np.flatnonzero(np.diff(doc_sorted)) + 1
        for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(doc_sorted)], strict=True):
            sel = by_doc[a:b]
            if len(sel) == 0 or float(weights[sel].sum()) < matching.MIN_EVIDENCE:
                continue
            g = gram_index[sel]
            regions.extend(matching.find_regions(int(doc_sorted[a]), query.starts[g], query.ends[g],
                                                 row_pos[row_index[sel]], weights[sel], row_hash[row_index[sel]]))
        return regions

    def _to_matches(self, passages: Sequence[Any], query: _Query, regions: list[matching.Region]) -> list[Match]:
        ids = sorted({r.doc for r in regions})
        marks = ",".join("?" * len(ids))
        documents = {int(str(row["id"])): RegisteredDocument.from_row(row)
                     for row in self.store.documents(f"WHERE id IN ({marks})", ids)}
        total = max(1, query.length)
        covered_by_doc: dict[int, int] = {}
        keys_by_doc: dict[int, set[int]] = {}
        for r in regions:
            covered_by_doc[r.doc] = covered_by_doc.get(r.doc, 0) + (r.end - r.start)
            keys_by_doc.setdefault(r.doc, set()).update(r.fingerprints)
        bases = np.asarray(query.bases, dtype=np.int64)
        parts: dict[tuple[int, int], list[tuple[int, int, matching.Region]]] = {}
        for r in regions:
            first = int(np.searchsorted(bases, r.start, side="right")) - 1
            for i in range(max(first, 0), len(passages)):
                base = query.bases[i]
                length = len(query.folded[i].text)
                if base >= r.end:
                    break
                lo, hi = max(r.start, base) - base, min(r.end, base + length) - base
                if hi > lo:
                    parts.setdefault((i, r.doc), []).append((lo, hi, r))
        out = []
        for (i, doc_id), pieces in sorted(parts.items()):
            document = documents.get(doc_id)
            if document is None:  # removed while we looked
                continue
            folded = query.folded[i]
            lo, hi = min(p[0] for p in pieces), max(p[1] for p in pieces)
            start, end = folded.source_span(lo, hi)
            covered = sum(p[1] - p[0] for p in pieces)
            best = max(p[2].evidence for p in pieces)
            out.append(Match(
                passage=i, document=document, start=start, end=end,
                share=min(1.0, covered / max(1, len(folded.text))), characters=covered,
                fingerprints=len(set().union(*(p[2].fingerprints for p in pieces))),
                confidence=confidence(best),
                file_share=min(1.0, covered_by_doc[doc_id] / total),
                document_share=min(1.0, len(keys_by_doc[doc_id]) / max(1, document.fingerprints)),
            ))
        return out


def open_registry(path: str | Path, create: bool = False, settings: Settings | None = None) -> Registry:
    """Open the registry at ``path``; with ``create`` a missing file becomes a new, empty registry."""
    return Registry(path, create=create, settings=settings)


def infer_category(blocks: Sequence[Block]) -> str:
    """The substantive category the shipped classifier finds most likely over the whole document."""
    from ..detectors.classifier import ClassifierDetector, rule_detectors, run_rules
    from ..model import Model
    from ..segmentation import default_segmenter

    passages = default_segmenter().segment(blocks)
    if not passages:
        raise RegistryError("the document has no text; nothing registered")
    classifier = ClassifierDetector(Model()).load()
    probabilities = classifier.probabilities(passages, run_rules(rule_detectors(), passages))
    labels = classifier.model.labels
    totals = probabilities.sum(axis=0)
    return max((label for label in labels if label in SUBSTANTIVE), key=lambda label: totals[labels.index(label)])


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
