"""The detector contract and its registry.

A detector is a small class with ``name``, ``categories`` and ``languages`` as class attributes and
``detect(passage) -> list[Finding]``. Detectors that gain from batching (the classifier) override
``detect_batch``. Heavy state (automata, models) is built in ``load()``, never in ``__init__``.
Every finding's span lies inside its passage and ``finding.text == block.text[start:end]``
(``tests/test_detectors_contract.py`` checks this for every registered detector).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from ..data import Evidence, Finding
from ..segmentation import Passage

LANGUAGES = ("zh", "en", "mixed")


class Detector(ABC):
    """Finds evidence of one family in a passage."""

    name: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]
    languages: ClassVar[tuple[str, ...]] = LANGUAGES
    evidence_kind: ClassVar[str] = "pattern"

    def __init__(self, **options: Any) -> None:
        self.options = options

    def load(self) -> Detector:
        """Build heavy state once (automata, models); returns ``self``."""
        return self

    @abstractmethod
    def detect(self, passage: Passage) -> list[Finding]:
        """Findings in ``passage``; spans are block offsets inside the passage."""

    def detect_batch(self, passages: Sequence[Passage]) -> list[list[Finding]]:
        """Findings for many passages at once (override when batching pays)."""
        return [self.detect(p) if p.lang in self.languages else [] for p in passages]

    # --- helpers for subclasses ---------------------------------------------------------
    def finding(
        self,
        passage: Passage,
        start: int,
        end: int,
        category: str,
        weight: float,
        detail: str,
        kind: str | None = None,
    ) -> Finding:
        """A finding for the normalised passage span ``[start, end)`` with one piece of evidence."""
        b_start, b_end = passage.block_span(start, end)
        b_start = max(passage.start, min(b_start, passage.end))
        b_end = max(b_start, min(b_end, passage.end))
        location = passage.location
        if passage.block.cells:
            cell = passage.block.cell_at(b_start)
            if cell is not None:
                from dataclasses import replace

                location = replace(location, cell=cell.ref, row=cell.row, col=cell.col)
        score = max(0.0, min(1.0, abs(weight)))
        return Finding(
            detector=self.name,
            category=category,
            text=passage.block.text[b_start:b_end],
            block=passage.block_index,
            start=b_start,
            end=b_end,
            location=location,
            score=score,
            evidence=(Evidence(kind or self.evidence_kind, detail, weight, b_start, b_end),),
        )

    def whole(self, passage: Passage, category: str, weight: float, detail: str, kind: str | None = None) -> Finding:
        """A finding covering the whole passage."""
        return self.finding(passage, 0, len(passage.norm_text), category, weight, detail, kind)


PASSAGE_SEPARATOR = "\n"


def joined(passages: Sequence[Passage]) -> tuple[str, list[int]]:
    """The passages' normalised texts joined by line breaks, and where each one starts.

    Match-based detectors search this once per document instead of once per passage: one regex
    pass over the document costs far less than thousands of passes over short passages.
    """
    starts: list[int] = []
    position = 0
    for p in passages:
        starts.append(position)
        position += len(p.norm_text) + len(PASSAGE_SEPARATOR)
    return PASSAGE_SEPARATOR.join(p.norm_text for p in passages), starts


def owner(starts: list[int], passages: Sequence[Passage], start: int, end: int) -> int | None:
    """Index of the passage that contains the joined-text span ``[start, end)`` (None if it crosses one)."""
    import bisect

    i = bisect.bisect_right(starts, start) - 1
    if i < 0 or end > starts[i] + len(passages[i].norm_text):
        return None
    return i


def snippet(text: str, limit: int = 40) -> str:
    """A short, single-line quote of matched text for evidence details."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator adding a detector to the registry; names must be unique."""
    if not getattr(cls, "name", None) or not getattr(cls, "categories", None):
        raise TypeError(f"{cls.__qualname__} needs class attributes `name` and `categories`")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a detector named {cls.name!r} is already registered ({_REGISTRY[cls.name].__qualname__})")
    _REGISTRY[cls.name] = cls
    return cls


def registered() -> dict[str, type[Detector]]:
    return dict(_REGISTRY)
