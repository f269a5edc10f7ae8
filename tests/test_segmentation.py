"""Segmentation: jieba-compatible tokens, Chinese sentence ends, passages with offsets."""

from __future__ import annotations

import jieba
import pytest

from scanner.data import Block, Location
from scanner.extraction.tables import row_block
from scanner.segmentation import Segmenter, _user_words, cut, detect_language, split_words


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter().load()


SAMPLES = [
    "本批次保温时间为2.5小时，毛利率18%，统一社会信用代码为91350100M000100Y43。",
    "注射压力分四段，保压时间6.5秒，烧结温度1285℃，底价8650元，树脂40质量份。",
    "公司今年的营业收入预计增长，但具体数据尚未披露。研发部门正在试制新一代样机。",
    "中华人民共和国反不正当竞争法第九条规定，经营者不得实施侵犯商业秘密的行为。",
    "我们下周去客户那边拜访一下，顺便聊聊明年的年框和返点政策。",
]


def test_rjieba_gives_the_same_tokens_as_jieba_with_the_same_dictionary() -> None:
    """rjieba is a drop-in for jieba only because, HMM off and same dictionary, the tokens are identical."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    from scanner.segmentation import USER_DICT_FREQ

    for word in _user_words():
        tokenizer.add_word(word, USER_DICT_FREQ)
    for text in SAMPLES:
        for run in [r for r in __import__("re").findall(r"[\u4e00-\u9fff]+", text)]:
            assert cut(run) == tokenizer.lcut(run, HMM=False), run


@pytest.mark.parametrize("term", ["保温时间", "毛利率", "统一社会信用代码", "质量份", "保压时间", "底价"])
def test_domain_terms_stay_one_token(term: str) -> None:
    words, _ = split_words(f"本次{term}需要确认")
    assert term in words


def test_mixed_text_needs_no_language_switch() -> None:
    words, _ = split_words("floor price 是 usd 8650/吨，margin 18%")
    assert words[:2] == ["floor", "price"] and "8650" in words and "margin" in words


@pytest.mark.parametrize(
    ("text", "lang"),
    [("这是一段中文。", "zh"), ("This is English only.", "en"),
     ("我们的 floor price is USD 8650 per metric ton and the margin target is eighteen percent", "mixed")],
)
def test_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_chinese_sentence_ends_split_long_paragraphs(segmenter: Segmenter) -> None:
    sentence = "这是一句比较长的话，用来测试中文句号能否切分段落。"
    block = Block(sentence * 30)
    passages = segmenter.segment([block])
    assert len(passages) > 1
    for p in passages:
        assert len(p.text) <= segmenter.max_chars
        assert p.text.endswith("。") or p is passages[-1]
        assert block.text[p.start : p.end] == p.text


def test_passages_keep_block_and_offsets_after_numeral_rewrites(segmenter: Segmenter) -> None:
    blocks = [Block("标题"), Block("底价壹佰万元整。" * 3 + "其他内容。")]
    for p in segmenter.segment(blocks):
        assert blocks[p.block_index].text[p.start : p.end] == p.text


def test_table_rows_are_one_passage_with_header_context(segmenter: Segmenter) -> None:
    row = row_block([(1, "张三"), (2, "18500"), (3, "A")], row=3, location=Location(part="sheet:薪资", sheet="薪资"),
                    header="姓名\t月薪\t绩效")
    (passage,) = segmenter.segment([row])
    assert passage.text == "张三\t18500\tA"
    assert passage.header_tokens == ("姓名", "月薪", "绩效")
    assert passage.location.sheet == "薪资"


def test_segment_once_tokens_are_shared(segmenter: Segmenter) -> None:
    (p,) = segmenter.segment([Block("保温时间2.5小时")])
    assert p.tokens == ["保温时间", "2.5", "小时"]
    assert p.span.doc.user_data["words"][p.span.start : p.span.end] == ["保温时间", "2.5", "小时"]
