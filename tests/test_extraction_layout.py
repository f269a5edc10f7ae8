"""Lines into paragraphs: the rules shared by the PDF text layer and OCR."""

from __future__ import annotations

import pytest

from scanner.extraction.layout import Line, join_lines, paragraphs


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["本报告涉及公司核心工艺参数，保温时间为", "2.5小时，毛利率控制在18%以内。"], "本报告涉及公司核心工艺参数，保温时间为2.5小时，毛利率控制在18%以内。"),
        (["保温时间为2.", "5小时"], "保温时间为2.5小时"),  # a CJK line broken inside a number
        (["单价最低放到8,", "650元"], "单价最低放到8,650元"),
        (["使用 Apache", "Tika 解析"], "使用 Apache Tika 解析"),  # Latin words in a Chinese line keep their space
        (["The process window was developed", "in house over three years."], "The process window was developed in house over three years."),
        (["a confiden-", "tial report"], "a confidential report"),
        (["Acme-", "Widgets Ltd"], "Acme- Widgets Ltd"),
        (["  padded  ", "", "line "], "padded line"),
        (["영업 비밀은", "보호됩니다"], "영업 비밀은 보호됩니다"),  # Korean writes spaces between words
    ],
)
def test_join_lines(lines: list[str], expected: str) -> None:
    assert join_lines(lines) == expected


def para_texts(lines: list[Line]) -> list[str]:
    return [join_lines(ln.text for ln in para) for para in paragraphs(lines)]


def line(text: str, top: float, x0: float = 72, x1: float = 500, height: float = 10) -> Line:
    return Line(text, x0, top, x1, top + height)


def test_a_wider_gap_starts_a_paragraph() -> None:
    lines = [line("one", 100), line("two", 114), line("three", 128), line("four", 160), line("five", 174)]
    assert para_texts(lines) == ["one two three", "four five"]


def test_a_short_line_ending_a_sentence_ends_its_paragraph() -> None:
    lines = [line("第一段第一行", 100), line("第一段结束。", 114, x1=200), line("第二段第一行", 128), line("第二段", 142)]
    assert para_texts(lines) == ["第一段第一行第一段结束。", "第二段第一行第二段"]


def test_an_indented_first_line_starts_a_paragraph() -> None:
    lines = [line("first paragraph ends here.", 100), line("Second one starts", 114, x0=94), line("and goes on", 128)]
    assert para_texts(lines) == ["first paragraph ends here.", "Second one starts and goes on"]


def test_a_hanging_indent_continues_its_item() -> None:
    lines = [line("1. an item that wraps onto", 100), line("the next line", 114, x0=90)]
    assert para_texts(lines) == ["1. an item that wraps onto the next line"]


def test_going_back_up_the_page_is_a_new_column() -> None:
    lines = [line("left top", 100, x1=280), line("left bottom", 114, x1=280),
             line("right top", 100, x0=300), line("right bottom", 114, x0=300)]
    assert para_texts(lines) == ["left top left bottom", "right top right bottom"]


def test_another_font_size_starts_a_paragraph() -> None:
    lines = [line("Heading", 100, height=18), line("body text", 124), line("more body", 138)]
    assert para_texts(lines) == ["Heading", "body text more body"]


def test_pieces_of_one_line_stay_together() -> None:
    lines = [line("14(I)", 100, x0=72, x1=100), line("物的有用性使物成为使用价值", 101, x0=120), line("续行", 115)]
    assert para_texts(lines) == ["14(I) 物的有用性使物成为使用价值续行"]


def test_no_lines_no_paragraphs() -> None:
    assert list(paragraphs([])) == []
