"""Features shared by the scanner and the training code: the same passages give the same numbers.

A passage is described to the classifier in two parts:

- **text**: one whitespace-joined string of normalised tokens (numbers reduced to their shape, so
  ``88`` and ``91`` look alike), Chinese character bigrams (robust to segmentation choices), and the
  table header's tokens prefixed ``h:`` — TF-IDF over it is exported to ONNX with ``tokenexp \\S+``;
- **numeric**: the rule detectors' signals (strongest pattern and lexicon weight per category,
  markings and public-context cues in the passage and in the whole document, identifiers, layout).

``FEATURE_VERSION`` changes whenever either part changes; a model records the version it was trained
with and refuses to load against another.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .data import Finding
from .segmentation import Passage
from .taxonomy import SUBSTANTIVE

FEATURE_VERSION = "midian-features/3"

_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DIGIT = re.compile(r"\d")


def _shape(token: str) -> str:
    if not token[0].isdigit() or not _NUMBER.fullmatch(token):
        return token
    if "." in token:
        return "<dec>"
    return f"<n{min(len(token), 5)}>"


def text_features(passage: Passage) -> str:
    """The classifier's text input for ``passage`` (tokens, number shapes, CJK bigrams, header)."""
    tokens = [_shape(t) for t in passage.tokens if t.strip()]
    cjk = _CJK_CHAR.findall(passage.norm_text)
    bigrams = ["#" + a + b for a, b in zip(cjk, cjk[1:], strict=False)]
    header = ["h:" + _shape(t) for t in passage.header_tokens if t.strip()]
    return " ".join(tokens + bigrams + header)


# --- numeric features ------------------------------------------------------------------------

NUMERIC_FEATURES: tuple[str, ...] = (
    *(f"pattern:{c}" for c in SUBSTANTIVE),
    *(f"lexicon:{c}" for c in SUBSTANTIVE),
    "marking:passage",
    "marking:document",
    "public:passage",
    "public:document",
    "personal_info",
    "credit_code",
    "kind:table_row",
    "kind:heading",
    "kind:code",
    "lang:zh",
    "lang:en",
    "lang:mixed",
    "length",
    "digit_share",
)
_INDEX = {name: i for i, name in enumerate(NUMERIC_FEATURES)}


@dataclass(frozen=True)
class DocumentSignals:
    """What the whole document says about every passage in it."""

    marking: float  # strongest confidentiality legend anywhere in the document
    public: float  # strength of public-context cues across the document (distinct cues, capped)
    public_cues: tuple[str, ...] = ()

    @classmethod
    def collect(cls, signals: Sequence[Sequence[Finding]]) -> DocumentSignals:
        marking = 0.0
        cues: dict[str, float] = {}
        for findings in signals:
            for f in findings:
                for e in f.evidence:
                    if e.kind == "marking":
                        marking = max(marking, e.weight)
                    elif e.kind == "public_context":
                        cue = e.detail.split(":", 1)[0]
                        cues[cue] = min(cues.get(cue, 0.0), e.weight)
        public = min(1.0, -sum(cues.values()))
        return cls(marking=marking, public=public, public_cues=tuple(sorted(cues)))


def numeric_features(passage: Passage, findings: Sequence[Finding], document: DocumentSignals) -> np.ndarray:
    """The numeric feature vector of one passage (see :data:`NUMERIC_FEATURES`)."""
    x = np.zeros(len(NUMERIC_FEATURES), dtype=np.float32)
    public = 0.0
    for f in findings:
        for e in f.evidence:
            if e.kind == "pattern" and f.category in SUBSTANTIVE:
                key = "credit_code" if f.detector == "identifiers" else f"pattern:{f.category}"
                x[_INDEX[key]] = max(x[_INDEX[key]], e.weight)
            elif e.kind == "lexicon":
                i = _INDEX[f"lexicon:{f.category}"]
                x[i] = max(x[i], e.weight)
            elif e.kind == "marking":
                x[_INDEX["marking:passage"]] = max(x[_INDEX["marking:passage"]], e.weight)
            elif e.kind == "public_context":
                public -= e.weight
            if f.category == "personal_info":
                x[_INDEX["personal_info"]] = min(1.0, x[_INDEX["personal_info"]] + e.weight)
    x[_INDEX["marking:document"]] = document.marking
    x[_INDEX["public:passage"]] = min(1.0, public)
    x[_INDEX["public:document"]] = document.public
    kind = passage.kind
    if kind in ("table_row", "heading", "code"):
        x[_INDEX[f"kind:{kind}"]] = 1.0
    x[_INDEX[f"lang:{passage.lang}"]] = 1.0
    text = passage.norm_text
    x[_INDEX["length"]] = min(1.0, math.log1p(len(text)) / 7.0)
    x[_INDEX["digit_share"]] = len(_DIGIT.findall(text)) / max(1, len(text))
    return x


def feature_matrix(
    passages: Sequence[Passage], signals: Sequence[Sequence[Finding]], document: DocumentSignals | None = None
) -> tuple[list[str], np.ndarray]:
    """Text inputs and the numeric matrix for ``passages`` with their rule-detector ``signals``."""
    document = document or DocumentSignals.collect(signals)
    texts = [text_features(p) for p in passages]
    numeric = np.vstack([numeric_features(p, s, document) for p, s in zip(passages, signals, strict=True)]) if passages else (
        np.zeros((0, len(NUMERIC_FEATURES)), dtype=np.float32))
    return texts, numeric


# --- document features (input of the document combiner) ---------------------------------------

DOCUMENT_FEATURES: tuple[str, ...] = (
    "max",
    "second",
    "top3_mean",
    "share_over_0.5",
    "count_over_0.5",
    "count_over_0.8",
    "passages",
    "marking",
    "public",
    "max_pattern",
    "registry",
)


def document_features(
    secret_probability: np.ndarray, signals: Sequence[Sequence[Finding]], document: DocumentSignals, registry: float = 0.0
) -> np.ndarray:
    """Aggregate passage evidence into the document combiner's input.

    ``secret_probability`` is, per passage, 1 − p(none) from the passage classifier.
    """
    p = np.sort(np.asarray(secret_probability, dtype=np.float64))[::-1]
    n = len(p)
    x = np.zeros(len(DOCUMENT_FEATURES), dtype=np.float32)
    if n:
        x[0] = p[0]
        x[1] = p[1] if n > 1 else 0.0
        x[2] = p[:3].mean()
        x[3] = float((p > 0.5).mean())
        x[4] = min(1.0, (p > 0.5).sum() / 5.0)
        x[5] = min(1.0, (p > 0.8).sum() / 3.0)
        x[6] = min(1.0, math.log1p(n) / 7.0)
    x[7] = document.marking
    x[8] = document.public
    x[9] = max((e.weight for fs in signals for f in fs for e in f.evidence if e.kind == "pattern" and f.category in SUBSTANTIVE), default=0.0)
    x[10] = registry
    return x


# --- passage context (input of the context model) ---------------------------------------------

CONTEXT_BLOCKS = ("own_log", "previous", "next", "document_mean", "document_max")


def context_features(probabilities: np.ndarray) -> np.ndarray:
    """What a passage's neighbours and its document say about it.

    ``probabilities`` are the passage classifier's ``[n, K]`` outputs for ONE document's passages in
    order; the result is ``[n, 5K]``: the passage's own log-probabilities, the previous and next
    passage's probabilities, and the document's mean and maximum. A salary row that says only
    "孙浩 26500 29800" is read together with the rows around it.
    """
    p = np.asarray(probabilities, dtype=np.float32)
    n, k = p.shape
    out = np.zeros((n, 5 * k), dtype=np.float32)
    if n == 0:
        return out
    out[:, :k] = np.log(np.clip(p, 1e-6, 1.0))
    out[1:, k : 2 * k] = p[:-1]
    out[:-1, 2 * k : 3 * k] = p[1:]
    out[:, 3 * k : 4 * k] = p.mean(axis=0)
    out[:, 4 * k :] = p.max(axis=0)
    return out
