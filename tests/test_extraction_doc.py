"""Word 97–2003: the piece table, fields, tables from paragraph properties, stories, real documents."""

from __future__ import annotations

import struct

import pytest

from scanner.extraction import extract_bytes
from scanner.extraction.base import Context
from scanner.extraction.doc import (
    CharPositions,
    ParagraphMap,
    ParaProps,
    Piece,
    _BodyWriter,
    _sprm_props,
    clean,
    decode_pieces,
    paragraphs,
    parse_pieces,
)
from scanner.settings import Settings


def clx(pieces: list[tuple[int, int, int, bool]]) -> bytes:
    """A CLX with one Prc and a PlcPcd for ``(cp_start, cp_end, byte_offset, compressed)`` pieces."""
    cps = [p[0] for p in pieces] + [pieces[-1][1]]
    pcds = b""
    for _, _, offset, compressed in pieces:
        fc = (offset * 2) | 0x40000000 if compressed else offset
        pcds += struct.pack("<HIH", 0, fc, 0)
    plc = struct.pack(f"<{len(cps)}I", *cps) + pcds
    return b"\x01" + struct.pack("<h", 2) + b"\x00\x00" + b"\x02" + struct.pack("<I", len(plc)) + plc


def test_piece_table_mixes_compressed_and_unicode_pieces() -> None:
    word = bytearray(300)
    word[100:106] = "Price ".encode("cp1252")
    word[200:208] = "报价单价".encode("utf-16-le")
    pieces = parse_pieces(clx([(0, 6, 100, True), (6, 10, 200, False)]), "t.doc")
    assert pieces == [Piece(0, 6, 100, True), Piece(6, 10, 200, False)]
    assert decode_pieces(bytes(word), pieces, 0, 10) == "Price 报价单价"
    assert decode_pieces(bytes(word), pieces, 4, 8) == "e 报价"


@pytest.mark.parametrize("damaged", [b"", b"\x05junk", b"\x02\xff\xff\x00\x00", b"\x01\x10\x00"])
def test_damaged_piece_table_is_corrupt(damaged: bytes) -> None:
    from scanner.errors import CorruptDocumentError

    with pytest.raises(CorruptDocumentError):
        parse_pieces(damaged, "t.doc")


@pytest.mark.parametrize(
    ("story", "expected"),
    [
        ("a \x13 HYPERLINK \"x\" \x14link\x15 b\r", [("a link b", "\r")]),
        ("\x13 PAGE \x15c\rd", [("c", "\r"), ("d", "")]),
        ("\x13 IF \x13 MERGEFIELD n \x14v\x15 = 1 \x14结果\x15\r", [("结果", "\r")]),
        ("\x13 TOC \\o \x14第一章\t3\r第二章\t5\r\x15after\r", [("第一章\t3", "\r"), ("第二章\t5", "\r"), ("after", "\r")]),
        ("cell\x07\x07", [("cell", "\x07"), ("", "\x07")]),
    ],
)
def test_fields_keep_results_and_drop_codes(story: str, expected: list[tuple[str, str]]) -> None:
    assert [(text, mark) for text, mark, _ in paragraphs(story, 0)] == expected


def test_mark_positions_count_surrogate_pairs_as_two_characters() -> None:
    story = "𐌲𐌿\rx\r"  # two characters outside the BMP: four CPs in Word
    assert [cp for _, _, cp in paragraphs(story, 100)] == [104, 106]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("\x01\x08图1\x0b说明\x1e2\x1f", "图1\n说明-2"), ("\x02 脚注", "脚注"), ("a\xa0b", "a b")],
)
def test_clean_removes_word_control_characters(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_sprm_props_read_table_flags() -> None:
    row_end = struct.pack("<HB", 0x2416, 1) + struct.pack("<HB", 0x2417, 1) + struct.pack("<Hi", 0x6649, 1)
    assert _sprm_props(row_end, 0) == ParaProps(True, True, 1, 0)
    nested = struct.pack("<HB", 0x2416, 1) + struct.pack("<Hi", 0x6649, 2) + struct.pack("<HB", 0x244C, 1)
    assert _sprm_props(nested, 3) == ParaProps(True, False, 2, 3)
    skipped = struct.pack("<HH", 0xD608, 3) + b"\x00\x00" + struct.pack("<HB", 0x2416, 1)  # sprmTDefTable
    assert _sprm_props(skipped, 0).in_table


def _props_map(runs: list[tuple[int, int, ParaProps]]) -> ParagraphMap:
    props = ParagraphMap.__new__(ParagraphMap)
    props.starts = [r[0] for r in runs]
    props.ends = [r[1] for r in runs]
    props.props = [r[2] for r in runs]
    return props


def test_table_rows_follow_the_row_end_property_not_the_marks() -> None:
    #        0-5 intro | A¤ | ¤ (empty cell) | C¤ | ¤ (row end) | after
    story = "intro\rA\x07\x07C\x07\x07after\r"
    cell, end = ParaProps(in_table=True), ParaProps(in_table=True, row_end=True)
    props = _props_map([(0, 6, ParaProps(style=1)), (6, 8, cell), (8, 9, cell), (9, 11, cell), (11, 12, end),
                        (12, 18, ParaProps())])
    writer = _BodyWriter(props, CharPositions([Piece(0, 18, 0, True)]), Context(settings=Settings()))
    blocks = list(writer.blocks(story, "body", 0))
    assert [(b.kind, b.text) for b in blocks] == [("heading", "intro"), ("table_row", "A\tC"), ("text", "after")]
    assert [c.ref for c in blocks[1].cells] == ["R1C1", "R1C3"]  # the empty middle cell keeps its column
    assert blocks[1].table == 1


def test_table_rows_without_paragraph_properties_use_the_double_mark() -> None:
    story = "客户\x07单价\x07\x07华东\x078650\x07\x07"
    writer = _BodyWriter(_props_map([]), CharPositions([Piece(0, len(story), 0, True)]), Context(settings=Settings()))
    blocks = list(writer.blocks(story, "body", 0))
    assert [b.text for b in blocks] == ["客户\t单价", "华东\t8650"]
    assert blocks[1].header == "客户\t单价"


def _fixture(shared_data, relative: str) -> bytes:  # type: ignore[no-untyped-def]
    return (shared_data / "format_fixtures" / relative).read_bytes()


@pytest.mark.fixtures
def test_chinese_document_and_its_properties(shared_data) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes("TestChineseProperties.doc", _fixture(shared_data, "poi/TestChineseProperties.doc"))
    assert result.status == "ok"
    metadata = [b.text for b in result.blocks if b.kind == "metadata"]
    assert metadata[:4] == ["Title: 參考資料", "Subject: 新聞與媒體", "Author: 雅虎", "Keywords: 中文"]
    rows = [b for b in result.blocks if b.kind == "table_row"]
    assert rows[0].text.startswith("世界雅虎\t亞太：亞洲 - 中國")


@pytest.mark.fixtures
def test_407_page_chinese_document(shared_data) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes("zhiye_fenlei_dadian.doc", _fixture(shared_data, "funnlp/zhiye_fenlei_dadian.doc"))
    assert result.status == "ok"
    texts = [b.text for b in result.blocks]
    assert texts[:3] == ["Title: 中国职业分类体系表", "Author: guo", "中国职业分类体系表"]
    assert "2-05（GBM1-9）卫生专业技术人员" in texts
    assert len(texts) > 10_000
    assert not any("\ufffd" in t for t in texts)


@pytest.mark.fixtures
def test_stories_go_to_their_parts(shared_data) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes("testWORD_various.doc", _fixture(shared_data, "tika/testWORD_various.doc"))
    parts = {(b.location.part, b.text) for b in result.blocks}
    assert ("header", "This is the header text.") in parts
    assert ("footer", "This is the footer text.") in parts
    assert ("footnote", "This is a footnote.") in parts
    assert ("body", "Here is a text box") in parts
    assert ("body", "Row 1 Col 1\tRow 1 Col 2\tRow 1 Col 3") in parts
    assert ("body", "𐌲𐌿𐍄𐌹𐍃𐌺") in parts
    assert ("body", "ゾルゲと尾崎、淡々と最期") in parts


@pytest.mark.fixtures
def test_comments_are_flagged(shared_data) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes("testComment.doc", _fixture(shared_data, "tika/testComment.doc"))
    comments = [b for b in result.blocks if b.location.part == "comment"]
    assert [(b.text, b.flags) for b in comments] == [("Here is a comment", ("comment",))]


@pytest.mark.fixtures
def test_word6_document(shared_data) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes("testWORD6.doc", _fixture(shared_data, "tika/testWORD6.doc"))
    assert result.status == "ok"
    assert "The quick brown fox jumps over the lazy dog" in [b.text for b in result.blocks if b.kind == "text"]


@pytest.mark.fixtures
@pytest.mark.parametrize(("relative", "password", "text"), [
    ("poi/password_password_cryptoapi.doc", "password", "This is a test"),
    ("tika/testWORD_protected_passtika.doc", "tika", "This is an encrypted Word 2007 File."),
])
def test_encrypted_documents(shared_data, relative: str, password: str, text: str) -> None:  # type: ignore[no-untyped-def]
    data = _fixture(shared_data, relative)
    locked = extract_bytes("p.doc", data)
    assert locked.status == "encrypted" and "--password" in locked.error["message"]
    assert extract_bytes("p.doc", data, password="wrong").status == "encrypted"
    assert text in [b.text for b in extract_bytes("p.doc", data, password=password).blocks]


@pytest.mark.fixtures
def test_truncated_document_is_corrupt(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = _fixture(shared_data, "poi/TestChineseProperties.doc")
    assert extract_bytes("cut.doc", data[: len(data) // 2]).status == "corrupt"


@pytest.mark.parametrize(("codepage", "expected"), [(-535, "utf-8"), (936, "gb18030"), ([1, 2], None), ("x", None), (None, None)])
def test_property_code_pages(codepage: object, expected: str | None) -> None:
    from scanner.extraction.doc import _codepage_codec

    assert _codepage_codec(codepage) == expected
