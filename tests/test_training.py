"""Training: corpus validity, ONNX parity with scikit-learn, the shipped manifest, retraining, eval."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")

from scanner.errors import ModelError  # noqa: E402
from scanner.model import Model, default_model_dir  # noqa: E402
from training.corpus import CORPUS_DIR, load_corpus, near_duplicates  # noqa: E402
from training.dataset import build_examples, from_corpus  # noqa: E402
from training.train import Hyper, train  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus():  # type: ignore[no-untyped-def]
    return load_corpus()


def test_corpus_is_big_enough_and_clean(corpus) -> None:  # type: ignore[no-untyped-def]
    confidential = [d for d in corpus if d.confidential]
    assert len(confidential) >= 400 and len(corpus) - len(confidential) >= len(confidential)
    assert sum(d.lang == "zh" for d in confidential) >= 250
    assert sum(d.lang == "en" for d in confidential) >= 150
    assert near_duplicates(corpus) == []


def _small(corpus, n: int = 90):  # type: ignore[no-untyped-def]
    """A stratified slice of the corpus: both labels, several sets."""
    picked = []
    for label in ("confidential", "public"):
        side = sorted((d for d in corpus if d.label == label), key=lambda d: d.id)
        picked += side[:: max(1, 2 * len(side) // n)][: n // 2]
    picked.sort(key=lambda d: d.id)
    # interleave so that any prefix holds both labels
    return [from_corpus(d) for d in picked[::2] + picked[1::2]]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory, corpus):  # type: ignore[no-untyped-def]
    from training.export import write_model_dir

    docs = _small(corpus)
    train_docs, test_docs = docs[::4] + docs[1::4] + docs[2::4], docs[3::4]
    trained = train(build_examples(train_docs), Hyper(folds=3, max_features=3000))
    out = tmp_path_factory.mktemp("model")
    write_model_dir(out, trained.passage, trained.context, trained.document, version="test", provenance={}, metrics={}, hyper={})
    return trained, out, build_examples(test_docs)


def test_onnx_agrees_with_scikit_learn_on_held_out_passages(small_model) -> None:  # type: ignore[no-untyped-def]
    from training.build import predict
    from training.train import _documents

    trained, out, held_out = small_model
    sk_passages, sk_documents = predict(trained, held_out)
    model = Model(out).load()
    for d, idx in enumerate(_documents(held_out)):
        if not len(idx):
            continue
        probabilities, tfidf_mean = model.passage_probabilities([held_out.texts[i] for i in idx], held_out.numeric[idx])
        assert np.abs(probabilities - sk_passages[idx]).max() <= 1e-4
        from training.train import document_matrix

        doc_X, _ = document_matrix(held_out, sk_passages)
        onnx_doc = model.document_probability(doc_X[d], tfidf_mean)[0]
        assert abs(onnx_doc - sk_documents[d]) <= 1e-4


def test_shipped_model_matches_its_manifest() -> None:
    model = Model(default_model_dir()).load()
    manifest = model.manifest
    assert manifest["labels"][0] == "none" and len(manifest["labels"]) == 14
    assert sum(f["bytes"] for f in manifest["files"].values()) <= 30 * 1024 * 1024
    assert not list(default_model_dir().glob("*.pkl")) and not list(default_model_dir().glob("*.joblib"))
    assert manifest["metrics"] and manifest["training_data"]


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(default_model_dir(), copy)
    with (copy / "context.onnx").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="does not match the manifest"):
        Model(copy).load()


def test_render_and_eval_round_trip(tmp_path: Path, corpus) -> None:  # type: ignore[no-untyped-def]
    from training.render import render_all

    docs = [d for d in corpus if d.render in ("docx", "xlsx", "eml", "md")][:: max(1, len(corpus) // 40)][:12]
    labels = render_all(docs, tmp_path / "files")
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "scanner", "eval", str(labels), str(tmp_path / "files"), "--workers", "1",
                             "--output", str(report)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads(report.read_text(encoding="utf-8"))
    assert summary["overall"]["documents"] == len(docs)
    assert set(summary["by_format"]) <= {"docx", "xlsx", "eml", "md"}
    assert "| threshold |" in result.stdout


def test_retraining_on_company_folders(tmp_path: Path, corpus) -> None:  # type: ignore[no-untyped-def]
    from scanner.settings import Settings
    from training.render import render_all
    from training.retrain import retrain

    conf = [d for d in corpus if d.confidential and d.render == "docx"][:6]
    pub = [d for d in corpus if not d.confidential and d.render == "docx"][:6]
    render_all(conf, tmp_path / "confidential")
    render_all(pub, tmp_path / "public")
    for folder in ("confidential", "public"):
        (tmp_path / folder / "labels.jsonl").unlink()
    manifest = retrain(tmp_path / "confidential", tmp_path / "public", tmp_path / "model", Settings(workers=1),
                       hyper=Hyper(folds=3, max_features=3000), base_corpus=_small(corpus, 60))
    assert manifest["metrics"]["company_files"] == {"confidential": 6, "public": 6}
    assert 0.0 <= manifest["metrics"]["cross_validated_company"]["recall"] <= 1.0
    Model(tmp_path / "model").load()


def test_retraining_refuses_too_little_data(tmp_path: Path) -> None:
    from scanner.errors import UsageError
    from scanner.settings import Settings
    from training.retrain import retrain

    for folder in ("c", "p"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.txt").write_text("一段文字。", encoding="utf-8")
    with pytest.raises(UsageError, match="too little data"):
        retrain(tmp_path / "c", tmp_path / "p", tmp_path / "m", Settings(workers=1), base_corpus=[])


def test_corpus_dir_is_the_repository_corpus() -> None:
    assert CORPUS_DIR == REPO / "training" / "corpus"


def test_a_passage_is_found_when_findings_together_cover_half_of_it() -> None:
    from training.evaluate import covered

    passage = "Preheat to 150 C at 1.1 C/s. Soak 150-185 C for 82 s. Peak 243 C for 45 s. Cool at 3 C/s."
    halves = ["Preheat to 150 C at 1.1 C/s.", "Soak 150-185 C for 82 s. Peak 243 C"]
    assert covered(passage, halves[:1]) is None  # one sentence alone is under half
    assert covered(passage, halves) == 1  # together they are; the larger one names the category
    assert covered(passage, ["an unrelated finding about salaries"]) is None
    assert covered("", halves) is None


def test_model_card_reports_the_targets_and_the_operating_point() -> None:
    from training.card import card

    manifest = json.loads((REPO / "models" / "manifest.json").read_text(encoding="utf-8"))
    evaluation = manifest["metrics"]["cross_validated_corpus"]  # the same shape as a held-out report
    text = card(manifest, evaluation, 7)
    assert "| recall | ≥ 0.95 |" in text and "| false_positive_rate | ≤ 0.05 |" in text
    assert "7 documents" in text and "Threshold sweep" in text and "## Where it fails" in text
    assert str(evaluation["overall"]["precision"]) in text
