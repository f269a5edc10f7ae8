"""The secret registry: fingerprints and offsets, plaintext never stored, evidence log, matching, CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.cli import main
from scanner.data import Block
from scanner.detectors.registry import RegistryDetector
from scanner.normalize import normalize
from scanner.registry import Registry, open_registry
from scanner.registry.fingerprint import Fingerprinter, fold
from scanner.scan import Scanner, Target
from scanner.segmentation import default_segmenter

SOP = ("烧结工艺规程：第一段升温速率5℃/min升至650℃保温2小时，排胶完成后以3℃/min升至1285℃，保温2.5小时，"
       "炉内氧分压控制在10的负6次方以下，随炉冷却至200℃以下出炉。严禁在保温阶段开启炉门，违者按工艺事故处理。")
PRICES = ("华东精密的合同底价为每吨8650元，成本约7400元，毛利率控制在18%以上；对宁波客户可再让2%，"
          "但必须由销售总监书面批准，年度返点不超过3%。")
ENGLISH = ("The binder burnout runs at 2 degrees per minute to 650 C with a two hour hold, then the furnace "
           "ramps at 3 degrees per minute to 1285 C and holds for two and a half hours under nitrogen.")
UNRELATED = ("今天下午三点在二楼会议室召开部门例会，请各位准时参加。会议将讨论下季度的团建活动安排，"
             "以及食堂菜单的调整建议，欢迎大家提前准备意见。")

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
DISTINCT = st.text(alphabet=CJK, min_size=60, max_size=90).filter(lambda s: len(set(s)) >= 0.8 * len(s))
TEXT = st.text(alphabet=st.one_of(CJK, st.sampled_from("ABCabc0123456789，。；：！？ 　\n,.;()（）ＡＢ１２")), max_size=120)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    with open_registry(tmp_path / "registry.db", create=True) as r:
        yield r


def passages_of(*texts: str):  # type: ignore[no-untyped-def]
    return default_segmenter().segment([Block(t) for t in texts])


# --- fingerprints and offsets ----------------------------------------------------------------

@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_fold_keeps_letters_and_digits_with_their_offsets(text: str) -> None:
    normalized = normalize(text).text
    folded = fold(normalized)
    assert len(folded.offsets) == len(folded.text)
    assert all(ch.isalnum() for ch in folded.text)
    assert all(normalized[int(o)] == ch for o, ch in zip(folded.offsets, folded.text, strict=True))
    assert all(a < b for a, b in zip(folded.offsets[:-1], folded.offsets[1:], strict=False))
    assert folded.text == "".join(ch for ch in normalized if ch.isalnum() and ch != "_")


@pytest.mark.parametrize(("a", "b"), [
    ("價格：８，６５０元。燒結溫度", "价格 8650 元 烧结温度"),  # traditional, full width, punctuation, spaces
    ("Binder Burn-Out, 650 °C!", "binder burnout 650 c"),  # case, punctuation
    ("第一段　升温", "第1段升温"),  # numerals, ideographic space
])
def test_variants_fold_to_the_same_text(a: str, b: str) -> None:
    assert fold(normalize(a).text).text == fold(normalize(b).text).text


@given(st.text(alphabet=CJK, min_size=40, max_size=80), TEXT, TEXT)
@settings(max_examples=40, deadline=None)
def test_winnowing_finds_a_shared_run_wherever_it_sits(core: str, before: str, after: str) -> None:
    fingerprinter = Fingerprinter(b"k" * 32)
    _, _, alone = fingerprinter.fingerprints(fold(normalize(core).text))
    _, _, inside = fingerprinter.fingerprints(fold(normalize(before + "\n" + core + "\n" + after).text))
    # a run of ≥ window + gram − 1 characters always shares fingerprints, and most of them
    assert len(set(alone) & set(inside)) >= len(set(alone)) // 2


def test_fingerprints_depend_on_the_registry_secret() -> None:
    folded = fold(normalize(SOP).text)
    assert set(Fingerprinter(b"a" * 32).fingerprints(folded)[2]).isdisjoint(Fingerprinter(b"b" * 32).fingerprints(folded)[2])


@given(DISTINCT, TEXT, TEXT, st.booleans())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_matched_span_maps_back_to_the_registered_characters(tmp_path_factory, core: str, before: str, after: str,
                                                             wide: bool) -> None:
    with open_registry(tmp_path_factory.mktemp("reg") / "r.db", create=True) as registry:
        registry.add_text(core, "core", category="technical.data")
        shown = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in core) if wide else core
        text = before + "。" + shown + "。" + after
        passages = passages_of(text)
        findings = [f for fs in RegistryDetector(registry).detect_batch(passages) for f in fs]
        assert findings, "a registered run of 60+ characters must be found"
        low, high = len(before) + 1, len(before) + 1 + len(shown)
        for f in findings:
            assert text[f.start : f.end] == f.text
            # the span lies on the copied characters (a gram may reach one character past either edge)
            assert low - 1 <= f.start < f.end <= high + 1
        covered = sum(f.end - f.start for f in findings)
        assert covered >= 0.8 * len(shown)


# --- storage --------------------------------------------------------------------------------

def test_the_database_never_contains_the_registered_text(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    with open_registry(path, create=True) as registry:
        for text, category in ((SOP, "technical.process"), (PRICES, "business.pricing"), (ENGLISH, "technical.process")):
            registry.add_text(text, "secret", category=category)
        registry.matches(passages_of(SOP))  # a scan must not write text either
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    sentences = [s for text in (SOP, PRICES, ENGLISH) for s in normalize(text).text.replace("。", "，").split("，") if len(s) >= 6]
    sentences += [SOP, PRICES, ENGLISH]
    for sentence in sentences:
        for probe in {sentence, normalize(sentence).text, fold(normalize(sentence).text).text}:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be", "gb18030"):
                assert probe.encode(encoding) not in raw, f"registered text found in the database: {probe!r} ({encoding})"
    # and no 6-character piece of the folded text either
    folded = fold(normalize(SOP).text).text
    for i in range(0, len(folded) - 6, 3):
        assert folded[i : i + 6].encode("utf-8") not in raw


def test_lookup_uses_the_fingerprint_index(registry: Registry) -> None:
    plan = registry.store.db.execute(
        "EXPLAIN QUERY PLAN SELECT g.hash, g.docs, f.doc, f.pos FROM json_each(?) AS q"
        " JOIN gram AS g ON g.hash = q.value JOIN fingerprint AS f ON f.hash = g.hash WHERE g.docs <= ?", ("[1]", 64)).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH f USING PRIMARY KEY" in details and "SEARCH g USING INTEGER PRIMARY KEY" in details


def test_refuses_files_that_do_not_extract(registry: Registry, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02 not a document")
    from scanner.errors import RegistryError

    with pytest.raises(RegistryError, match="does not extract"):
        registry.add(bad, "bad", category="technical.data")
    assert registry.documents() == []


def test_open_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    from scanner.errors import RegistryError

    with pytest.raises(RegistryError, match="no secret registry"):
        open_registry(tmp_path / "missing.db")


# --- evidence log ---------------------------------------------------------------------------

def _three(registry: Registry) -> None:
    registry.add_text(SOP, "SOP", category="technical.process", owner="工艺部")
    registry.add_text(PRICES, "底价", category="business.pricing")
    registry.add_text(ENGLISH, "burnout", category="technical.process")


def test_untouched_log_verifies_and_receipt_carries_the_chain(registry: Registry) -> None:
    _three(registry)
    result = registry.verify()
    assert result.ok and result.entries == 3
    receipt = registry.receipt(2)
    assert receipt["entry"]["label"] == "底价" and receipt["entry"]["registry_id"] == 2
    assert receipt["prev_hash"] == registry.receipt(1)["hash"] and receipt["head"] == result.head
    assert len(receipt["entry"]["sha256"]) == 64 and receipt["entry"]["fingerprints"] > 0


@pytest.mark.parametrize(("tamper", "message"), [
    ("UPDATE ledger SET entry = replace(entry, '底价', '报价') WHERE seq = 2", "was edited"),
    ("DELETE FROM ledger WHERE seq = 2", "missing"),
    ("UPDATE ledger SET seq = seq + 10 WHERE seq = 1", "chain"),
    ("UPDATE document SET label = 'other' WHERE id = 1", "label"),
    ("DELETE FROM fingerprint WHERE doc = 3", "fingerprints"),
])
def test_tampering_is_detected(registry: Registry, tamper: str, message: str) -> None:
    _three(registry)
    registry.store.db.execute(tamper)
    result = registry.verify()
    assert not result.ok
    assert any(message in p for p in result.problems), result.problems


def test_removal_is_logged_and_still_verifies(registry: Registry) -> None:
    _three(registry)
    registry.remove(1)
    assert registry.verify().ok and registry.verify().entries == 4
    assert registry.matches(passages_of(SOP)) == []
    assert registry.store.db.execute("SELECT count(*) FROM fingerprint WHERE doc = 1").fetchone()[0] == 0


# --- matching -------------------------------------------------------------------------------

def test_empty_registry_matches_nothing(registry: Registry) -> None:
    assert registry.match(passages_of(SOP)) == ([[]], 0.0)


def test_edited_excerpt_is_found_and_unrelated_text_is_not(registry: Registry) -> None:
    _three(registry)
    # traditional characters, full-width digits, punctuation and spacing changed, one word edited
    excerpt = "另外，燒結工藝規程 第一段升溫速率５℃/min升至６５０℃保溫２小時；排膠完成后以3℃/min升至1285℃，保持2.5小時。"
    findings, score = registry.match(passages_of(UNRELATED + excerpt))
    hits = [f for fs in findings for f in fs]
    assert hits and score >= 0.6
    assert {f.category for f in hits} == {"technical.process"}
    assert all(e.kind == "registry" and "SOP" in e.detail for f in hits for e in f.evidence)
    assert registry.match(passages_of(UNRELATED, "中华人民共和国反不正当竞争法第九条规定了商业秘密的定义。")) == ([[], []], 0.0)


def test_short_common_phrase_does_not_match(registry: Registry) -> None:
    registry.add_text("中华人民共和国国家标准，经营者不得实施下列侵犯商业秘密的行为，以下简称本标准。" + SOP, "x", category="technical.process")
    findings, score = registry.match(passages_of("根据中华人民共和国国家标准，经营者不得实施下列行为。"))
    assert findings == [[]] and score == 0.0


def test_registry_detector_contract(registry: Registry) -> None:
    _three(registry)
    passages = passages_of(UNRELATED, "前言。" + SOP[:80], ENGLISH.upper(), PRICES)
    detector = RegistryDetector(registry)
    assert RegistryDetector().detect_batch(passages) == [[] for _ in passages]
    found = 0
    for passage, findings in zip(passages, detector.detect_batch(passages), strict=True):
        for f in findings:
            found += 1
            assert passage.start <= f.start <= f.end <= passage.end
            assert passage.block.text[f.start : f.end] == f.text
            assert 0.0 <= f.score <= 1.0 and f.category in detector.categories
    assert found >= 3


def test_scan_finds_a_registered_excerpt_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with open_registry(path, create=True) as registry:
        registry.add_text(SOP, "烧结SOP", category="technical.process")
    scanner = Scanner(registry=open_registry(path))
    outbound = ("周五例会纪要：一、下周排产照旧。二、" + SOP[:70].replace("，", " ") + "。三、食堂菜单不变。").encode()
    result = scanner.scan(Target("纪要.txt", outbound))
    assert result.verdict == "confidential"
    evidence = [e for f in result.findings for e in f.evidence if e.kind == "registry"]
    assert evidence and "烧结SOP" in evidence[0].detail and evidence[0].weight >= 0.6
    clean = scanner.scan(Target("通知.txt", UNRELATED.encode()))
    assert not any(e.kind == "registry" for f in clean.findings for e in f.evidence)


def test_allow_list_match_is_negative_evidence(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with open_registry(path, create=True) as registry:
        registry.add_text(PRICES, "公开价目表", public=True)
        findings, score = registry.match(passages_of(PRICES))
    public = [f for fs in findings for f in fs]
    assert score == 0.0 and public and all(f.category == "public" for f in public)
    assert all(e.weight < 0 for f in public for e in f.evidence)
    # the scorer multiplies the passage's secret score by (1 − share of it known to be public)
    from scanner.detectors.classifier import run_rules
    from scanner.features import DocumentSignals

    scanner = Scanner().load()
    passages = scanner.segmenter.segment([Block(PRICES)])
    signals = run_rules(scanner.detectors, passages)
    document = DocumentSignals.collect(signals)
    probabilities, _ = scanner.classifier.probabilities(passages, signals, document)
    with open_registry(path) as registry:
        matches, _ = registry.match(passages)
    plain = scanner.scorer.score_passages(passages, signals, probabilities, scanner.model.labels, document)
    allowed = scanner.scorer.score_passages(passages, signals, probabilities, scanner.model.labels, document, matches)
    assert plain[0].score >= 0.5 > allowed[0].score
    assert any(e.kind == "registry" and e.weight < 0 for e in allowed[0].evidence)


# --- command line ---------------------------------------------------------------------------

def test_cli_round_trip(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "r.db")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "sop.txt").write_text(SOP, encoding="utf-8")
    (tmp_path / "docs" / "price.md").write_text(PRICES, encoding="utf-8")
    (tmp_path / "site.txt").write_text(UNRELATED, encoding="utf-8")
    assert main(["registry", "add", str(tmp_path / "docs"), "--label", "工艺包", "--category", "technical.process",
                 "--owner", "工艺部", "--registry", db]) == 0
    added = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in added] == ["price.md", "sop.txt"] and all(d["owner"] == "工艺部" for d in added)
    assert main(["registry", "add", str(tmp_path / "site.txt"), "--label", "官网", "--public", "--registry", db]) == 0
    capsys.readouterr()
    assert main(["registry", "list", "--format", "json", "--registry", db]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["id"], d["category"]) for d in listed] == [(1, "technical.process"), (2, "technical.process"), (3, "public")]
    assert main(["registry", "export", "2", "--registry", db]) == 0
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["entry"]["name"] == "sop.txt" and len(receipt["hash"]) == 64
    assert main(["registry", "remove", "1", "--registry", db]) == 0
    assert main(["registry", "remove", "--label", "官网", "--registry", db]) == 0
    assert main(["registry", "verify", "--registry", db]) == 0
    assert "5 entries" in capsys.readouterr().out
    with sqlite3.connect(db) as con:
        con.execute("UPDATE ledger SET entry = replace(entry, '工艺部', '销售部') WHERE seq = 2")
    assert main(["registry", "verify", "--registry", db]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["registry", "export", "99", "--registry", db]) == 1
    assert main(["registry", "list", "--registry", str(tmp_path / "none.db")]) == 1
    assert main(["registry", "remove", "--registry", db]) == 2


def test_cli_add_refuses_unreadable_files_and_registers_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    (tmp_path / "sop.txt").write_text(SOP, encoding="utf-8")
    (tmp_path / "bad.bin").write_bytes(bytes(range(256)) * 4)
    assert main(["registry", "add", str(tmp_path / "sop.txt"), str(tmp_path / "bad.bin"), "--label", "x",
                 "--category", "technical.process", "--registry", str(db)]) == 1
    assert "nothing registered" in capsys.readouterr().err
    with open_registry(db) as registry:
        assert registry.documents() == []


def test_allow_listed_text_is_judged_public_by_the_document_verdict(tmp_path: Path) -> None:
    plain = Scanner().load().scan(Target("prices.txt", PRICES.encode()))
    assert plain.verdict == "confidential"
    path = tmp_path / "r.db"
    with open_registry(path, create=True) as registry:
        registry.add_text(PRICES, "公开价目表", public=True)
    with open_registry(path) as registry:
        allowed = Scanner(registry=registry).load().scan(Target("prices.txt", PRICES.encode()))
    assert allowed.score < plain.score and allowed.verdict == "public"
