"""One contract over every registered detector: spans in bounds, text matches, scores in [0, 1],
categories declared."""

from __future__ import annotations

import pytest

from scanner.data import Block, Location
from scanner.detectors import registered
from scanner.extraction.tables import row_block
from scanner.segmentation import Segmenter

TEXTS = [
    "3月8日例会：注射压力分四段调整为 88/76/64/40 MPa，保压 6.5 s，模温 65 ℃±2℃。",
    "老王，单价最低放到８，６５０元，再低就不做了，咱们成本在7,400左右，毛利率18%。",
    "機密★5年　內部資料，注意保密。",
    "CONFIDENTIAL — Internal use only. Do not distribute.",
    "本配方按质量份计：环氧树脂100份，固化剂32.5份，气相二氧化硅3.2份。",
    "张三 身份证 11010519491231002X 手机 13800138000 邮箱 zhang@example.com 信用代码 91310115MA1K3BTP2B",
    "CN 112345678 A 本发明公开了一种烧结方法，实施例1：于1285℃保温2.5h。",
    "def score(user):\n    if user.age > 30:\n        return 0.8\n    return compute(user.history)\n",
    "Our floor price is USD 8,650/ton; gross margin 18%. Bid price for lot 2: $1.24m.",
    "员工月薪 18500 元，年终奖叁万元，绩效评级：A。",
    "本次投标报价为壹仟贰佰叁拾陆万元，比控制价下浮8.3%。良率 97.2%，批次号 LOT-2024-118。",
    "第九条 经营者不得实施下列侵犯商业秘密的行为。",
    "",
    "   ",
    "a",
]


@pytest.fixture(scope="module")
def passages():  # type: ignore[no-untyped-def]
    segmenter = Segmenter().load()
    blocks = [Block(t) for t in TEXTS if t.strip()]
    blocks.append(row_block([(1, "华东精密"), (2, "8,650"), (3, "底价")], row=7, location=Location(part="sheet:报价", sheet="报价"),
                            header="客户\t单价\t备注"))
    blocks.append(Block("内部资料 注意保密", location=Location(part="footer")))
    return segmenter.segment(blocks)


@pytest.mark.parametrize("name", sorted(n for n in registered() if n != "classifier"))
def test_detector_contract(name: str, passages) -> None:  # type: ignore[no-untyped-def]
    detector = registered()[name]().load()
    assert detector.name == name and detector.categories
    for passage in passages:
        for finding in detector.detect(passage):
            block = passage.block
            assert passage.start <= finding.start <= finding.end <= passage.end
            assert block.text[finding.start : finding.end] == finding.text
            assert 0.0 <= finding.score <= 1.0
            assert finding.category in detector.categories
            assert finding.block == passage.block_index
            assert finding.evidence and all(-1.0 <= e.weight <= 1.0 for e in finding.evidence)


def test_classifier_detector_contract(passages) -> None:  # type: ignore[no-untyped-def]
    detector = registered()["classifier"]().load()
    for passage, findings in zip(passages, detector.detect_batch(passages), strict=True):
        for finding in findings:
            assert passage.block.text[finding.start : finding.end] == finding.text
            assert 0.0 <= finding.score <= 1.0
            assert finding.category in detector.categories
