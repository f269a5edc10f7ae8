"""DOCX extraction: body, tables, tracked changes, hidden text, text boxes, notes, comments, properties."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scanner.errors import STATUSES
from scanner.extraction import extract_bytes, extract_path
from tests._expected import fixture_files, found, text_expectations

DATA = Path(__file__).resolve().parent / "data" / "docx"
FEATURES = DATA / "features.docx"


@pytest.fixture(scope="module")
def blocks():
    result = extract_path(FEATURES)
    assert result.status == "ok" and result.format == "docx", result.error
    return result.blocks


def find(blocks, text):
    matches = [b for b in blocks if b.text == text]
    assert matches, f"{text!r} not among {[b.text for b in blocks]}"
    return matches[0]


@pytest.mark.parametrize(
    ("text", "part", "kind", "flags"),
    [
        ("报价策略", "body", "heading", ()),  # Chinese Word names its heading style "1"
        ("单价最低\t8,650元\n第二行-续™", "body", "text", ()),  # tab, break, no-break hyphen, symbol; Wingdings dropped
        ("价格为9,100元", "body", "text", ("inserted",)),
        ("8,650", "body", "text", ("deleted",)),
        ("公开说明。隐藏关闭", "body", "text", ()),  # w:vanish w:val="0" is visible
        ("内部备注：成本7,400", "body", "text", ("hidden",)),
        ("文本框：样品仅供内部测试", "body", "text", ()),
        ("链接文字72024年3月1日", "body", "text", ()),  # hyperlink text and field results, no field codes
        ("内容控件：华东精密", "body", "text", ()),
        ("机密 内部资料 严禁外传", "header", "text", ()),
        ("第 1 页", "footer", "text", ()),
        ("脚注：数据来自内部测试。", "footnote", "text", ()),
        ("尾注：见合同第5条。", "endnote", "text", ()),
        ("请勿外传此价格\n第二段批注", "comment", "text", ("comment",)),
        ("年度报价策略", "metadata", "metadata", ()),
        ("密级: 机密", "metadata", "metadata", ()),
    ],
)
def test_feature_blocks(blocks, text, part, kind, flags) -> None:
    block = find(blocks, text)
    assert (block.location.part, block.kind, block.flags) == (part, kind, flags)


def test_text_box_is_read_once_not_again_from_its_vml_fallback(blocks) -> None:
    assert sum(b.text == "文本框：样品仅供内部测试" for b in blocks) == 1
    texts = [b.text for b in blocks]
    assert texts.index("见文本框") + 1 == texts.index("文本框：样品仅供内部测试")


def test_field_codes_and_separator_footnotes_are_left_out(blocks) -> None:
    text = "\n".join(b.text for b in blocks)
    assert "PAGE" not in text and "DATE" not in text and "HYPERLINK" not in text


def test_table_rows_with_cell_refs_header_spans_and_nested_tables(blocks) -> None:
    rows = [b for b in blocks if b.kind == "table_row" and b.location.attachment is None]
    assert [r.text for r in rows] == ["料号\t单价\t备注", "A-100\t8650\t底价", "内层A\t内层B", "合计\t见附件"]
    header, second, nested, spanned = rows
    assert [c.ref for c in second.cells] == ["R2C1", "R2C2", "R2C3"]
    assert second.header == header.text and second.table == header.table == 1
    assert nested.table == 2 and nested.header is None
    assert [c.ref for c in spanned.cells] == ["R3C1", "R3C3"]  # the first cell spans two grid columns
    cell = second.cells[1]
    assert second.text[cell.start:cell.end] == "8650"


def test_embedded_workbook_is_extracted_as_a_child(blocks) -> None:
    embedded = [b for b in blocks if b.location.attachment == "Microsoft_Excel_Worksheet.xlsx"]
    assert any(b.text.startswith("华东精密\t8650") and b.location.sheet == "报价" for b in embedded)


def test_strict_ooxml_namespaces_are_read() -> None:
    data = FEATURES.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "word/document.xml":
                content = content.replace(b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
                                          b"http://purl.oclc.org/ooxml/wordprocessingml/main")
            dst.writestr(info, content)
    result = extract_bytes("strict.docx", out.getvalue())
    assert result.status == "ok"
    assert "价格为9,100元" in [b.text for b in result.blocks]


def test_vertically_merged_cells_do_not_repeat_hidden_text() -> None:
    doc = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:tbl>'
           b'<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc>'
           b'<w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p></w:tc></w:tr>'
           b'<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p><w:r><w:t>stale</w:t></w:r></w:p></w:tc>'
           b'<w:tc><w:p><w:r><w:t>C</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>')
    result = extract_bytes("merged.docx", _minimal_docx(doc))
    rows = [b for b in result.blocks if b.kind == "table_row"]
    assert [r.text for r in rows] == ["A\tB", "C"]
    assert rows[1].cells[0].ref == "R2C2"


def _minimal_docx(document: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("word/document.xml", document)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("truncated.docx", FEATURES.read_bytes()[:3000], "corrupt"),
        ("empty.docx", b"", "corrupt"),
        ("not-a-zip.docx", b"PK\x03\x04garbage", "corrupt"),
        ("no-body.docx", _minimal_docx(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'), "ok"),
        ("broken-xml.docx", _minimal_docx(b"<w:document><w:body>"), "corrupt"),
    ],
)
def test_damaged_documents_get_a_typed_status(name: str, data: bytes, status: str) -> None:
    result = extract_bytes(name, data)
    assert result.status == status, result.error


@pytest.mark.fixtures
def test_real_word_files(shared_data: Path) -> None:
    files = fixture_files(shared_data, (".docx", ".docm", ".dotx"))
    assert files
    hits = total = 0
    for path in files:
        result = extract_path(path)
        assert result.status in STATUSES, path
        if result.status != "ok":
            assert result.error and result.error["message"], path
            continue
        if shared_data / "format_fixtures" in path.parents:
            h, n = found(text_expectations(path, shared_data / "format_fixtures"), result)
            hits, total = hits + h, total + n
    print(f"\nDOCX: {hits}/{total} expected strings found")
    assert total and hits / total >= 0.6  # the rest: list numbering, author names, app.xml fields, noise


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("poi/HeaderFooterUnicode.docx", ["This is a simple header, with a € euro symbol in it.", "The footer, with Molière, has Unicode in it."]),
        ("tika/testWORD_various.docx", ["ゾルゲと尾崎、淡々と最期", "（ＧＨＱ）", "This is a footnote.", "Here is a text box"]),
        ("tika/testWORD_text_box.docx", ["This text is inside of a text box in the header of the document."]),
        ("tika/testWORD_sdtInTextBox.docx", ["inside-text"]),
        ("tika/testComment.docx", ["Here is a comment"]),
    ],
)
def test_real_files_chinese_japanese_and_stories(shared_data: Path, name: str, expected: list[str]) -> None:
    result = extract_path(shared_data / "format_fixtures" / name)
    texts = "\n".join(b.text for b in result.blocks)
    for text in expected:
        assert text in texts


@pytest.mark.fixtures
def test_real_chinese_design_document(shared_data: Path) -> None:
    path = shared_data / "hard_negatives_zh" / "poi_real_docs" / "stress009_NANDrive_ssd_design_scheme.docx"
    if not path.exists():
        pytest.skip("real Chinese DOCX absent")
    result = extract_path(path)
    text = "".join(b.text for b in result.blocks)
    assert result.status == "ok"
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 500
    assert "\ufffd" not in text
