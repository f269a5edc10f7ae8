"""OpenDocument extraction: ODT stories and tracked changes, streamed ODS sheets, ODP slides, encryption."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scanner.errors import STATUSES
from scanner.extraction import extract_bytes, extract_path
from tests._expected import fixture_files, found, text_expectations

DATA = Path(__file__).resolve().parent / "data" / "odf"


def read(name: str):
    result = extract_path(DATA / name)
    assert result.status == "ok" and result.format == "odf", result.error
    return result.blocks


@pytest.mark.parametrize(
    ("name", "text", "part", "kind", "flags"),
    [
        ("features.odt", "技术方案", "body", "heading", ()),
        ("features.odt", "温度  860度\t保温\n2.5小时", "body", "text", ()),  # text:s c=2, tab, line break
        ("features.odt", "删除的旧价格8650元", "body", "text", ("deleted",)),
        ("features.odt", "新增的句子", "body", "text", ("inserted",)),
        ("features.odt", "脚注：实验数据", "footnote", "text", ()),
        ("features.odt", "批注：核实温度", "comment", "text", ("comment",)),
        ("features.odt", "文本框内容", "body", "text", ()),
        ("features.odt", "页眉：内部资料", "header", "text", ()),
        ("features.odt", "页脚：第1页", "footer", "text", ()),
        ("features.odt", "内部", "metadata", "metadata", ()),
        ("features.odt", "密级: 机密", "metadata", "metadata", ()),
        ("features.odp", "路线图", "slide:1", "heading", ()),
        ("features.odp", "第一阶段：试产", "slide:1", "text", ()),
        ("features.odp", "备注：延期风险", "notes:1", "text", ()),
        ("features.odp", "隐藏幻灯片", "slide:2", "text", ("hidden",)),
        ("features.odp", "公司机密", "master", "text", ()),
        ("flat.fodt", "平面 ODF 正文", "body", "text", ()),
        ("flat.fodt", "平面文档", "metadata", "metadata", ()),
    ],
)
def test_feature_blocks(name: str, text: str, part: str, kind: str, flags: tuple[str, ...]) -> None:
    blocks = [b for b in read(name) if b.text == text]
    assert blocks, [b.text for b in read(name)]
    assert (blocks[0].location.part, blocks[0].kind, blocks[0].flags) == (part, kind, flags)


def test_odt_table_rows() -> None:
    rows = [b for b in read("features.odt") if b.kind == "table_row"]
    assert [r.text for r in rows] == ["参数\t数值", "压力\t3MPa"]
    assert rows[1].cells[1].ref == "R2C2" and rows[1].header == "参数\t数值"


def test_ods_repeated_rows_and_columns_are_counted_not_expanded() -> None:
    blocks = read("features.ods")
    rows = {b.text: b for b in blocks if b.kind == "table_row"}
    # a million empty repeated rows advance the address without producing anything
    assert rows["华东精密\t8,650"].location.cell == "A1000002"
    assert rows["华东精密\t8,650"].header == "客户\t单价"
    assert [b.location.cell for b in blocks if b.text == "重复行"] == ["A1000003", "A1000004"]
    assert rows["隐藏列"].flags == ("hidden",) and rows["隐藏列"].location.cell == "C1"
    assert rows["隐藏行"].flags == ("hidden",)
    assert rows["成本7400"].flags == ("hidden",) and rows["成本7400"].location.part == "sheet:成本"
    comment = [b for b in blocks if b.location.part == "comment"][0]
    assert (comment.text, comment.location.cell, comment.location.sheet) == ("底价", "B1000002", "报价")
    assert len([b for b in blocks if b.kind == "table_row"]) == 8


def test_encrypted_package_without_password_is_reported_encrypted() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(DATA / "features.odt") as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "META-INF/manifest.xml":
                content = content.replace(b"</manifest:manifest>", b'<manifest:file-entry manifest:full-path="content.xml">'
                                          b"<manifest:encryption-data/></manifest:file-entry></manifest:manifest>")
            dst.writestr(info, content)
    result = extract_bytes("locked.odt", out.getvalue())
    assert result.status == "encrypted" and "--password" in result.error["message"]


@pytest.mark.fixtures
@pytest.mark.parametrize(("password", "status"), [(None, "encrypted"), ("wrong", "encrypted"), ("tika", "ok")])
def test_real_encrypted_odt(shared_data: Path, password: str | None, status: str) -> None:
    result = extract_path(shared_data / "format_fixtures" / "tika" / "testODTEncrypted.odt", password=password)
    assert result.status == status
    if status == "ok":
        assert "This should be encrypted." in [b.text for b in result.blocks]


@pytest.mark.fixtures
def test_real_opendocument_files(shared_data: Path) -> None:
    files = fixture_files(shared_data, (".odt", ".ods", ".odp"))
    assert files
    hits = total = 0
    for path in files:
        result = extract_path(path)
        assert result.status in STATUSES, path
        if result.status == "ok" and shared_data / "format_fixtures" in path.parents:
            h, n = found(text_expectations(path, shared_data / "format_fixtures"), result)
            hits, total = hits + h, total + n
    print(f"\nODF: {hits}/{total} expected strings found")
    assert total and hits / total >= 0.6  # the rest: generator strings and other files' text asserted alongside


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("name", "expected"),
    [("testFooter.odt", "Here is footer text"), ("testFooter.ods", "Here is a footer in the center area"),
     ("testMasterFooter.odp", "Master footer is here"), ("testODFwithOOo3.odt", "This is of course a simple footnote")],
)
def test_real_files(shared_data: Path, name: str, expected: str) -> None:
    result = extract_path(shared_data / "format_fixtures" / "tika" / name)
    assert expected in [b.text for b in result.blocks]
