"""PDF extraction: CID-font Chinese, paragraphs, ruled tables, encryption, damage, scans, attachments.

Fixtures are made by tests/data/make_pdf_fixtures.py. Most tests run twice: with poppler's pdftotext
(when it is on PATH) and with PDFium alone, the path a machine without poppler takes.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from scanner.data import Extraction
from scanner.errors import STATUSES
from scanner.extraction import Source, extract_bytes, extract_path
from scanner.extraction import ocr as ocr_module
from scanner.extraction import pdf as pdf_module
from scanner.extraction.pdf import PdfExtractor, _common_share, _join_words, _pages, _parse_bbox, _xmp_values
from scanner.settings import Settings

DATA = Path(__file__).resolve().parent / "data" / "pdf"

HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None
ENGINES = [
    pytest.param(True, id="pdftotext", marks=pytest.mark.skipif(not HAVE_PDFTOTEXT, reason="poppler's pdftotext is not installed")),
    pytest.param(False, id="pdfium"),
]
needs_ocr = pytest.mark.skipif(not ocr_module.installed(), reason="the ocr extra (rapidocr-onnxruntime) is not installed")

ZH_1 = ("本工艺文件规定了镀膜线的关键参数：保温时间为2.5小时，炉温控制在八百二十度上下，升温曲线按附表执行。"
        "上述参数属于公司技术秘密，未经批准不得向供应商或任何第三方披露。")
ZH_2 = ("报价方面，华东精密的单价最低放到8,650元，再低就不做了，咱们成本在7,400左右。"
        "请销售部门严格按照本价格体系执行，任何折扣须经区域经理书面批准后方可生效。")
EN = ("The coating line runs at a holding time of two and a half hours. This process window was developed in "
      "house over three years and must not be shared with suppliers or partners.")


def extract(name: str, *, password: str | None = None, **settings: object) -> Extraction:
    return extract_bytes(name, (DATA / name).read_bytes(), settings=Settings(**settings), password=password)


def texts(result: Extraction, kind: str = "text") -> list[str]:
    return [b.text for b in result.blocks if b.kind == kind]


@pytest.mark.parametrize("pdftotext", ENGINES)
def test_cid_font_chinese_comes_out_as_paragraphs_per_page(pdftotext: bool) -> None:
    result = extract("cid_chinese.pdf", pdftotext=pdftotext)
    assert result.status == "ok" and result.format == "pdf"
    page1 = [b.text for b in result.blocks if b.location.part == "page:1"]
    assert page1 == ["镀膜工艺与报价说明", ZH_1, ZH_2, EN]
    page2 = [b for b in result.blocks if b.location.part == "page:2"]
    assert [(b.text, b.location.page) for b in page2] == [("第二页：内部资料，严禁外传。", 2)]


@pytest.mark.parametrize("pdftotext", ENGINES)
def test_document_info_becomes_metadata_blocks(pdftotext: bool) -> None:
    result = extract("cid_chinese.pdf", pdftotext=pdftotext)
    metadata = [b for b in result.blocks if b.kind == "metadata"]
    assert {b.text for b in metadata} == {"镀膜工艺说明", "张工", "工艺参数与报价", "内部,报价"}
    assert {b.location.part for b in metadata} == {"metadata"}


@pytest.mark.parametrize("pdftotext", ENGINES)
def test_ruled_table_rows_keep_their_cells_and_are_not_read_twice(pdftotext: bool) -> None:
    result = extract("ruled_table.pdf", pdftotext=pdftotext)
    page = [b for b in result.blocks if b.location.part == "page:1"]
    assert [b.kind for b in page] == ["text", "table_row", "table_row", "table_row", "text"]
    header, first, second = (b for b in page if b.kind == "table_row")
    assert header.text == "料号\t单价（元）\t客户"
    assert first.text == "A-100\t8,650\t华东精密" and first.header == header.text
    assert [c.ref for c in first.cells] == ["R2C1", "R2C2", "R2C3"]
    price = first.cells[1]
    assert first.text[price.start:price.end] == "8,650"
    assert second.location.cell == "R3C1" and second.table == 1
    assert not any("华东精密" in text for text in texts(result))


@pytest.mark.parametrize(
    ("name", "password", "status", "needle"),
    [
        ("encrypted_user_password.pdf", None, "encrypted", "--password"),
        ("encrypted_user_password.pdf", "wrong", "encrypted", "does not open"),
        ("encrypted_user_password.pdf", "secret", "ok", "底价8,650元"),
        ("encrypted_user_password.pdf", "owner-secret", "ok", "底价8,650元"),
        # an owner password only restricts copying: the file opens and is read normally
        ("encrypted_owner_only.pdf", None, "ok", "加密文件：底价8,650元。"),
    ],
)
@pytest.mark.parametrize("pdftotext", ENGINES)
def test_encryption(name: str, password: str | None, status: str, needle: str, pdftotext: bool) -> None:
    result = extract(name, password=password, pdftotext=pdftotext)
    assert result.status == status
    if status == "ok":
        assert any(needle in text for text in texts(result))
    else:
        assert result.error is not None and needle in result.error["message"]
        assert result.error["type"] == "EncryptedDocumentError"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("truncated.pdf", (DATA / "truncated.pdf").read_bytes()),
        ("garbage_after_header.pdf", (DATA / "garbage_after_header.pdf").read_bytes()),
        ("empty.pdf", b""),
        ("cut.pdf", (DATA / "cid_chinese.pdf").read_bytes()[:40]),
    ],
)
@pytest.mark.parametrize("pdftotext", ENGINES)
def test_damaged_files_are_corrupt(name: str, data: bytes, pdftotext: bool) -> None:
    result = extract_bytes(name, data, settings=Settings(pdftotext=pdftotext))
    assert result.status == "corrupt"
    assert result.error is not None and result.error["type"] == "CorruptDocumentError"


def test_page_limit() -> None:
    result = extract("cid_chinese.pdf", max_pages=1)
    assert result.status == "too_large"
    assert result.error is not None and "MIDIAN_MAX_PAGES" in result.error["message"]


@pytest.mark.parametrize("pdftotext", ENGINES)
def test_time_limit(pdftotext: bool) -> None:
    result = extract("cid_chinese.pdf", file_timeout_s=1e-9, pdftotext=pdftotext)
    assert result.status == "timeout"


def test_a_pdftotext_that_fails_falls_back_to_pdfium(monkeypatch: pytest.MonkeyPatch) -> None:
    false = shutil.which("false")
    if false is None:
        pytest.skip("no `false` command")
    monkeypatch.setattr(pdf_module.shutil, "which", lambda name: false)
    result = extract("cid_chinese.pdf", pdftotext=True)
    assert result.status == "ok"
    assert ZH_2 in texts(result)


def test_scanned_page_without_ocr_warns_how_to_read_it() -> None:
    result = extract("scanned_page.pdf", ocr=False)
    assert result.status == "ok"
    assert texts(result) == []
    assert len(result.warnings) == 1
    assert "page 1 had no text layer" in result.warnings[0] and "MIDIAN_OCR=true" in result.warnings[0]


def test_scanned_page_without_the_ocr_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr_module, "installed", lambda: False)
    result = extract("scanned_page.pdf")
    assert "pip install 'midian[ocr]'" in result.warnings[0]


def test_ocr_page_limit_is_reported() -> None:
    result = extract("scanned_page.pdf", ocr_max_pages=0)
    assert texts(result) == []
    assert "MIDIAN_OCR_MAX_PAGES" in result.warnings[0]


@needs_ocr
def test_scanned_page_is_read_by_ocr() -> None:
    result = extract("scanned_page.pdf")
    ocr_blocks = [b for b in result.blocks if "ocr" in b.flags]
    assert ocr_blocks and all(b.location.part == "page:1" for b in ocr_blocks)
    text = "".join(b.text for b in ocr_blocks).replace(" ", "")
    assert "内部资料" in text and "8650" in text


@pytest.mark.parametrize("pdftotext", ENGINES)
def test_embedded_files_are_extracted_as_children(pdftotext: bool) -> None:
    result = extract("embedded_file.pdf", pdftotext=pdftotext)
    children = [b for b in result.blocks if b.location.attachment == "客户名单.txt"]
    assert [b.text for b in children] == ["华东精密 联系人 王经理 底价 8,650 元"]


@pytest.mark.parametrize("pdftotext", ENGINES)
def test_comment_annotations_are_flagged(pdftotext: bool) -> None:
    result = extract("comment_annotation.pdf", pdftotext=pdftotext)
    assert [(b.text, b.flags) for b in result.blocks] == [
        ("Quarterly figures, draft.", ()),
        ("Do not send this price to the distributor.", ("comment",)),
    ]


def test_sniffing() -> None:
    pdf = (DATA / "cid_chinese.pdf").read_bytes()
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.pdf", pdf)
    assert PdfExtractor.sniff(Source("x.bin", pdf))
    assert PdfExtractor.sniff(Source("x.bin", b"\r\n" * 100 + pdf))  # junk before the header, as in the wild
    assert not PdfExtractor.sniff(Source("x.bin", b" " * 1100 + pdf))
    assert not PdfExtractor.sniff(Source("a.zip", stored.getvalue()))  # a ZIP holding a PDF is a ZIP
    assert PdfExtractor.sniff(Source("empty.pdf", b""))
    assert not PdfExtractor.sniff(Source("empty.txt", b""))


def test_bbox_parsing_joins_words_by_their_gaps() -> None:
    xml = (
        '<doc><page width="600" height="800"><flow><block xMin="1" yMin="1" xMax="9" yMax="9">'
        '<line xMin="10" yMin="100" xMax="300" yMax="110">'
        '<word xMin="10" yMin="100" xMax="40" yMax="110">甲方：</word>'
        '<word xMin="40.5" yMin="100" xMax="120" yMax="110">中国饮料有限公司</word>'
        '<word xMin="126" yMin="100" xMax="160" yMax="110">R&amp;D</word>'
        "</line></block></flow></page>"
        '<page width="600" height="800"></page></doc>'
    )
    pages = list(_parse_bbox(xml))
    assert len(pages) == 2 and pages[1] == []
    (line,) = pages[0][0]
    assert line.text == "甲方：中国饮料有限公司 R&D"
    assert (line.x0, line.top, line.x1, line.bottom) == (10.0, 100.0, 300.0, 110.0)


def word_row(*spans: tuple[float, float, str]) -> list[tuple[str, str, str]]:
    return [(str(x0), str(x1), text) for x0, x1, text in spans]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (word_row((0, 30, "甲方："), (30.5, 100, "中国饮料有限公司")), "甲方：中国饮料有限公司"),  # split at a font change
        (word_row((0, 60, "山西省闻喜县"), (66, 90, "李新录")), "山西省闻喜县 李新录"),
        (word_row((0, 20, "Price"), (23, 40, "list")), "Price list"),
        # letter-spaced text: narrow gaps between letters, wide ones between words
        (word_row((0, 8, "H"), (9.5, 16, "e"), (17.5, 21, "r"), (22.5, 28, "e"), (34, 36, "i"), (37.5, 43, "s")), "Here is"),
        # evenly spaced one-letter words stay apart
        (word_row((0, 5, "a"), (8, 13, "b"), (16, 21, "c"), (24, 29, "d"), (32, 37, "e"), (40, 45, "f")), "a b c d e f"),
    ],
)
def test_words_are_joined_by_their_gaps(words: list[tuple[str, str, str]], expected: str) -> None:
    assert _join_words(words, 12.0) == expected


XMP = (b'%PDF-1.4 <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" '
       b'pdf:Keywords="pricing">'
       b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Quote</rdf:li><rdf:li xml:lang="zh-cn">'
       + "报价单".encode() + b'</rdf:li></rdf:Alt></dc:title>'
       b'<dc:creator><rdf:Seq><rdf:li>A</rdf:li><rdf:li>B</rdf:li></rdf:Seq></dc:creator>'
       b'<dc:format>application/pdf</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>')


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (XMP, ["Quote", "报价单", "A", "B", "pricing"]),
        (XMP.replace(b"</x:xmpmeta>", b""), []),  # an unterminated packet is not read
        (b'<x:xmpmeta><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><dc:title>&e;</dc:title></x:xmpmeta>', []),
        (b"%PDF-1.4 no metadata", []),
    ],
)
def test_xmp_metadata(data: bytes, expected: list[str]) -> None:
    assert _xmp_values(data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("报价单仅供内部参考", (1.0, 9)), ("哾㦓", (0.0, 2)), ("Buyer: none", (0.0, 0))],
)
def test_common_share_spots_mojibake(text: str, expected: tuple[float, int]) -> None:
    assert _common_share(text) == expected


@pytest.mark.parametrize(("numbers", "expected"), [([3], "page 3 had"), ([1, 2, 3, 7], "pages 1-3, 7 had")])
def test_page_lists_in_warnings(numbers: list[int], expected: str) -> None:
    assert _pages(numbers) == expected


# --- real PDFs from the public test suites in ../shared/data -----------------------------------

FIXTURE_FOLDERS = ("pdfminer", "pdfplumber", "pdfjs", "tika", "mineru", "unstructured")
ENCRYPTED = {
    "pdfminer/encryption/aes-128.pdf": "foo",
    "pdfminer/encryption/aes-128-m.pdf": "foo",
    "pdfminer/encryption/aes-256.pdf": "foo",
    "pdfminer/encryption/aes-256-m.pdf": "foo",
    "pdfminer/encryption/aes-256-r6.pdf": "usersecret",  # pdfminer's test uses this one, not "foo"
    "pdfminer/encryption/rc4-40.pdf": "foo",
    "pdfminer/encryption/rc4-128.pdf": "foo",
    "pdfplumber/password-example.pdf": "test",
    "tika/testPDF_no_extract_no_accessibility_owner_user.pdf": "user",
    "unstructured/pdf/password.pdf": None,
}
MAY_BE_CORRUPT = {
    "pdfminer/zen_of_python_corrupted.pdf", "pdfjs/helloworld-bad.pdf", "pdfplumber/malformed-from-issue-932.pdf",
    "pdfjs/scan-bad.pdf", "unstructured/pdf/failure-after-repair.pdf", "tika/testPDF_bad_page_303226.pdf",
    "unstructured/pdf/invalid-pdf-structure-pdfminer-one-page.pdf",
}
MUST_BE_CORRUPT = {"pdfplumber/empty.pdf"}
CONTAINS = [
    ("pdfminer/issue_566_test_1.pdf", "ISSUE Date：2019-4-25 Buyer：黎荣"),  # broken ToUnicode map, re-read
    ("pdfminer/issue_566_test_2.pdf", "甲方：中国饮料有限公司（盖章）"),
    ("pdfjs/issue2128r.pdf", "浅谈校长的魅力"),  # non-embedded CID font, GBK-EUC-H
    ("pdfjs/issue12823.pdf", "描述团队的共同目标，有利于团队成员理解目标并朝着目标努力。"),
    ("pdfjs/issue16063.pdf", "電線接続端子部が次のいずれにも該当しないとき。"),
    ("pdfminer/zen_of_python_corrupted.pdf", "Beautiful is better than ugly."),
    ("tika/testPDF_protected.pdf", "RETHINKING THE FINANCIAL NETWORK"),  # owner password only
    ("tika/testPDF_no_extract_yes_accessibility_owner_empty.pdf", "Hello World"),
    ("unstructured/pdf/embedded-cmap-cidfont.pdf", "This text uses an embedded CMap"),
    ("tika/testExtraSpaces.pdf", "Here is some formatted text"),  # letter-spaced: poppler's word boxes only
    ("tika/testPDFTripleLangTitle.pdf", "你好世界"),  # a title in XMP metadata only
    ("tika/testPDF_twoAuthors.pdf", "Sample Author 2"),
]

POPPLER_ONLY = {"tika/testExtraSpaces.pdf"}


def _fixture_pdfs(root: Path) -> list[Path]:
    return sorted(p for folder in FIXTURE_FOLDERS for p in (root / "format_fixtures" / folder).rglob("*.pdf"))


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root / "format_fixtures").as_posix()


@pytest.mark.fixtures
def test_every_fixture_pdf_ends_with_a_typed_status(shared_data: Path) -> None:
    settings = Settings(ocr=False)
    outcomes = {}
    for path in _fixture_pdfs(shared_data):
        name = _relative(path, shared_data)
        result = extract_path(path, settings=settings)
        outcomes[name] = result.status
        assert result.status in STATUSES and result.status != "error", (name, result.error)
        if name in ENCRYPTED:
            assert result.status == "encrypted", name
        elif name in MUST_BE_CORRUPT:
            assert result.status == "corrupt", name
        elif name in MAY_BE_CORRUPT:
            assert result.status in ("ok", "corrupt"), name
        else:
            assert result.status == "ok", (name, result.error)
    assert len(outcomes) >= 60


@pytest.mark.fixtures
@pytest.mark.parametrize(("name", "password"), [(k, v) for k, v in ENCRYPTED.items() if v])
def test_encrypted_fixtures_open_with_their_password(shared_data: Path, name: str, password: str) -> None:
    result = extract_path(shared_data / "format_fixtures" / name, password=password, settings=Settings(ocr=False))
    assert result.status == "ok"
    assert any(b.text.strip() for b in result.blocks if b.kind == "text")


@pytest.mark.fixtures
@pytest.mark.parametrize("pdftotext", ENGINES)
@pytest.mark.parametrize(("name", "needle"), CONTAINS)
def test_fixture_text(shared_data: Path, name: str, needle: str, pdftotext: bool) -> None:
    if name in POPPLER_ONLY and not pdftotext:
        pytest.skip("PDFium's text keeps the spaces of letter-spaced words")
    result = extract_path(shared_data / "format_fixtures" / name, settings=Settings(ocr=False, pdftotext=pdftotext))
    assert result.status == "ok"
    assert needle in "\n".join(b.text for b in result.blocks)


@pytest.mark.fixtures
@pytest.mark.skipif(not HAVE_PDFTOTEXT, reason="poppler's pdftotext is not installed")
def test_fixture_pdfium_cannot_decrypt_is_read_by_poppler(shared_data: Path) -> None:
    # AES-256 content PDFium opens but cannot decode (no page objects): only poppler reads it.
    result = extract_path(shared_data / "format_fixtures/pdfjs/secHandler.pdf", settings=Settings(ocr=False))
    assert [b.text for b in result.blocks] == ["Security Handler"]


@pytest.mark.fixtures
def test_fixture_tables_and_attachments(shared_data: Path) -> None:
    root = shared_data / "format_fixtures"
    nics = extract_path(root / "pdfplumber/nics-background-checks-2015-11.pdf")
    rows = [b for b in nics.blocks if b.kind == "table_row"]
    assert len(rows) >= 10 and any(b.text.startswith("Alabama Alaska Arizona") for b in rows)  # as pdfplumber has it
    package = extract_path(root / "tika/testPDFPackage.pdf")
    assert {(b.location.attachment, b.text) for b in package.blocks if b.kind == "text" and b.location.attachment} == {
        ("PDF1.pdf", "PDF1"), ("PDF2.pdf", "PDF2")}
    locked = extract_path(root / "pdfjs/encrypted-attachment.pdf")  # only the embedded file is encrypted
    assert locked.status == "ok" and [(e.attachment, e.status) for e in locked.member_errors] == [("attachment.pdf", "encrypted")]
    children = extract_path(root / "tika/testPDF_childAttachments.pdf", settings=Settings(ocr=False))
    assert {"Press Quality(1).joboptions", "Unit10.doc"} <= {
        b.location.attachment for b in children.blocks if b.location.attachment} | {
        e.attachment for e in children.member_errors}


@pytest.mark.fixtures
@needs_ocr
def test_fixture_scan_is_read_by_ocr(shared_data: Path) -> None:
    result = extract_path(shared_data / "format_fixtures/tika/testOCR.pdf")
    assert any("Happy New Year 2003" in b.text and "ocr" in b.flags for b in result.blocks)
