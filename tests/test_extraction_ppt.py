"""PowerPoint 97–2003: the record tree, slide text and notes, comments, real presentations."""

from __future__ import annotations

import struct

import pytest

from scanner.extraction import extract_bytes
from scanner.extraction.base import Context
from scanner.extraction.ppt import (
    RT_CLIENT_TEXTBOX,
    RT_COMMENT10,
    RT_CSTRING,
    RT_DOCUMENT,
    RT_OUTLINE_TEXT_REF,
    RT_SLIDE,
    RT_SLIDE_LIST_WITH_TEXT,
    RT_SLIDE_PERSIST_ATOM,
    RT_TEXT_BYTES,
    RT_TEXT_CHARS,
    PptExtractor,
    SlideEntry,
    children,
    paragraph_texts,
    read_record,
    slide_content,
    slide_list,
    walk,
)
from scanner.settings import Settings


def atom(rtype: int, data: bytes, instance: int = 0) -> bytes:
    return struct.pack("<HHI", instance << 4, rtype, len(data)) + data


def container(rtype: int, *parts: bytes, instance: int = 0) -> bytes:
    body = b"".join(parts)
    return struct.pack("<HHI", (instance << 4) | 0xF, rtype, len(body)) + body


def chars(text: str) -> bytes:
    return atom(RT_TEXT_CHARS, text.encode("utf-16-le"))


def test_records_and_bounds() -> None:
    stream = container(RT_SLIDE, chars("a"), atom(RT_TEXT_BYTES, b"b")) + b"\x00\x00"
    root = read_record(stream, 0)
    assert root is not None and root.is_container
    assert [r.rtype for r in walk(stream, root)] == [RT_SLIDE, RT_TEXT_CHARS, RT_TEXT_BYTES]
    assert read_record(stream, len(stream) - 2) is None  # a header cut short
    lying = struct.pack("<HHI", 0xF, RT_SLIDE, 10**9) + b"\x00" * 16
    assert read_record(lying, 0) is None  # a length beyond the stream


def test_slide_text_in_shape_order_with_placeholder_references() -> None:
    slide = container(
        RT_SLIDE,
        container(RT_CLIENT_TEXTBOX, atom(RT_OUTLINE_TEXT_REF, struct.pack("<i", 1))),
        container(RT_CLIENT_TEXTBOX, chars("华东区报价\r底价 8,650 元")),
        container(RT_CLIENT_TEXTBOX, atom(RT_TEXT_BYTES, "Café".encode("latin-1"))),
        container(RT_COMMENT10, atom(RT_CSTRING, "张伟".encode("utf-16-le"), 0),
                  atom(RT_CSTRING, "成本不要写在这里".encode("utf-16-le"), 1), atom(RT_CSTRING, b"Z\x00W\x00", 2)),
    )
    entry = SlideEntry(persist_ref=5, slide_id=256, texts=["标题", "正文占位符", "未引用的文本"])
    content = slide_content(slide, read_record(slide, 0), entry)
    assert content.texts == ["正文占位符", "华东区报价\r底价 8,650 元", "Café", "标题", "未引用的文本"]
    assert content.comments == [("张伟 (ZW)", "成本不要写在这里")]


def test_slide_list_entries() -> None:
    persist = atom(RT_SLIDE_PERSIST_ATOM, struct.pack("<IIiII", 7, 0, 2, 260, 0))
    document = container(RT_DOCUMENT, container(RT_SLIDE_LIST_WITH_TEXT, persist, chars("第一页"), chars("要点"), instance=0))
    entries = slide_list(document, read_record(document, 0), 0)
    assert [(e.persist_ref, e.slide_id, e.texts) for e in entries] == [(7, 260, ["第一页", "要点"])]
    assert slide_list(document, read_record(document, 0), 2) == []
    assert len(list(children(document, read_record(document, 0)))) == 1


def test_scan_fallback_reads_slides_in_stream_order() -> None:
    stream = container(RT_SLIDE, container(RT_CLIENT_TEXTBOX, chars("第一页"))) + \
        container(RT_SLIDE, container(RT_CLIENT_TEXTBOX, chars("第二页\x0b下一行")))
    blocks = list(PptExtractor()._scan(stream, Context(settings=Settings())))
    assert [(b.location.part, b.location.slide, b.text) for b in blocks] == [
        ("slide:1", 1, "第一页"), ("slide:2", 2, "第二页\n下一行")]


@pytest.mark.parametrize(("text", "expected"), [("a\rb\r\r", ["a", "b"]), ("行一\x0b行二", ["行一\n行二"]), ("\r", [])])
def test_paragraph_texts(text: str, expected: list[str]) -> None:
    assert paragraph_texts(text) == expected


def _fixture(shared_data, relative: str) -> bytes:  # type: ignore[no-untyped-def]
    return (shared_data / "format_fixtures" / relative).read_bytes()


@pytest.mark.fixtures
@pytest.mark.parametrize("relative", ["poi/54880_chinese.ppt", "poi/bug55902-mixedFontChineseCharacters.ppt"])
def test_chinese_and_japanese_slides(shared_data, relative: str) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes(relative, _fixture(shared_data, relative))
    assert result.status == "ok"
    slide = [b.text for b in result.blocks if b.location.part == "slide:1"]
    assert slide[:7] == ["Single byte", "複数の文字", "カタカナ", "ﾊﾝｶｸ", "表十ソ", "𠮟", "表Mixパﾋﾟ𠮟"]
    assert all(b.location.slide == 1 for b in result.blocks if b.location.part == "slide:1")


@pytest.mark.fixtures
def test_notes_comments_and_footers(shared_data) -> None:  # type: ignore[no-untyped-def]
    various = extract_bytes("v.ppt", _fixture(shared_data, "tika/testPPT_various.ppt"))
    notes = [b.text for b in various.blocks if b.location.part == "notes:1"]
    assert "This is the header text." in notes and "This is the footer text." in notes
    comment = extract_bytes("c.ppt", _fixture(shared_data, "tika/testPPT_comment.ppt"))
    assert [(b.text, b.flags) for b in comment.blocks if b.location.part == "comment"] == [
        ("Allison, Timothy B. (ATB): I'm afraid I'm going to have to ask you to add some content to this tps deck", ("comment",))]
    footer = extract_bytes("f.ppt", _fixture(shared_data, "tika/testPPT_masterFooter.ppt"))
    assert "Master footer is here" in [b.text for b in footer.blocks]


@pytest.mark.fixtures
def test_embedded_objects_are_read_as_children(shared_data) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes("e.ppt", _fixture(shared_data, "tika/testPPT_embeded.ppt"))
    embedded = {b.location.attachment for b in result.blocks if b.location.attachment}
    assert embedded == {"embedded-1", "embedded-2"}
    assert "The Alfresco logo is above this" in [b.text for b in result.blocks]


@pytest.mark.fixtures
def test_encrypted_presentation(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = _fixture(shared_data, "tika/testPPT_protected_passtika.ppt")
    locked = extract_bytes("p.ppt", data)
    assert locked.status == "encrypted" and "--password" in locked.error["message"]
    assert extract_bytes("p.ppt", data, password="wrong").status == "encrypted"
    opened = extract_bytes("p.ppt", data, password="tika")
    assert [b.text for b in opened.blocks] == ["Encrypted", "This is an encrypted PowerPoint 2007 slide."]


@pytest.mark.fixtures
def test_truncated_presentation_is_not_ok(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = _fixture(shared_data, "tika/testPPT.ppt")
    assert extract_bytes("cut.ppt", data[: len(data) // 2]).status == "corrupt"
