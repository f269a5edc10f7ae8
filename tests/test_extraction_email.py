"""E-mail: headers, the readable body, attachments as children, charsets as Chinese mail sends them."""

from __future__ import annotations

import base64

import pytest

from scanner.extraction import extract_bytes
from scanner.extraction.base import Source
from scanner.extraction.email import EmlExtractor, MboxExtractor, decode_payload, html_to_text, split_mbox

SECRET = "单价最低放到8,650元，成本在7,400左右。"
SUBJECT = "华东区报价（内部）"


def b64(text: str, charset: str = "utf-8") -> str:
    return base64.b64encode(text.encode(charset)).decode()


def eml(body_parts: str, subject: str = f"=?utf-8?b?{b64(SUBJECT)}?=", boundary: str = "BOUNDARY") -> bytes:
    head = (
        "Received: from mail.example.com\r\n"
        f"From: =?gb2312?b?{b64('张伟', 'gb2312')}?= <zhang@example.com>\r\n"
        "To: li@example.com\r\n"
        "Cc: wang@example.com\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 4 Mar 2024 10:00:00 +0800\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    )
    return (head + body_parts + f"--{boundary}--\r\n").encode("utf-8")


def part(headers: str, payload: str, boundary: str = "BOUNDARY") -> str:
    return f"--{boundary}\r\n{headers}\r\n\r\n{payload}\r\n"


def test_headers_body_and_attachments() -> None:
    attachment = base64.b64encode(SECRET.encode("gbk")).decode()
    data = eml(
        part('Content-Type: multipart/alternative; boundary="ALT"',
             part("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64", b64("请看附件。\n\n谢谢"), "ALT")
             + part("Content-Type: text/html; charset=utf-8", "<p>HTML twin</p>", "ALT") + "--ALT--")
        + part("Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%E4%BB%B7.txt", attachment)
    )
    result = extract_bytes("mail.eml", data)
    assert result.status == "ok" and result.format == "eml"
    headers = [b.text for b in result.blocks if b.location.part == "headers"]
    assert headers == ["From: 张伟 <zhang@example.com>", "To: li@example.com", "Cc: wang@example.com",
                       f"Subject: {SUBJECT}", "Date: Mon, 04 Mar 2024 10:00:00 +0800"]
    body = [b.text for b in result.blocks if b.location.part == "body" and b.location.attachment is None]
    assert body == ["请看附件。", "谢谢"]  # the plain alternative, not the HTML twin
    attached = [(b.location.attachment, b.text) for b in result.blocks if b.location.attachment]
    assert attached == [("报价.txt", "报价.txt"), ("报价.txt", SECRET)]


def test_html_only_body_becomes_text() -> None:
    html = "<html><head><style>p{}</style><script>x=1</script></head><body><p>第一段</p><p>成本 <b>7,400</b></p></body></html>"
    data = eml(part("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64", b64(html)))
    body = [b.text for b in extract_bytes("m.eml", data).blocks if b.location.part == "body"]
    assert body == ["第一段", "成本 7,400"]


def test_forwarded_message_and_inline_image_are_children() -> None:
    inner = ("From: a@example.com\r\nSubject: =?utf-8?b?" + b64("原始邮件") + "?=\r\n"
             "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(SECRET) + "\r\n")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()
    data = eml(part("Content-Type: text/plain; charset=utf-8", "见下")
               + part("Content-Type: message/rfc822", inner)
               + part("Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: inline", png))
    result = extract_bytes("fwd.eml", data)
    assert result.status == "ok"
    forwarded = [b.text for b in result.blocks if b.location.attachment == "原始邮件.eml"]
    assert "Subject: 原始邮件" in forwarded and SECRET in forwarded
    assert [b.text for b in result.blocks if b.location.attachment == "attachment-2.png"] == ["attachment-2.png"]
    assert [e.attachment for e in result.member_errors] == ["attachment-2.png"]  # images need the OCR extra


@pytest.mark.parametrize(
    ("payload", "charset", "expected"),
    [
        ("镕基与喆".encode("gbk"), "gb2312", "镕基与喆"),  # GBK-only characters under a GB2312 label
        (SECRET.encode("gbk"), "iso-8859-1", SECRET),  # Western label on GBK bytes
        (SECRET.encode("utf-8"), None, SECRET),  # no label at all
        (SECRET.encode("utf-8"), "us-ascii", SECRET),
        ("這份報價單".encode("big5"), "big5", "這份報價單"),
        ("café".encode("latin-1"), "iso-8859-1", "café"),
        (SECRET.encode("utf-8"), "x-unknown-charset", SECRET),
    ],
)
def test_decode_payload_repairs_mislabelled_charsets(payload: bytes, charset: str | None, expected: str) -> None:
    assert decode_payload(payload, charset) == expected


def test_raw_8bit_gbk_headers() -> None:
    data = (b"From: sales@example.com\r\nSubject: " + SUBJECT.encode("gbk")
            + b"\r\nContent-Type: text/plain; charset=gbk\r\n\r\n" + SECRET.encode("gbk") + b"\r\n")
    result = extract_bytes("raw.eml", data)
    assert [b.text for b in result.blocks] == ["From: sales@example.com", f"Subject: {SUBJECT}", SECRET]


def test_utf16_saved_message() -> None:
    text = f"From: a@example.com\r\nSubject: {SUBJECT}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{SECRET}\r\n"
    result = extract_bytes("unicode.eml", b"\xff\xfe" + text.encode("utf-16-le"))
    assert [b.text for b in result.blocks][-1] == SECRET


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"Received: from x\r\nFrom: a@b\r\nSubject: s\r\n\r\nbody", True),
        (b"MIME-Version: 1.0\nDate: today\n\nbody", True),
        (b"Subject: only one known header\n\nbody", False),
        (b"Dear colleague,\nFrom: me\nSubject: s\n", False),
        (b"# Heading\n\nFrom: a\nTo: b\n", False),
    ],
)
def test_eml_sniffing(head: bytes, expected: bool) -> None:
    assert EmlExtractor.sniff(Source("noext", head)) is expected


def test_mbox_messages_become_children() -> None:
    msg = "From: a@example.com\nSubject: {0}\n\n{1}\n>From the archive\n"
    data = ("From a@example.com Mon Mar  4 10:00:00 2024\n" + msg.format("one", "第一封") + "\n"
            + "From b@example.com Mon Mar  4 11:00:00 2024\n" + msg.format("two", SECRET)).encode()
    assert MboxExtractor.sniff(Source("box", data))
    assert len(split_mbox(data)) == 2
    result = extract_bytes("box.mbox", data)
    assert result.status == "ok" and result.format == "mbox"
    bodies = [(b.location.attachment, b.text) for b in result.blocks if b.location.part == "body"]
    assert bodies == [("message-1.eml", "第一封\nFrom the archive"), ("message-2.eml", f"{SECRET}\nFrom the archive")]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("<div>报价<br>底价</div>", "报价\n底价"),
        ("<table><tr><td>客户</td><td>单价</td></tr></table>", "客户 单价"),
        ("<script>alert(1)</script><p>ok&nbsp;text</p>", "ok text"),
        ("", ""),
        ('<?xml version="1.0" encoding="gb2312"?><html><body>中文</body></html>', "中文"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_garbage_with_eml_suffix_is_corrupt() -> None:
    assert extract_bytes("x.eml", b"\x00\x01\x02 not a message").status == "corrupt"


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("poi/chinese-traditional.msg", ["From: Tests Chang@FT (張毓倫)", "Subject: Alfresco MSG format testing ( MSG 格式測試 )",
                                          "陳常務理事"]),
        ("tika/testMSG_chinese.msg", ["張毓倫", "陳惠珍"]),
        ("tika/testMSG_att_msg.msg", ["Test Attachment.msg", "Blah blah blah"]),
        ("tika/testRFC822_i18nheaders", ["From: Keld Jørn Simonsen <keld@dkuug.dk>"]),
        ("tika/testEmailWithPNGAtt.eml", ["testPNG.png", "This email has a PNG attachment included in it"]),
        ("tika/testMBOX_complex.mbox", ["body 1"]),
        ("unstructured/eml/fake-email-utf-16.eml", ["This is a test email to use for unit tests."]),
    ],
)
def test_real_messages(shared_data, relative: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / relative).read_bytes()
    result = extract_bytes(relative.rsplit("/", 1)[-1], data)
    assert result.status == "ok"
    text = "\n".join(b.text for b in result.blocks)
    for snippet in expected:
        assert snippet in text


@pytest.mark.fixtures
def test_msg_attachments_carry_their_path(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / "tika" / "testMSG_att_doc.msg").read_bytes()
    result = extract_bytes("testMSG_att_doc.msg", data)
    assert {b.location.attachment for b in result.blocks if b.location.attachment} == {"test-unicode.doc", "pj1.txt"}


@pytest.mark.fixtures
def test_damaged_msg_and_tnef(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / "poi" / "chinese-traditional.msg").read_bytes()
    assert extract_bytes("cut.msg", data[: len(data) // 3]).status == "corrupt"
    tnef = (shared_data / "format_fixtures" / "tika" / "testWINMAIL.dat").read_bytes()
    assert extract_bytes("winmail.dat", tnef).status == "unsupported"
