"""Export to ONNX and write a model directory with its manifest (no pickles).

``passage.onnx`` = skl2onnx's conversion of the fitted ``TfidfVectorizer`` (``tokenexp \\S+``; the
ONNX TF-IDF operator reproduces scikit-learn exactly without ``sublinear_tf``) merged with a small
hand-built graph for the rest: scale the numeric features, concatenate, the logistic regression's
linear layer, divide by the temperature, softmax. ``document.onnx`` is the combiner's logistic
regression. ``tests/test_model_parity.py`` checks that onnxruntime and scikit-learn agree.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, compose, helper, numpy_helper

from scanner.features import DOCUMENT_FEATURES, FEATURE_VERSION, NUMERIC_FEATURES

from .train import ContextModel, DocumentModel, PassageModel

OPSET = 17
IR_VERSION = 8


def _tfidf_graph(model: PassageModel) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer

    onx = convert_sklearn(
        model.vectorizer_,
        initial_types=[("text", StringTensorType([None, 1]))],
        options={TfidfVectorizer: {"tokenexp": r"\S+"}},
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )
    onx.ir_version = IR_VERSION
    return _fast_l2(onx)


def _fast_l2(onx: onnx.ModelProto) -> onnx.ModelProto:
    """Replace the ai.onnx.ml ``Normalizer`` (the slowest node: scalar code) with standard vectorised ops.

    sklearn's L2 normalisation leaves all-zero rows at zero; ``Max(norm, tiny)`` does the same.
    """
    graph = onx.graph
    for i, node in enumerate(graph.node):
        if node.op_type == "Normalizer" and node.domain == "ai.onnx.ml":
            x, y = node.input[0], node.output[0]
            replacement = [
                helper.make_node("ReduceSumSquare", [x], ["l2_sumsq"], axes=[1], keepdims=1),
                helper.make_node("Sqrt", ["l2_sumsq"], ["l2_norm0"]),
                helper.make_node("Max", ["l2_norm0", "l2_tiny"], ["l2_norm"]),
                helper.make_node("Div", [x, "l2_norm"], [y]),
            ]
            del graph.node[i]
            for offset, new_node in enumerate(replacement):
                graph.node.insert(i + offset, new_node)
            graph.initializer.append(numpy_helper.from_array(np.array([1e-30], dtype=np.float32), "l2_tiny"))
            break
    return onx


def passage_onnx(model: PassageModel) -> onnx.ModelProto:
    """The passage classifier as one ONNX graph: (text, features) → probabilities."""
    tfidf = _tfidf_graph(model)
    tfidf_out = tfidf.graph.output[0].name
    vocab = len(model.vectorizer_.vocabulary_)
    n_num = len(NUMERIC_FEATURES)
    weights = model.coef_.T.astype(np.float32)  # [vocab + numeric, labels]
    assert weights.shape[0] == vocab + n_num
    nodes = [
        helper.make_node("Mul", ["features", "numeric_scale"], ["scaled"]),
        helper.make_node("Concat", ["tfidf", "scaled"], ["stacked"], axis=1),
        helper.make_node("MatMul", ["stacked", "W"], ["linear"]),
        helper.make_node("Add", ["linear", "b"], ["logits"]),
        helper.make_node("Div", ["logits", "temperature"], ["tempered"]),
        helper.make_node("Softmax", ["tempered"], ["probabilities"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(np.array([model.hyper.numeric_scale], dtype=np.float32), "numeric_scale"),
        numpy_helper.from_array(weights, "W"),
        numpy_helper.from_array(model.intercept_.astype(np.float32), "b"),
        numpy_helper.from_array(np.array([model.temperature_], dtype=np.float32), "temperature"),
    ]
    head = helper.make_graph(
        nodes, "midian_passage_head",
        inputs=[helper.make_tensor_value_info("tfidf", TensorProto.FLOAT, [None, vocab]),
                helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_num])],
        outputs=[helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(model.labels)])],
        initializer=inits,
    )
    # the head uses the same operator sets as the converted vectorizer, or the graphs cannot be merged
    head_model = helper.make_model(head, opset_imports=list(tfidf.opset_import), ir_version=tfidf.ir_version)
    merged = compose.merge_models(tfidf, head_model, io_map=[(tfidf_out, "tfidf")])
    # the normalised TF-IDF rows are an output too: the document combiner reads their mean
    merged.graph.output.append(helper.make_tensor_value_info(tfidf_out, TensorProto.FLOAT, [None, vocab]))
    merged.graph.output[-1].name = tfidf_out
    merged.doc_string = "Midian passage classifier: " + ", ".join(model.labels)
    onnx.checker.check_model(merged)
    return merged


def _linear_softmax(name: str, coef: np.ndarray, intercept: np.ndarray, n_in: int) -> onnx.ModelProto:
    nodes = [
        helper.make_node("MatMul", ["context", "W"], ["linear"]),
        helper.make_node("Add", ["linear", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, name,
        inputs=[helper.make_tensor_value_info("context", TensorProto.FLOAT, [None, n_in])],
        outputs=[helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, coef.shape[0]])],
        initializer=[numpy_helper.from_array(coef.T.astype(np.float32), "W"),
                     numpy_helper.from_array(intercept.astype(np.float32), "b")],
    )
    onx = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(onx)
    return onx


def context_onnx(model: ContextModel) -> onnx.ModelProto:
    """The context model: context features → revised passage probabilities."""
    return _linear_softmax("midian_context", model.coef_, model.intercept_, model.coef_.shape[1])


def document_onnx(model: DocumentModel, vocabulary: int) -> onnx.ModelProto:
    """The document combiner: (features, mean TF-IDF) → [p(public), p(confidential)]."""
    n = len(DOCUMENT_FEATURES)
    coef = model.clf_.coef_.reshape(-1).astype(np.float32)
    assert coef.shape[0] == n + vocabulary
    w = np.concatenate([coef[:n], coef[n:] * model.hyper.doc_tfidf_scale]).reshape(-1, 1)
    b = model.clf_.intercept_.astype(np.float32)
    nodes = [
        helper.make_node("Concat", ["features", "tfidf_mean"], ["x"], axis=1),
        helper.make_node("MatMul", ["x", "w"], ["z0"]),
        helper.make_node("Add", ["z0", "b"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
        helper.make_node("Sub", ["one", "p"], ["q"]),
        helper.make_node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "midian_document_combiner",
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n]),
                helper.make_tensor_value_info("tfidf_mean", TensorProto.FLOAT, [None, vocabulary])],
        outputs=[helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializer=[numpy_helper.from_array(w.astype(np.float32), "w"), numpy_helper.from_array(b, "b"),
                     numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")],
    )
    onx = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onx.doc_string = "Midian document combiner"
    onnx.checker.check_model(onx)
    return onx


def passage_tfidf_output(onx: onnx.ModelProto) -> str:
    """Name of the passage graph's TF-IDF output (its last output)."""
    return onx.graph.output[-1].name


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_model_dir(
    out: Path,
    passage: PassageModel,
    context: ContextModel,
    document: DocumentModel,
    *,
    version: str,
    provenance: dict[str, Any],
    metrics: dict[str, Any],
    hyper: dict[str, Any],
) -> dict[str, Any]:
    """Write ``passage.onnx``, ``document.onnx`` and ``manifest.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    vocabulary = len(passage.vectorizer_.vocabulary_)
    files = {"passage.onnx": passage_onnx(passage), "context.onnx": context_onnx(context),
             "document.onnx": document_onnx(document, vocabulary)}
    for name, onx in files.items():
        (out / name).write_bytes(onx.SerializeToString())
    manifest = {
        "name": "midian-default",
        "version": version,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": passage.labels,
        "feature_version": FEATURE_VERSION,
        "numeric_features": list(NUMERIC_FEATURES),
        "document_features": list(DOCUMENT_FEATURES),
        "vocabulary_size": vocabulary,
        "tfidf_output": passage_tfidf_output(files["passage.onnx"]),
        "temperature": passage.temperature_,
        "hyperparameters": hyper,
        "files": {name: {"sha256": _sha256(out / name), "bytes": (out / name).stat().st_size} for name in files},
        "training_data": provenance,
        "metrics": metrics,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest
