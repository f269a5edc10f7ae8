"""RTF extraction: code pages per document and per font, Unicode escapes, destinations, tables, stories."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import STATUSES
from scanner.extraction import extract_bytes, extract_path
from tests._expected import fixture_files, found, text_expectations

DATA = Path(__file__).resolve().parent / "data" / "rtf"


def texts(rtf: str | bytes) -> list[str]:
    data = rtf.encode("latin-1") if isinstance(rtf, str) else rtf
    result = extract_bytes("doc.rtf", data)
    assert result.status == "ok" and result.format == "rtf", result.error
    return [b.text for b in result.blocks]


def hexed(text: str, encoding: str) -> str:
    return "".join(f"\\'{b:02x}" if b > 0x7F else chr(b) for b in text.encode(encoding))


@pytest.mark.parametrize(
    ("rtf", "expected"),
    [
        # document code page
        ("{\\rtf1\\ansi\\ansicpg936 " + hexed("商业秘密", "gbk") + "\\par}", ["商业秘密"]),
        # the font's charset wins over the document code page
        ("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}{\\f1\\fcharset134 SimSun;}}\\f1 " + hexed("报价", "gbk")
         + "\\f0  caf\\'e9\\par}", ["报价 café"]),
        ("{\\rtf1\\ansi{\\fonttbl{\\f1\\fcharset136 MingLiU;}}\\f1 " + hexed("機密文件", "big5") + "\\par}", ["機密文件"]),
        ("{\\rtf1\\ansi\\ansicpg932 " + hexed("秘密です", "cp932") + "\\par}", ["秘密です"]),
        # Unicode escapes skip their fallback characters, \uc scoped to its group
        ("{\\rtf1\\uc1\\u20215?\\u26684?{\\uc2\\u25104\\'b3\\'c9}\\u26412?\\par}", ["价格成本"]),
        ("{\\rtf1\\u-10179?\\u-8704?\\par}", ["\U0001f600"]),  # a surrogate pair
        # a GBK trail byte written as a literal character
        ("{\\rtf1\\ansi\\ansicpg936 \\'81@\\par}", ["丂"]),
        # escaped braces and backslash, special characters
        ("{\\rtf1 a\\{b\\}c\\\\d\\~e\\emdash f\\par}", ["a{b}c\\d\u00a0e\u2014f"]),
        # skipped destinations and a field result
        ("{\\rtf1{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0;}{\\*\\unknown junk}{\\stylesheet{\\s1 Heading;}}"
         "{\\pict\\pngblip 89504e47}{\\field{\\*\\fldinst HYPERLINK x}{\\fldrslt link}} text\\par}", ["link text"]),
        ("{\\rtf1 a\\bin4 {}}\\ b\\par}", ["a b"]),  # \bin data is skipped whatever it holds
    ],
)
def test_rtf_text(rtf: str, expected: list[str]) -> None:
    assert texts(rtf) == expected


def test_chinese_fixture_file() -> None:
    result = extract_path(DATA / "chinese_gbk_big5.rtf")
    by_text = {b.text: b for b in result.blocks}
    assert "报价单：单价8650元" in by_text and "繁體報價" in by_text
    assert by_text["隐藏成本7400"].flags == ("hidden",)
    assert by_text["页眉：机密"].location.part == "header"
    assert by_text["脚注内容"].location.part == "footnote"
    assert by_text["内部报价"].location.part == "metadata" and by_text["内部报价"].kind == "metadata"
    rows = [b for b in result.blocks if b.kind == "table_row"]
    assert [r.text for r in rows] == ["料号\t单价", "A-1\t8650"]
    assert rows[1].header == "料号\t单价" and rows[1].cells[1].ref == "R2C2"
    assert by_text["表后段落"].kind == "text"
    assert not any("89504e47" in b.text or "HYPERLINK" in b.text or "Midian" in b.text for b in result.blocks)


def test_deleted_text_and_comments() -> None:
    rtf = ("{\\rtf1 kept {\\deleted removed} end{\\*\\atnid x}{\\*\\annotation\\pard review this\\par}\\par}")
    result = extract_bytes("c.rtf", rtf.encode())
    assert [(b.text, b.flags, b.location.part) for b in result.blocks] == [
        ("kept  end", (), "body"), ("removed", ("deleted",), "body"), ("review this", ("comment",), "comment")]


@pytest.mark.parametrize(("data", "status"), [(b"{\\rtf1 " + b"{" * 20_000, "corrupt"), (b"{\\rtf1 unterminated", "ok")])
def test_hostile_rtf(data: bytes, status: str) -> None:
    assert extract_bytes("x.rtf", data).status == status


@pytest.mark.fixtures
def test_real_rtf_files(shared_data: Path) -> None:
    files = fixture_files(shared_data, (".rtf",))
    assert files
    hits = total = 0
    for path in files:
        result = extract_path(path)
        assert result.status in STATUSES, path
        if result.status == "ok" and shared_data / "format_fixtures" in path.parents:
            h, n = found(text_expectations(path, shared_data / "format_fixtures"), result)
            hits, total = hits + h, total + n
    print(f"\nRTF: {hits}/{total} expected strings found")
    assert total and hits / total >= 0.75


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("name", "expected"),
    [("tika/testRTFJapanese.rtf", "東京都三鷹市"), ("tika/testRTF-ms932.rtf", "こんにちは"),
     ("tika/testRTFWindowsCodepage1250.rtf", "zażółć gęślą jaźń"), ("tika/testRTFUnicodeGothic.rtf", "𐌲𐌿𐍄𐌹𐍃𐌺"),
     ("tika/testRTFVarious.rtf", "This is the header text."), ("tika/testComment.rtf", "Here is a comment"),
     ("unstructured/fake-doc.rtf", "Row 1, Cell 1\tRow 1, Cell 2")],
)
def test_real_files(shared_data: Path, name: str, expected: str) -> None:
    result = extract_path(shared_data / "format_fixtures" / name)
    assert any(expected in b.text for b in result.blocks)
