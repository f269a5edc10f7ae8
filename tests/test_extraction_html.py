"""HTML extraction: encodings, sniffing, block structure, tables, dropped elements, metadata; MHT archives."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from scanner.errors import STATUSES
from scanner.extraction import extract_bytes, extract_path
from scanner.extraction.html import decode_html, looks_like_html
from tests._expected import fixture_files, found, text_expectations

DATA = Path(__file__).resolve().parent / "data" / "html"
ZH = "<html><body><p>商业秘密：单价八千六百五十元</p></body></html>"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ZH.replace("<body>", '<head><meta charset="gbk"></head><body>').encode("gbk"), "商业秘密"),
        (ZH.replace("<body>", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><body>').encode("gbk"), "商业秘密"),
        (ZH.replace("<body>", '<meta charset="big5"><body>').replace("商业秘密：单价八千六百五十元", "商業機密").encode("big5"), "商業機密"),
        (codecs.BOM_UTF16_LE + ZH.encode("utf-16-le"), "商业秘密"),
        (('<?xml version="1.0" encoding="GB18030"?>' + ZH).encode("gb18030"), "商业秘密"),
        # a stale declaration that valid UTF-8 contradicts loses
        (ZH.replace("<body>", '<meta charset="iso-8859-6"><body>').encode("utf-8"), "商业秘密"),
        (ZH.encode("gbk"), "商业秘密"),  # no declaration: detected
        ("<p>caf\u00e9 cr\u00e8me</p>".encode("cp1252"), "café crème"),  # undeclared Western page: windows-1252
    ],
)
def test_encodings(data: bytes, expected: str) -> None:
    assert expected in decode_html(data)


@pytest.mark.parametrize(
    ("head", "is_html"),
    [(b"<!DOCTYPE html><html>", True), (b"\xef\xbb\xbf  <!-- c --><HTML>", True), (b'<?xml version="1.0"?>\n<html>', True),
     (b"<head><title>x</title>", True), (codecs.BOM_UTF16_LE + "<html>".encode("utf-16-le"), True),
     (b"<body>", True), (b"<?xml version='1.0'?><root/>", False), (b"hello <html>", False), (b"{\\rtf1", False)],
)
def test_sniffing(head: bytes, is_html: bool) -> None:
    assert looks_like_html(head) is is_html


def test_gbk_page_structure() -> None:
    result = extract_path(DATA / "gbk_meta.html")
    assert result.status == "ok" and result.format == "html"
    got = [(b.kind, b.location.part, b.text) for b in result.blocks]
    assert got == [
        ("metadata", "metadata", "内部报价"),
        ("metadata", "metadata", "年度报价说明"),
        ("heading", "body", "报价说明"),
        ("text", "body", "单价 8650元，最低价。\n第二行"),
        ("text", "body", "块一"),
        ("text", "body", "块二"),
        ("table_row", "body", "料号\t价格\t备注"),
        ("table_row", "body", "A-1\t8650\t9100\t外层"),
        ("table_row", "body", "嵌套"),
        ("code", "body", "  code line 1\n  code line 2"),
        ("text", "body", "列表一"),
        ("text", "body", "列表二"),
    ]
    row = result.blocks[7]
    assert [c.ref for c in row.cells] == ["R2C1", "R2C2", "R2C3", "R2C4"] and row.header == "料号\t价格\t备注"
    assert result.blocks[8].table == 2  # the nested table is its own table


def test_scripts_styles_and_noscript_are_dropped() -> None:
    result = extract_path(DATA / "gbk_meta.html")
    text = "\n".join(b.text for b in result.blocks)
    assert "不应出现" not in text and "color" not in text and "无脚本" not in text and "注释" not in text


@pytest.mark.parametrize("data", [b"", b"   ", b"<html></html>", b"<!DOCTYPE html>"])
def test_empty_pages_are_ok(data: bytes) -> None:
    result = extract_bytes("empty.html", data)
    assert result.status == "ok" and result.blocks == ()


def test_mht_web_archive() -> None:
    html = "<html><body><p>归档页面：内部价格</p></body></html>".encode("gbk")
    import base64

    mht = (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b1\"\r\n\r\n--b1\r\n"
           b"Content-Type: text/html; charset=\"gbk\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(html) + b"\r\n--b1--\r\n")
    result = extract_bytes("page.mht", mht)
    assert result.status == "ok" and result.format == "mht"
    assert [b.text for b in result.blocks] == ["归档页面：内部价格"]


@pytest.mark.fixtures
def test_real_html_files(shared_data: Path) -> None:
    files = fixture_files(shared_data, (".html", ".htm", ".xhtml"))
    assert files
    hits = total = 0
    for path in files:
        result = extract_path(path)
        assert result.status in STATUSES, path
        if result.status == "ok" and shared_data / "format_fixtures" in path.parents:
            h, n = found(text_expectations(path, shared_data / "format_fixtures"), result)
            hits, total = hits + h, total + n
    print(f"\nHTML: {hits}/{total} expected strings found")
    # most strings asserted alongside these pages belong to other files listed in the same tests
    assert total and hits / total >= 0.25


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("name", "expected"),
    [("tika/testHTML_utf8.html", "åäö"), ("tika/testHTML.html", "Indexation du fichier"),
     ("unstructured/fake-html-cp1252.html", "Der Preis betrug 15,50 €."),
     ("tika/testHTMLNoisyMetaEncoding_1.html", "الاتحاد")],
)
def test_real_files(shared_data: Path, name: str, expected: str) -> None:
    result = extract_path(shared_data / "format_fixtures" / name)
    assert any(expected in b.text for b in result.blocks)
