"""The shipped classifier at scan time: ONNX models plus a manifest, verified on load.

A model directory holds ``manifest.json`` and the ONNX files it lists:

- ``passage.onnx``: inputs ``text`` (string ``[N, 1]``, see :func:`scanner.features.text_features`)
  and ``features`` (float ``[N, F]``); outputs ``probabilities`` ``[N, len(labels)]`` and the
  passages' normalised TF-IDF rows;
- ``context.onnx``: input ``context`` (:func:`scanner.features.context_features` of one document's
  passage probabilities); output the revised ``probabilities``;
- ``document.onnx``: inputs ``features`` (``[D, len(DOCUMENT_FEATURES)]``) and ``tfidf_mean`` (the
  document's mean TF-IDF row); output ``probabilities`` ``[D, 2]`` (public, confidential).

The manifest records each file's SHA-256, the labels, the feature version and names, training-data
provenance and metrics; :meth:`Model.load` refuses a directory whose files or feature version do not
match. Only onnxruntime is needed here: scikit-learn is a training-time dependency.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .features import DOCUMENT_FEATURES, FEATURE_VERSION, NUMERIC_FEATURES, context_features

BATCH_SIZE = 128  # the ONNX TF-IDF operator builds a dense [batch, vocabulary] matrix
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"


def default_model_dir() -> Path:
    """``models/`` next to the package (a source checkout or an editable install)."""
    return DEFAULT_MODEL_DIR


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Model:
    """Passage classifier and document combiner. Cheap to construct; :meth:`load` does the work."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else default_model_dir()
        self.manifest: dict[str, Any] = {}
        self.labels: list[str] = []
        self._passage = None
        self._context = None
        self._document = None
        self._tfidf_output = ""
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unknown"))

    @property
    def loaded(self) -> bool:
        return self._passage is not None

    def load(self) -> Model:
        """Verify the manifest and open the ONNX sessions; raises :class:`ModelError`."""
        manifest_path = self.directory / "manifest.json"
        if not manifest_path.is_file():
            raise ModelError(
                f"{self.directory}: no manifest.json; pass a model directory built by `midian train` or "
                "`python -m training build` (the default model ships in models/)"
            )
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{manifest_path}: unreadable manifest ({exc})") from exc
        if manifest.get("feature_version") != FEATURE_VERSION:
            raise ModelError(
                f"{self.directory}: model was trained with features {manifest.get('feature_version')!r}, "
                f"this Midian computes {FEATURE_VERSION!r}; retrain it with this version"
            )
        if tuple(manifest.get("numeric_features", ())) != NUMERIC_FEATURES or tuple(
            manifest.get("document_features", ())
        ) != DOCUMENT_FEATURES:
            raise ModelError(f"{self.directory}: the manifest's feature names differ from this Midian's; retrain the model")
        files = manifest.get("files", {})
        for name in ("passage.onnx", "context.onnx", "document.onnx"):
            if name not in files:
                raise ModelError(f"{manifest_path}: lists no {name}")
        for name, expected in files.items():
            path = self.directory / name
            if not path.is_file():
                raise ModelError(f"{path}: listed in the manifest but missing")
            actual = sha256_file(path)
            if actual != expected.get("sha256"):
                raise ModelError(f"{path}: SHA-256 {actual} does not match the manifest ({expected.get('sha256')}); the file was changed")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._passage, self._context, self._document = (
                ort.InferenceSession(str(self.directory / name), options, providers=["CPUExecutionProvider"])
                for name in ("passage.onnx", "context.onnx", "document.onnx"))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{self.directory}: ONNX model does not load ({exc})") from exc
        self.manifest = manifest
        self.labels = list(manifest["labels"])
        self._tfidf_output = manifest["tfidf_output"]
        return self

    def passage_probabilities(self, texts: list[str], numeric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities ``[N, len(labels)]`` of ONE document's passages, and its mean TF-IDF row.

        The passage model runs in batches (its TF-IDF operator builds dense ``[batch, vocabulary]``
        rows, summed here so memory stays flat however long the document); the context model then
        revises each passage's probabilities with its neighbours' and the document's.
        """
        if self._passage is None:
            self.load()
        assert self._passage is not None and self._context is not None
        vocabulary = int(self.manifest["vocabulary_size"])
        tfidf_sum = np.zeros((1, vocabulary), dtype=np.float32)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32), tfidf_sum
        stage1 = []
        for i in range(0, len(texts), BATCH_SIZE):
            batch = np.array([t or "<empty>" for t in texts[i : i + BATCH_SIZE]], dtype=object).reshape(-1, 1)
            feats = np.ascontiguousarray(numeric[i : i + BATCH_SIZE], dtype=np.float32)
            with self._lock:  # an InferenceSession is thread-safe, but one at a time keeps memory flat
                probabilities, tfidf = self._passage.run(["probabilities", self._tfidf_output], {"text": batch, "features": feats})
            stage1.append(probabilities)
            tfidf_sum += tfidf.sum(axis=0, keepdims=True)
        context = context_features(np.vstack(stage1))
        with self._lock:
            final = self._context.run(["probabilities"], {"context": context})[0]
        return final, tfidf_sum / len(texts)

    def document_probability(self, features: np.ndarray, tfidf_mean: np.ndarray) -> np.ndarray:
        """``[D]`` probabilities that documents are confidential."""
        if self._document is None:
            self.load()
        assert self._document is not None
        x = np.ascontiguousarray(np.atleast_2d(features), dtype=np.float32)
        t = np.ascontiguousarray(np.atleast_2d(tfidf_mean), dtype=np.float32)
        with self._lock:
            return self._document.run(["probabilities"], {"features": x, "tfidf_mean": t})[0][:, 1]
