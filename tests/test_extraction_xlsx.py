"""XLSX extraction: streamed rows with A1 refs, hidden sheets/rows/columns, comments, headers, drawings."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scanner.errors import STATUSES
from scanner.extraction import extract_bytes, extract_path
from scanner.extraction.xlsx import _date_kind, _excel_date, _number, header_footer_text
from tests._expected import fixture_files, found, text_expectations
from tests.data.make_office_fixtures import big_xlsx

FEATURES = Path(__file__).resolve().parent / "data" / "xlsx" / "features.xlsx"


@pytest.fixture(scope="module")
def blocks():
    result = extract_path(FEATURES)
    assert result.status == "ok" and result.format == "xlsx", result.error
    return result.blocks


@pytest.mark.parametrize(
    ("text", "part", "cell", "flags"),
    [
        ("客户\t单价\t日期\t备注", "sheet:报价", "A1", ()),
        # rich-text runs joined, a date from a custom 年月日 format, an inline string
        ("华东精密\t8650\t2024-03-01\t内联字符串", "sheet:报价", "A2", ()),
        ("隐藏列的内容", "sheet:报价", "E2", ("hidden",)),  # column E is hidden: split off and flagged
        ("東京\t0.3\tTRUE\t#DIV/0!", "sheet:报价", "A3", ()),  # phonetic guide left out; 15 significant digits
        ("隐藏行", "sheet:报价", "A4", ("hidden",)),
        ("9082.5\t华东精密公司", "sheet:报价", "B6", ()),  # cached formula results
        ("成本价7400", "sheet:成本", "A1", ("hidden",)),  # a hidden sheet
        ("线程批注：确认供应商", "comment", "A3", ("comment",)),
        ("王:底价，勿外传", "comment", "B2", ("comment",)),
        ("机密", "header", None, ()),
        ("仅供内部使用", "footer", None, ()),
        ("文本框：价格有效期30天", "sheet:报价", None, ()),
        ("报价单", "metadata", None, ()),
        ("部门: 销售部", "metadata", None, ()),
    ],
)
def test_feature_blocks(blocks, text, part, cell, flags) -> None:
    matches = [b for b in blocks if b.text == text]
    assert matches, [b.text for b in blocks]
    block = matches[0]
    assert (block.location.part, block.location.cell, block.flags) == (part, cell, flags)


def test_rows_share_the_sheet_header_and_keep_cell_spans(blocks) -> None:
    rows = [b for b in blocks if b.location.part == "sheet:报价" and b.kind == "table_row"]
    assert all(r.header == "客户\t单价\t日期\t备注" for r in rows[1:])
    assert all(r.location.sheet == "报价" for r in rows)
    second = rows[1]
    assert [c.ref for c in second.cells] == ["A2", "B2", "C2", "D2"]
    for c in second.cells:
        assert second.text[c.start:c.end] in ("华东精密", "8650", "2024-03-01", "内联字符串")


def test_legacy_copy_of_a_threaded_comment_is_not_repeated(blocks) -> None:
    assert not any("[Threaded comment]" in b.text for b in blocks)


def test_page_number_codes_are_not_text(blocks) -> None:
    assert not any(b.location.part == "header" and b.text.strip("/ ") == "" for b in blocks)


def test_a_100k_row_sheet_is_streamed() -> None:
    result = extract_bytes("big.xlsx", big_xlsx(100_000))
    assert result.status == "ok"
    assert len(result.blocks) == 100_000
    last = result.blocks[-1]
    assert last.text == "行100000\t300000" and last.location.cell == "A100000"


def test_xlsb_is_refused_clearly() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    result = extract_bytes("book.xlsb", out.getvalue())
    assert result.status == "unsupported"
    assert "XLSB" in result.error["message"] and ".xlsx" in result.error["message"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("8650", "8650"), ("0.30000000000000004", "0.3"), ("1.98356388E8", "198356388"), ("-2.5", "-2.5"),
     ("1E-3", "0.001"), ("abc", "abc")],
)
def test_numbers_as_excel_shows_them(value: str, expected: str) -> None:
    assert _number(value) == expected


@pytest.mark.parametrize(
    ("code", "kind"),
    [("yyyy/m/d", "date"), ('yyyy"年"m"月"d"日"', "date"), ("h:mm AM/PM", "time"), ("m/d/yy h:mm", "datetime"),
     ("0.00E+00", None), ("#,##0.00", None), ('"m"0', None), ("[Red]0.0", None), ("General", None)],
)
def test_date_formats(code: str, kind: str | None) -> None:
    assert _date_kind(code) == kind


@pytest.mark.parametrize(
    ("serial", "date1904", "kind", "expected"),
    [("45352", False, "date", "2024-03-01"), ("45352.5", False, "datetime", "2024-03-01 12:00:00"),
     ("0.25", False, "time", "06:00:00"), ("0", True, "date", "1904-01-01"), ("-1", False, "date", None)],
)
def test_excel_dates(serial: str, date1904: bool, kind: str, expected: str | None) -> None:
    assert _excel_date(serial, date1904, kind) == expected


@pytest.mark.parametrize(
    ("raw", "texts"),
    [("&L&\"宋体,加粗\"机密&C&P / &N&R&D", ["机密"]), ("&CCompany && Co.&12 confidential", ["Company & Co. confidential"]),
     ("&KFF0000Red text", ["Red text"]), ("", [])],
)
def test_header_footer_codes(raw: str, texts: list[str]) -> None:
    assert header_footer_text(raw) == texts


@pytest.mark.fixtures
def test_real_spreadsheets(shared_data: Path) -> None:
    files = fixture_files(shared_data, (".xlsx", ".xlsm", ".xltx", ".xlsb"))
    assert files
    hits = total = 0
    for path in files:
        result = extract_path(path)
        assert result.status in STATUSES, path
        if result.status == "ok" and shared_data / "format_fixtures" in path.parents:
            h, n = found(text_expectations(path, shared_data / "format_fixtures"), result)
            hits, total = hits + h, total + n
    print(f"\nXLSX: {hits}/{total} expected strings found")
    assert total and hits / total >= 0.5  # the rest: Excel display formats ($1,599.99), author names


@pytest.mark.fixtures
def test_real_files_headers_comments_text_boxes(shared_data: Path) -> None:
    fixtures = shared_data / "format_fixtures" / "tika"
    headers = extract_path(fixtures / "testEXCEL_headers_footers.xlsx")
    assert {"Header - Corporate Spreadsheet", "Footer - For Internal Use Only"} <= {b.text for b in headers.blocks}
    assert "this is some autoshape text" in {b.text for b in extract_path(fixtures / "testEXCEL_textbox.xlsx").blocks}
    comment = [b for b in extract_path(fixtures / "testComment.xlsx").blocks if b.location.part == "comment"]
    assert comment and comment[0].location.cell == "A1" and "Here is a comment" in comment[0].text


@pytest.mark.fixtures
def test_real_chinese_bank_sheet(shared_data: Path) -> None:
    path = shared_data / "hard_negatives_zh" / "poi_real_docs" / "stress020_taizhou_bank_deposits_2019.xlsx"
    if not path.exists():
        pytest.skip("real Chinese XLSX absent")
    result = extract_path(path)
    assert result.status == "ok"
    text = "".join(b.text for b in result.blocks)
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 50 and "\ufffd" not in text
