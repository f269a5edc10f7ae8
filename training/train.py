"""Fit the three models of a Midian classifier (scikit-learn), cross-validated and calibrated.

1. Passage classifier
   TF-IDF over :func:`scanner.features.text_features` (tokens, number shapes, Chinese bigrams,
   header tokens) stacked with the rule detectors' numeric signals, into a multinomial logistic
   regression over 13 categories + none, calibrated with one temperature fitted on out-of-fold
   predictions (a monotone rescaling that keeps the ranking).
2. Context model
   A logistic regression over :func:`scanner.features.context_features` — a passage's own
   probabilities with its neighbours' and its document's — trained on *out-of-fold* passage
   probabilities. It lets a bare table row inherit what its table is about.
3. Document combiner
   A logistic regression over :func:`scanner.features.document_features` (how many passages are how
   secret, markings, public-context cues) and the document's mean TF-IDF vector (its genre: a
   datasheet, a tender notice and an annual report read differently from a work instruction),
   trained on out-of-fold context-model probabilities.

Every stage is evaluated out of fold with documents grouped by topic, so the reported numbers come
from documents (and topic twins) the models did not see.
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

from scanner.features import context_features, document_features

from .dataset import LABELS, Examples

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hyper:
    """Training settings, recorded in the manifest."""

    max_features: int = 12000
    min_df: int = 2
    ngram_max: int = 1
    C: float = 16.0
    numeric_scale: float = 1.0
    class_weight_none: float = 1.0
    context_C: float = 1.0
    doc_C: float = 4.0
    doc_tfidf_scale: float = 3.0
    folds: int = 5
    seed: int = 13

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _full_coefficients(clf: LogisticRegression, n_labels: int, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients over all labels, also those absent from a training set (they never win)."""
    coef = np.zeros((n_labels, n_features), dtype=np.float64)
    intercept = np.full(n_labels, -30.0)
    for row, k in enumerate(clf.classes_):
        coef[k] = clf.coef_[row]
        intercept[k] = clf.intercept_[row]
    return coef, intercept


class PassageModel:
    """TF-IDF + numeric signals → multinomial logistic regression, with a temperature."""

    def __init__(self, hyper: Hyper) -> None:
        self.hyper = hyper
        self.labels = list(LABELS)

    def fit(self, texts: Sequence[str], numeric: np.ndarray, labels: Sequence[str]) -> PassageModel:
        h = self.hyper
        self.vectorizer_ = TfidfVectorizer(
            token_pattern=r"\S+", lowercase=False, min_df=h.min_df, max_features=h.max_features,
            ngram_range=(1, h.ngram_max), sublinear_tf=False, norm="l2", dtype=np.float32,
        )
        tfidf = self.vectorizer_.fit_transform(texts)
        X = sparse.hstack([tfidf, sparse.csr_matrix(numeric * h.numeric_scale)]).tocsr()
        y = np.array([self.labels.index(label) for label in labels])
        weights = {k: 1.0 for k in np.unique(y)}
        weights[self.labels.index("none")] = h.class_weight_none
        clf = LogisticRegression(C=h.C, max_iter=3000, class_weight=weights, random_state=h.seed).fit(X, y)
        self.coef_, self.intercept_ = _full_coefficients(clf, len(self.labels), X.shape[1])
        self.temperature_ = 1.0
        return self

    def tfidf(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vectorizer_.transform(texts)

    def logits(self, texts: Sequence[str], numeric: np.ndarray) -> np.ndarray:
        X = sparse.hstack([self.tfidf(texts), sparse.csr_matrix(numeric * self.hyper.numeric_scale)]).tocsr()
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, texts: Sequence[str], numeric: np.ndarray) -> np.ndarray:
        return softmax(self.logits(texts, numeric) / self.temperature_)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of out-of-fold logits."""

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)).mean())

    return float(minimize_scalar(nll, bounds=(0.25, 8.0), method="bounded").x)


class ContextModel:
    """Passage probabilities revised with the neighbours' and the document's."""

    def __init__(self, hyper: Hyper) -> None:
        self.hyper = hyper
        self.labels = list(LABELS)

    def fit(self, X: np.ndarray, y: np.ndarray) -> ContextModel:
        clf = LogisticRegression(C=self.hyper.context_C, max_iter=3000, random_state=self.hyper.seed).fit(X, y)
        self.coef_, self.intercept_ = _full_coefficients(clf, len(self.labels), X.shape[1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(X @ self.coef_.T + self.intercept_)


class DocumentModel:
    """Logistic regression over aggregated passage evidence and the document's mean TF-IDF."""

    def __init__(self, hyper: Hyper) -> None:
        self.hyper = hyper

    def _matrix(self, features: np.ndarray, tfidf_mean: sparse.spmatrix | np.ndarray) -> sparse.csr_matrix:
        return sparse.hstack([sparse.csr_matrix(features), sparse.csr_matrix(tfidf_mean) * self.hyper.doc_tfidf_scale]).tocsr()

    def fit(self, features: np.ndarray, tfidf_mean: sparse.spmatrix | np.ndarray, y: np.ndarray) -> DocumentModel:
        self.clf_ = LogisticRegression(C=self.hyper.doc_C, max_iter=3000, class_weight="balanced", random_state=self.hyper.seed)
        self.clf_.fit(self._matrix(features, tfidf_mean), y)
        return self

    def predict_proba(self, features: np.ndarray, tfidf_mean: sparse.spmatrix | np.ndarray) -> np.ndarray:
        return self.clf_.predict_proba(self._matrix(features, tfidf_mean))[:, 1]


# --- matrices ------------------------------------------------------------------------------------

def _documents(examples: Examples) -> list[np.ndarray]:
    """Passage indices of each document, in order."""
    order = np.argsort(examples.doc_index, kind="stable")
    bounds = np.searchsorted(examples.doc_index[order], np.arange(len(examples.documents) + 1))
    return [order[bounds[d] : bounds[d + 1]] for d in range(len(examples.documents))]


def context_matrix(examples: Examples, stage1: np.ndarray) -> np.ndarray:
    X = np.zeros((len(examples), 5 * stage1.shape[1]), dtype=np.float32)
    for idx in _documents(examples):
        if len(idx):
            X[idx] = context_features(stage1[idx])
    return X


def document_matrix(examples: Examples, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Aggregated document features from passage probabilities, and document labels."""
    none = LABELS.index("none")
    rows = []
    for d, idx in enumerate(_documents(examples)):
        secret = 1.0 - proba[idx, none] if len(idx) else np.zeros(0)
        rows.append(document_features(secret, [examples.signals[i] for i in idx], examples.doc_signals[d]))
    y = np.array([1 if doc.confidential else 0 for doc in examples.documents])
    return np.vstack(rows), y


def tfidf_means(examples: Examples, model: PassageModel) -> sparse.csr_matrix:
    """Each document's mean passage TF-IDF vector (what the scanner accumulates at scan time)."""
    T = model.tfidf(examples.texts)
    n_docs = len(examples.documents)
    M = sparse.csr_matrix((np.ones(len(examples)), (examples.doc_index, np.arange(len(examples)))), shape=(n_docs, len(examples)))
    counts = np.asarray(M.sum(axis=1)).ravel()
    counts[counts == 0] = 1
    return (sparse.diags(1.0 / counts) @ M @ T).tocsr()


# --- training ------------------------------------------------------------------------------------

@dataclass
class Trained:
    passage: PassageModel
    context: ContextModel
    document: DocumentModel
    oof_stage1: np.ndarray
    oof_passage_proba: np.ndarray  # after the context model
    oof_document_proba: np.ndarray


def train(examples: Examples, hyper: Hyper | None = None) -> Trained:
    """Out-of-fold predictions of every stage for evaluation, then final models on all data."""
    hyper = hyper or Hyper()
    y = np.array([LABELS.index(label) for label in examples.labels])
    groups = np.array([examples.documents[d].group for d in examples.doc_index])
    folds = list(GroupKFold(n_splits=hyper.folds).split(examples.texts, groups=groups))

    logits = np.zeros((len(examples), len(LABELS)))
    for k, (tr, te) in enumerate(folds):
        model = PassageModel(hyper).fit([examples.texts[i] for i in tr], examples.numeric[tr], [examples.labels[i] for i in tr])
        logits[te] = model.logits([examples.texts[i] for i in te], examples.numeric[te])
        log.info("passage fold %d: %d train / %d test passages", k, len(tr), len(te))
    temperature = fit_temperature(logits, y)
    stage1 = softmax(logits / temperature)

    X_ctx = context_matrix(examples, stage1)
    stage2 = np.zeros_like(stage1)
    for tr, te in folds:
        stage2[te] = ContextModel(hyper).fit(X_ctx[tr], y[tr]).predict_proba(X_ctx[te])

    passage = PassageModel(hyper).fit(examples.texts, examples.numeric, examples.labels)
    passage.temperature_ = temperature
    context = ContextModel(hyper).fit(X_ctx, y)

    doc_X, doc_y = document_matrix(examples, stage2)
    doc_T = tfidf_means(examples, passage)
    doc_fold = np.full(len(examples.documents), -1)
    for k, (_, te) in enumerate(folds):
        doc_fold[np.unique(examples.doc_index[te])] = k
    oof_doc = np.zeros(len(doc_y))
    for k in range(len(folds)):
        test = doc_fold == k
        train_mask = ~test
        if test.any() and len(np.unique(doc_y[train_mask])) == 2:
            oof_doc[test] = DocumentModel(hyper).fit(doc_X[train_mask], doc_T[train_mask], doc_y[train_mask]).predict_proba(
                doc_X[test], doc_T[test])
    document = DocumentModel(hyper).fit(doc_X, doc_T, doc_y)
    return Trained(passage, context, document, stage1, stage2, oof_doc)
