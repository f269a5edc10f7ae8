"""Weighted zh+en terms per category, matched with one Aho-Corasick automaton over normalised text.

The terms live in ``scanner/resources/lexicon.tsv`` (term, category, weight). Terms are normalised
the same way as the text (simplified, half-width, lower case); English terms must sit on word
boundaries so ``margin`` does not fire inside ``marginal``. A passage gets at most one finding per
category: the strongest term, with the others named in its evidence.
"""

from __future__ import annotations

from importlib import resources

from ..data import Finding
from ..normalize import normalize
from ..segmentation import Passage
from ..taxonomy import SUBSTANTIVE
from .base import Detector, register

MAX_WEIGHT = 0.5


def load_lexicon(text: str | None = None) -> list[tuple[str, str, float]]:
    """``(normalised term, category, weight)`` rows of the lexicon file (or of ``text``)."""
    if text is None:
        text = resources.files("scanner").joinpath("resources/lexicon.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, category, weight = line.split("\t")
        if category not in SUBSTANTIVE:
            raise ValueError(f"lexicon term {term!r} has unknown category {category!r}")
        rows.append((normalize(term).text, category, float(weight)))
    return rows


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


@register
class LexiconDetector(Detector):
    """Category vocabulary (Aho-Corasick)."""

    name = "lexicon"
    categories = SUBSTANTIVE
    evidence_kind = "lexicon"

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self._automaton = None

    def load(self) -> LexiconDetector:
        import ahocorasick

        automaton = ahocorasick.Automaton()
        for term, category, weight in load_lexicon():
            _, existing = automaton.get(term, (term, ()))
            automaton.add_word(term, (term, existing + ((category, weight),)))
        automaton.make_automaton()
        self._automaton = automaton
        return self

    def detect(self, passage: Passage) -> list[Finding]:
        if self._automaton is None:
            self.load()
        assert self._automaton is not None
        text = passage.norm_text
        best: dict[str, tuple[float, int, int, list[str]]] = {}
        for end_index, (term, entries) in self._automaton.iter(text):
            start, end = end_index - len(term) + 1, end_index + 1
            for category, weight in entries:
                if _is_word_char(term[0]) and start > 0 and _is_word_char(text[start - 1]):
                    continue
                if _is_word_char(term[-1]) and end < len(text) and _is_word_char(text[end]):
                    continue
                current = best.get(category)
                if current is None:
                    best[category] = (weight, start, end, [term])
                else:
                    terms = current[3] if term in current[3] else current[3] + [term]
                    best[category] = (weight, start, end, terms) if weight > current[0] else (current[0], current[1], current[2], terms)
        found = []
        for category, (weight, start, end, terms) in best.items():
            total = min(MAX_WEIGHT, weight + 0.05 * (len(terms) - 1))
            found.append(self.finding(passage, start, end, category, total, "terms: " + ", ".join(terms[:6])))
        return found

