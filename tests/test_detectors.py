"""Table-driven zh/en tests for each rule detector."""

from __future__ import annotations

import csv

import pytest

from scanner.data import Block, Location
from scanner.detectors import registered
from scanner.segmentation import Segmenter

_segmenter = Segmenter()


def run(name: str, text: str, part: str = "body"):  # type: ignore[no-untyped-def]
    if not _segmenter.loaded:
        _segmenter.load()
    detector = registered()[name]().load()
    found = []
    for passage in _segmenter.segment([Block(text, location=Location(part=part))]):
        found.extend(detector.detect(passage))
    return found


def categories(name: str, text: str, part: str = "body") -> set[str]:
    return {f.category for f in run(name, text, part)}


@pytest.mark.parametrize(
    ("text", "part", "expected"),
    [
        ("机密★5年", "body", True),
        ("密级：秘密", "body", True),
        ("內部資料　注意保密", "body", True),
        ("本文件仅限公司内部使用", "body", True),
        ("严禁外传", "body", True),
        ("重点客户回访（勿外发）", "body", True),
        ("报价单请勿对外提供", "body", True),
        ("核心商密", "body", True),
        ("CONFIDENTIAL", "body", True),
        ("Proprietary and Confidential", "body", True),
        ("For internal use only. Do not distribute.", "body", True),
        ("商业秘密", "footer", True),
        ("【机密】2024年预算", "body", True),
        # talk about secrecy is not a legend
        ("经营者不得实施下列侵犯商业秘密的行为，包括以盗窃、贿赂手段获取权利人的商业秘密。", "body", False),
        ("保密协议", "body", False),
        ("商业秘密保护培训", "body", False),
        ("The Confidentiality Agreement sets out how Confidential Information may be used by the Recipient.", "body", False),
        ("Trade secret law protects information that derives value from not being generally known.", "body", False),
        ("Secret Santa party on Friday!", "body", False),
    ],
)
def test_marking(text: str, part: str, expected: bool) -> None:
    assert bool(categories("marking", text, part) & {"marking"}) is expected


def test_email_disclaimer_is_a_weak_marking() -> None:
    found = run("marking", "This email and any attachments are confidential and intended solely for the addressee. "
                           "If you have received this email in error please notify the sender.")
    assert found and max(f.score for f in found) <= 0.2


@pytest.mark.parametrize(
    ("name", "text", "category"),
    [
        ("process_parameters", "注射压力分四段调整为 88/76/64/40 MPa，保压 6.5 s，模温 65 ℃±2℃。", "technical.process"),
        ("process_parameters", "烧结温度1285℃±5℃，保温2.5h，升温速率3℃/min，真空度0.8 Pa。", "technical.process"),
        ("process_parameters", "Set the barrel to 235 °C, hold pressure 62 MPa for 6.5 s, screw speed 120 rpm.", "technical.process"),
        ("composition", "本配方按质量份计：环氧树脂100份，固化剂32.5份，气相二氧化硅3.2份，消泡剂0.4份。", "technical.formula"),
        ("composition", "Formulation: resin 62.5 wt%, TiO2 21.0 wt%, filler 14.2 wt%, additives 2.3 wt%.", "technical.formula"),
        ("pricing", "单价最低放到8,650元，再低就不做了。", "business.pricing"),
        ("pricing", "Our floor price is USD 8,650/ton, do not go below it.", "business.pricing"),
        ("pricing", "材料费 12.3元，人工费 3.1元，制造费用 2.4元，运费 0.8元。", "business.pricing"),
        ("bid", "本次投标报价为1,236.5万元，比控制价下浮8.3%。", "business.bid"),
        ("bid", "Our bid price for lot 2 will be USD 1.24 million, 6% under the engineer's estimate.", "business.bid"),
        ("salary", "员工月薪 18500 元，年终奖 3 个月。", "business.hr"),
        ("salary", "Her base salary goes to $142,000 with a 15% bonus target.", "business.hr"),
        ("test_data", "批次 LOT-2411-07 良率 97.2%，LOT-2411-08 良率 93.5%，不良主要为虚焊。", "technical.data"),
        ("test_data", "Yield by lot: L2405 96.1%, L2406 91.8%, L2407 97.4%; defect rate 0.8%.", "technical.data"),
        ("source_code", "def score(user):\n    if user.age > 30:\n        return 0.8\n    return compute(user.history)\n", "technical.source_code"),
        ("source_code", "public int price(Order o) {\n  int base = o.qty * 42;\n  return base - discount(o);\n}\n", "technical.source_code"),
    ],
)
def test_substance_detectors_fire(name: str, text: str, category: str) -> None:
    assert category in categories(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("process_parameters", "会议定于下午3点开始，预计持续2小时。"),
        ("process_parameters", "The meeting starts at 3 pm and lasts 2 hours."),
        ("composition", "今年销售额增长15%，利润增长8%。"),
        ("pricing", "本季度销售额为3200万元。"),
        ("pricing", "Revenue grew to USD 32 million in the quarter."),
        ("bid", "公司近期参加了多个项目的投标工作。"),
        ("salary", "公司将于下月组织年度体检。"),
        ("test_data", "测试工作将于下周开始。"),
        ("source_code", "我们明天开会讨论一下方案。\n请大家准备材料。\n谢谢。"),
    ],
)
def test_substance_detectors_stay_quiet_on_plain_text(name: str, text: str) -> None:
    assert not run(name, text)


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("员工张三，月薪35000元，年终奖4个月。", True),
        ("Take his base salary to $186,400 from April.", True),
        ("待遇：月薪12000-18000元，五险一金。", False),
        ("Salary range: $95,000 - $120,000 plus bonus.", False),
        ("年薪30万-45万元，面议。", False),
    ],
)
def test_an_exact_pay_figure_weighs_more_than_a_published_range(text: str, exact: bool) -> None:
    found = run("salary", text)
    assert found
    weight = max(f.evidence[0].weight for f in found)
    assert (weight >= 0.5) if exact else (weight <= 0.2)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("CN 112345678 A 本发明公开了一种烧结方法。", "patent publication number"),
        ("What is claimed is: 1. A method according to claim 1, wherein the temperature is 1285 °C.", "patent structure"),
        ("本标准规定了烧结钕铁硼永磁材料的技术要求。", "standard text"),
        ("按 GB/T 228.1-2021 进行拉伸试验。", "standard number"),
        ("XX市人民医院医疗设备采购项目招标公告", "public tender notice"),
        ("本公司董事会及全体董事保证本公告内容不存在任何虚假记载。", "published financial disclosure"),
        ("新华社北京3月8日电（记者 王某）", "news byline"),
        ("Licensed under the Apache License, Version 2.0", "open-source licence"),
        ("甲方：__________  乙方：__________", "template blanks"),
        ("第九条 经营者不得实施下列侵犯商业秘密的行为。", "statute text"),
        ("岗位职责：负责客户开发。任职要求：本科以上学历。", "job advertisement"),
        ("建议零售价 299 元，全国统一明码标价。", "public price"),
    ],
)
def test_public_context_cues(text: str, cue: str) -> None:
    found = run("public_context", text)
    assert any(f.evidence[0].detail.startswith(cue) and f.evidence[0].weight < 0 for f in found)


@pytest.mark.parametrize(
    ("text", "category"),
    [("请把客户名单和底价发我", "business.pricing"), ("Attach the customer list and the floor price.", "business.customer"),
     ("本季度标底已确定", "business.bid"), ("the retention bonus plan", "business.hr")],
)
def test_lexicon(text: str, category: str) -> None:
    assert category in categories("lexicon", text)


def test_lexicon_respects_english_word_boundaries() -> None:
    assert "business.pricing" not in categories("lexicon", "The marginal notes are on page two.")


# --- identifiers, including the public vectors in ../shared/data/pii_vectors -------------------

@pytest.mark.parametrize(
    ("text", "detail", "expected"),
    [
        ("身份证号 11010519491231002X", "居民身份证", True),
        ("身份证号 110105194912310021", "居民身份证", False),  # wrong check digit
        ("订单号 202311050000123456", "居民身份证", False),
        ("手机 138-0013-8000", "mobile", True),
        ("电话 021-62345678", "landline", True),
        ("卡号 6222 0212 3456 7890 123", "bank card", False),  # fails Luhn
        ("card 4111 1111 1111 1111", "bank card", True),
        ("mail me at li.lei@example.com.cn", "e-mail", True),
        ("信用代码 91310115MA1K3BTP2B", "统一社会信用代码", True),
        ("信用代码 91310115MA1K3BTP2C", "统一社会信用代码", False),
    ],
)
def test_identifiers(text: str, detail: str, expected: bool) -> None:
    found = run("identifiers", text)
    assert any(detail in f.evidence[0].detail for f in found) is expected


# LUHN_NUMBER rows are bare Luhn test numbers (7 to 37 digits), not card numbers: not a detector's vector.
KINDS = {"CN_RESIDENT_ID": "居民身份证", "CN_USCC": "统一社会信用代码", "CREDIT_CARD": "bank card",
         "CN_MOBILE": "mobile", "CN_LANDLINE": "landline"}


def _strict_only(note: str) -> bool:
    """Rows invalid only under the strict county-history rule, which other rows of the same file contradict
    (id-validator's non-strict mode accepts a county created after the birth year). Midian is lenient:
    a real person's number in a document is personal data whatever the county's history."""
    return "严格模式" in note and "非严格" not in note or "county was not registered yet" in note or "deregistered" in note


@pytest.mark.fixtures
def test_public_identifier_vectors(shared_data) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / "pii_vectors" / "derived" / "pii_vectors.tsv"
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    checked = 0
    for row in rows:
        kind = KINDS.get(row["type"])
        if kind is None or row["expected"] not in ("valid", "invalid"):
            continue
        if _strict_only(row["note"]):
            continue
        context = "卡号 " if kind == "bank card" else "号码 "
        found = run("identifiers", context + row["value"])
        hit = any(kind in f.evidence[0].detail and f.text.replace(" ", "").replace("-", "") == row["value"].replace(" ", "").replace("-", "")
                  for f in found)
        assert hit is (row["expected"] == "valid"), row
        checked += 1
    assert checked >= 230
