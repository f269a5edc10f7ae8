"""Normalisation: canonical text for matching, offsets that still point into the original."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.normalize import chinese_number, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＣＯＮＦＩＤＥＮＴＩＡＬ：８６５０元", "confidential:8650元"),
        ("這份報價單僅供內部參考", "这份报价单仅供内部参考"),
        ("壹佰万元整", "1000000元整"),
        ("3.5万元", "35000元"),
        ("单价最低放到8,650元", "单价最低放到8650元"),
        ("十二月一日", "12月1日"),
        ("二〇二四年", "2024年"),
        ("统一社会信用代码", "统一社会信用代码"),  # 一 inside a word is not a number
        ("万一出问题", "万一出问题"),
        ("Floor Price USD 1,250.50", "floor price usd 1250.50"),
        ("注射压力分四段", "注射压力分4段"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("三千二百零五", 3205), ("一亿二千万", 120_000_000), ("十五", 15), ("二十", 20), ("一百零五", 105),
     ("一万二", 12_000), ("三千五", 3500), ("两百五", 250), ("壹佰万", 1_000_000), ("三亿零五百万", 305_000_000)],
)
def test_chinese_numbers(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


def test_rewritten_amount_maps_back_to_the_original_characters() -> None:
    original = "底价是壹佰万元整，比上次3.5万元高"
    norm = normalize(original)
    i = norm.text.index("1000000")
    assert original[slice(*norm.span(i, i + 7))] == "壹佰万"
    j = norm.text.index("35000元")
    assert original[slice(*norm.span(j, j + 6))] == "3.5万元"


_alphabet = st.sampled_from(list("甲乙价格底十百千万亿壹佰一二三零〇两元块%,.0123456789 ＡＢａｂ，。：這報價abcXYZ\n\t"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=60))
def test_spans_always_land_inside_the_original(text: str) -> None:
    norm = normalize(text)
    n = len(norm.text)
    for start in range(0, n + 1, 3):
        for end in range(start, n + 1, 4):
            o_start, o_end = norm.span(start, end)
            assert 0 <= o_start <= o_end <= len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=60))
def test_length_preserving_steps_map_identically(text: str) -> None:
    norm = normalize(text)
    if len(norm._norm_starts) == 1:  # no numeral rewritten: offsets are the identity
        assert len(norm.text) == len(text)
        assert norm.span(0, len(text)) == (0, len(text))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=60))
def test_normalisation_is_idempotent_on_its_output(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == normalize(once).text  # deterministic
    assert normalize(once).text.lower() == normalize(once).text
