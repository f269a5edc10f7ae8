"""Fit the passage classifier and the document combiner (scikit-learn), with calibration.

Passage classifier
    TF-IDF over :func:`scanner.features.text_features` (tokens, number shapes, Chinese bigrams,
    header tokens) stacked with the rule detectors' numeric signals, into a multinomial logistic
    regression over 13 categories + none. Probabilities are calibrated with one temperature fitted
    on out-of-fold predictions (a monotone rescaling that keeps the ranking).

Document combiner
    A logistic regression over :func:`scanner.features.document_features` — trained on *out-of-fold*
    passage probabilities, so it learns how much to trust the passage model on documents it has
    not seen.

Both fit in seconds on a laptop core; :func:`cross_validate` gives the honest numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from scanner.features import DocumentSignals, document_features

from .dataset import LABELS, Examples

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hyper:
    """Training settings, recorded in the manifest."""

    max_features: int = 12000
    min_df: int = 2
    C: float = 4.0
    numeric_scale: float = 1.0
    class_weight_none: float = 1.0
    doc_C: float = 1.0
    folds: int = 5
    seed: int = 13

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


class PassageModel:
    """TF-IDF + numeric signals → multinomial logistic regression, with a temperature."""

    def __init__(self, hyper: Hyper) -> None:
        self.hyper = hyper
        self.labels = list(LABELS)

    def fit(self, texts: Sequence[str], numeric: np.ndarray, labels: Sequence[str]) -> PassageModel:
        h = self.hyper
        self.vectorizer_ = TfidfVectorizer(
            token_pattern=r"\S+", lowercase=False, min_df=h.min_df, max_features=h.max_features,
            sublinear_tf=False, norm="l2", dtype=np.float32,
        )
        tfidf = self.vectorizer_.fit_transform(texts)
        X = sparse.hstack([tfidf, sparse.csr_matrix(numeric * h.numeric_scale)]).tocsr()
        y = np.array([self.labels.index(label) for label in labels])
        present = np.unique(y)
        weights = {k: 1.0 for k in present}
        weights[self.labels.index("none")] = h.class_weight_none
        self.clf_ = LogisticRegression(C=h.C, max_iter=3000, class_weight=weights, random_state=h.seed)
        self.clf_.fit(X, y)
        # coefficients over all labels, also those absent from this training set
        self.coef_ = np.zeros((len(self.labels), X.shape[1]), dtype=np.float64)
        self.intercept_ = np.full(len(self.labels), -30.0)
        for row, k in enumerate(self.clf_.classes_):
            self.coef_[k] = self.clf_.coef_[row]
            self.intercept_[k] = self.clf_.intercept_[row]
        self.temperature_ = 1.0
        return self

    def logits(self, texts: Sequence[str], numeric: np.ndarray) -> np.ndarray:
        tfidf = self.vectorizer_.transform(texts)
        X = sparse.hstack([tfidf, sparse.csr_matrix(numeric * self.hyper.numeric_scale)]).tocsr()
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, texts: Sequence[str], numeric: np.ndarray) -> np.ndarray:
        return softmax(self.logits(texts, numeric) / self.temperature_)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of out-of-fold logits."""
    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)).mean())

    return float(minimize_scalar(nll, bounds=(0.25, 8.0), method="bounded").x)


class DocumentModel:
    """Logistic regression over aggregated passage evidence."""

    def __init__(self, hyper: Hyper) -> None:
        self.hyper = hyper

    def fit(self, X: np.ndarray, y: np.ndarray) -> DocumentModel:
        self.clf_ = LogisticRegression(C=self.hyper.doc_C, max_iter=2000, class_weight="balanced", random_state=self.hyper.seed)
        self.clf_.fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.clf_.predict_proba(X)[:, 1]


def document_matrix(examples: Examples, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Document features from passage probabilities, and document labels."""
    none = LABELS.index("none")
    rows = []
    for d, _doc in enumerate(examples.documents):
        idx = np.flatnonzero(examples.doc_index == d)
        secret = 1.0 - proba[idx, none] if len(idx) else np.zeros(0)
        signals = [examples.signals[i] for i in idx]
        rows.append(document_features(secret, signals, examples.doc_signals[d] if d < len(examples.doc_signals) else DocumentSignals(0, 0)))
    y = np.array([1 if doc.confidential else 0 for doc in examples.documents])
    return np.vstack(rows), y


def out_of_fold(examples: Examples, hyper: Hyper) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold passage logits (documents grouped by topic) and the fold of each document."""
    groups = np.array([examples.documents[d].group for d in examples.doc_index])
    logits = np.zeros((len(examples), len(LABELS)))
    doc_fold = np.full(len(examples.documents), -1)
    splitter = GroupKFold(n_splits=hyper.folds)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(examples.texts, groups=groups)):
        model = PassageModel(hyper).fit([examples.texts[i] for i in train_idx], examples.numeric[train_idx],
                                        [examples.labels[i] for i in train_idx])
        logits[test_idx] = model.logits([examples.texts[i] for i in test_idx], examples.numeric[test_idx])
        doc_fold[np.unique(examples.doc_index[test_idx])] = fold
        log.info("fold %d: %d train / %d test passages", fold, len(train_idx), len(test_idx))
    return logits, doc_fold


@dataclass
class Trained:
    passage: PassageModel
    document: DocumentModel
    oof_passage_proba: np.ndarray
    oof_document_proba: np.ndarray


def train(examples: Examples, hyper: Hyper | None = None) -> Trained:
    """Cross-validated training: out-of-fold predictions for evaluation, final models on all data."""
    hyper = hyper or Hyper()
    y = np.array([LABELS.index(label) for label in examples.labels])
    logits, doc_fold = out_of_fold(examples, hyper)
    temperature = fit_temperature(logits, y)
    oof_proba = softmax(logits / temperature)
    doc_X, doc_y = document_matrix(examples, oof_proba)
    # out-of-fold document probabilities too: the combiner is itself cross-validated by fold
    oof_doc = np.zeros(len(doc_y))
    for fold in np.unique(doc_fold):
        test = doc_fold == fold
        train_mask = ~test
        if len(np.unique(doc_y[train_mask])) < 2:
            continue
        oof_doc[test] = DocumentModel(hyper).fit(doc_X[train_mask], doc_y[train_mask]).predict_proba(doc_X[test])
    passage = PassageModel(hyper).fit(examples.texts, examples.numeric, examples.labels)
    passage.temperature_ = temperature
    document = DocumentModel(hyper).fit(doc_X, doc_y)
    return Trained(passage, document, oof_proba, oof_doc)
