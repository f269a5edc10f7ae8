"""Excel 97–2003 workbooks: rows with A1 cells, number formats, hidden content, headers and footers."""

from __future__ import annotations

import pytest

from scanner.extraction import extract_bytes
from scanner.extraction.xls import _date_text, format_number, header_footer_text
from tests.conftest import TEST_DATA

QUOTE = TEST_DATA / "xls" / "quote_hidden_rows_cols_sheets.xls"  # written by tests/data/make_xls_fixtures.py


@pytest.fixture(scope="module")
def quote():  # type: ignore[no-untyped-def]
    result = extract_bytes(QUOTE.name, QUOTE.read_bytes())
    assert result.status == "ok" and result.format == "xls"
    return result


def test_rows_become_table_rows_with_a1_cells_and_a_header(quote) -> None:  # type: ignore[no-untyped-def]
    rows = [b for b in quote.blocks if b.location.part == "sheet:报价" and "hidden" not in b.flags]
    assert [b.text for b in rows] == [
        "客户\t单价\t毛利率\t报价日期\t备注",
        "华东精密\t8,650.00\t18.00%\t2024-03-05\t底价，不能再低",
        "南方材料\t12,345.50\t7.50%\t2024-03-06",
    ]
    assert [c.ref for c in rows[1].cells] == ["A2", "B2", "C2", "D2", "E2"]
    assert rows[1].header == rows[0].text
    assert rows[1].location.sheet == "报价" and rows[1].location.cell == "A2"


def test_hidden_rows_columns_and_sheets_are_kept_and_flagged(quote) -> None:  # type: ignore[no-untyped-def]
    hidden = [(b.location.part, b.location.cell, b.text) for b in quote.blocks if "hidden" in b.flags]
    assert hidden == [
        ("sheet:报价", "G2", "内部成本 7,400"),
        ("sheet:报价", "A4", "隐藏客户\t7,400.00\t2.00%\t2024-03-07\t成本价"),
        ("sheet:成本", "A1", "真实成本\t7400"),
    ]


def test_sheets_in_order_and_general_numbers_without_trailing_zero(quote) -> None:  # type: ignore[no-untyped-def]
    parts = list(dict.fromkeys(b.location.part for b in quote.blocks if b.location.part.startswith("sheet:")))
    assert parts == ["sheet:报价", "sheet:Summary", "sheet:成本"]
    summary = [b.text for b in quote.blocks if b.location.part == "sheet:Summary"]
    assert summary == ["Quantity\t12", "Ratio\t2.5"]


def test_page_header_and_footer(quote) -> None:  # type: ignore[no-untyped-def]
    extras = [(b.location.part, b.location.sheet, b.text) for b in quote.blocks if b.location.part in ("header", "footer")]
    assert extras == [("header", "报价", "内部资料  华东区报价  第 页"), ("footer", "报价", "机密 - 请勿外传")]


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1599.99, "#,##0.00", "1,599.99"),
        (-1599.99, "#,##0.00", "-1,599.99"),
        (1599.99, '"$"#,##0.00_);[Red]\\("$"#,##0.00\\)', "$1,599.99"),
        (-1599.99, '"$"#,##0.00_);[Red]\\("$"#,##0.00\\)', "($1,599.99)"),
        (198356388.0, "0.00E+00", "1.98E+08"),
        (0.025, "0%", "3%"),
        (0.025, "0.00%", "2.50%"),
        (8650.0, "General", "8650"),
        (8650.0, "GENERAL", "8650"),
        (0.1 + 0.2, "General", "0.3"),
        (2.5, "# ?/?", "2.5"),
        (19.99, '0\\ "dollars and"\\ .00\\ "cents"', "19.99"),
        (8650.0, "¥#,##0", "¥8,650"),
        (7400.0, "@", "7400"),
    ],
)
def test_number_formats(value: float, fmt: str, expected: str) -> None:
    assert format_number(value, fmt) == expected


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (39219.84792480324, "d-mmm-yy", "2007-05-17"),
        (33966.760424803244, "h:mm", "18:15"),
        (39466.190980358806, "m/d/yy h:mm", "2008-01-19 04:35"),
        (45356.0, "yyyy\"年\"m\"月\"d\"日\"", "2024-03-05"),
        (0.5, "[h]:mm:ss", "12:00:00"),
    ],
)
def test_dates_as_iso(value: float, fmt: str, expected: str) -> None:
    assert _date_text(value, 0, fmt) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("&LLeft&CCentre&RRight", "Left  Centre  Right"),
        ('&"Arial,Bold"&12机密&C第&P页，共&N页', "机密  第 页，共 页"),
        ("&D &T", ""),
        ("Plain", "Plain"),
    ],
)
def test_header_footer_codes(code: str, expected: str) -> None:
    assert header_footer_text(code) == expected


@pytest.mark.parametrize("keep", [0.3, 0.7])
def test_truncated_workbook_is_corrupt(keep: float) -> None:
    data = QUOTE.read_bytes()
    result = extract_bytes("cut.xls", data[: int(len(data) * keep)])
    assert result.status == "corrupt"


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("tika/testEXCEL-formats.xls", ["1,599.99", "($1,599.99)", "1.98E+08", "2.50%", "18:15", "2007-05-17"]),
        ("tika/testEXCEL_5.xls", ["Sample Excel Worksheet - Numbers and their Squares", "225", "Title: Simple Excel document"]),
        ("tika/testEXCEL_headers_footers.xls", ["Header - For Internal Use Only", "Footer - Author: John Smith", "John Smith50"]),
        ("poi/DBCSHeader.xls", ["एक", "होगा", "जा"]),
        ("tika/testComment.xls", ["Here is a comment"]),
    ],
)
def test_real_workbooks(shared_data, relative: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / relative).read_bytes()
    result = extract_bytes(relative, data)
    assert result.status == "ok"
    text = "\n".join(b.text for b in result.blocks)
    for snippet in expected:
        assert snippet in text


@pytest.mark.fixtures
def test_encrypted_workbook(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / "tika" / "testEXCEL_protected_passtika.xls").read_bytes()
    locked = extract_bytes("p.xls", data)
    assert locked.status == "encrypted" and "--password" in locked.error["message"]
    assert extract_bytes("p.xls", data, password="wrong").status == "encrypted"
    opened = extract_bytes("p.xls", data, password="tika")
    assert opened.status == "ok"
    assert "This is an Encrypted Excel spreadsheet." in [b.text for b in opened.blocks]
