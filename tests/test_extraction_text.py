"""Plain text, Markdown and CSV extraction, with the encodings Chinese files arrive in."""

from __future__ import annotations

import codecs

import pytest

from scanner.extraction import extract_bytes
from scanner.extraction.text import detect_encoding

ZH = "保温时间为2.5小时，毛利率控制在18%以内。统一社会信用代码见附件。"
ZH_TRAD = "這份報價單僅供內部參考，請勿外傳給供應商。"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ZH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + ZH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + ZH.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + ZH.encode("utf-16-be"), "utf-16-be"),
        (ZH.encode("utf-16-le"), "utf-16-le"),
        (ZH.encode("gbk"), "gb18030"),
        (ZH.encode("gb18030"), "gb18030"),
        (ZH_TRAD.encode("big5"), "big5"),
        ("Confidential: do not distribute.".encode("ascii"), "utf-8"),
    ],
)
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert detect_encoding(data) == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gbk", "gb18030", "big5"])
def test_text_round_trips_in_every_encoding(encoding: str) -> None:
    text = ZH_TRAD if encoding == "big5" else ZH
    result = extract_bytes("note.txt", text.encode(encoding))
    assert result.status == "ok"
    assert [b.text for b in result.blocks] == [text]


def test_western_legacy_text_is_not_mistaken_for_utf8() -> None:
    result = extract_bytes("note.txt", "Price list for the café".encode("cp1252"))
    assert result.blocks[0].text == "Price list for the café"


def test_paragraphs_keep_their_line_numbers() -> None:
    result = extract_bytes("memo.txt", "第一段\n第一段续\n\n\n第二段\r\n\r\n第三段".encode())
    assert [(b.text, b.location.line) for b in result.blocks] == [("第一段\n第一段续", 1), ("第二段", 5), ("第三段", 7)]


def test_csv_rows_become_table_rows_with_cell_addresses() -> None:
    data = "客户,单价,备注\n华东精密,8650,底价\n,,\n南方材料,9100,\n".encode("gbk")
    result = extract_bytes("报价.csv", data)
    assert result.status == "ok" and result.format == "csv"
    rows = result.blocks
    assert [b.kind for b in rows] == ["table_row"] * 3
    assert rows[1].text == "华东精密\t8650\t底价"
    assert rows[1].header == "客户\t单价\t备注"
    assert [c.ref for c in rows[1].cells] == ["A2", "B2", "C2"]
    assert rows[2].cells[1].ref == "B4"
    cell = rows[1].cells[1]
    assert rows[1].text[cell.start:cell.end] == "8650"


def test_tsv_and_semicolon_csv() -> None:
    assert extract_bytes("a.tsv", b"a\tb\n1\t2\n").blocks[1].text == "1\t2"
    assert extract_bytes("a.csv", b"a;b;c\n1;2;3\n").blocks[1].text == "1\t2\t3"


def test_markdown_tables_code_and_headings() -> None:
    md = "# 标题\n\n正文一段。\n\n| 料号 | 价格 |\n|---|---|\n| A-1 | 12.5 |\n\n```python\nprint('x')\n```\n"
    result = extract_bytes("readme.md", md.encode())
    kinds = [(b.kind, b.text) for b in result.blocks]
    assert ("heading", "# 标题") in kinds
    assert ("text", "正文一段。") in kinds
    assert ("table_row", "A-1\t12.5") in kinds
    assert ("code", "print('x')") in kinds


def test_binary_garbage_is_not_read_as_text() -> None:
    result = extract_bytes("blob.bin", bytes(range(256)) * 10)
    assert result.status == "unsupported"
    assert result.error is not None and result.error["type"] == "UnsupportedFormatError"


def test_empty_file_is_ok_and_empty() -> None:
    result = extract_bytes("empty.txt", b"")
    assert result.status == "ok" and result.blocks == ()
