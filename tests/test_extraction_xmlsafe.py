"""Safe XML part reading: entity bombs, oversized and over-compressed parts, damaged members, streaming."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from scanner.errors import STATUSES, CorruptDocumentError, LimitExceededError
from scanner.extraction import Context, Source, extract_bytes
from scanner.extraction.xmlsafe import Package, declares_entities, parse_xml, release
from scanner.settings import Settings

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
                             for i in range(1, 10))
                  + f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'.encode())
QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "' + b"A" * 50_000 + b'">]>'
             + f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode() + b"&a;" * 50_000
             + b"</w:t></w:r></w:p></w:body></w:document>")
XXE = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       + f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>'.encode())
EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://192.0.2.1/evil.dtd">'
                + f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>ok</w:t></w:r></w:p></w:body></w:document>'.encode())


def docx_with(document: bytes, *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", document)
    return out.getvalue()


@pytest.mark.parametrize(
    ("document", "status"),
    [(BILLION_LAUGHS, "too_large"), (QUADRATIC, "too_large"), (XXE, "too_large"), (EXTERNAL_DTD, "ok"),
     (BILLION_LAUGHS.decode().encode("utf-16"), "too_large")],
)
def test_entity_declarations_are_refused_and_external_dtds_not_fetched(document: bytes, status: str) -> None:
    result = extract_bytes("bomb.docx", docx_with(document))
    assert result.status == status, result.error
    if status == "ok":
        assert [b.text for b in result.blocks] == ["ok"]
    else:
        assert "XML bomb" in result.error["message"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"<a/>", False), (b"<!DOCTYPE a><a/>", False), (b'<!DOCTYPE a [<!ENTITY b "c">]><a/>', True),
     ('<!DOCTYPE a [<!ENTITY b "c">]><a/>'.encode("utf-16"), True), (b"<a>&lt;!ENTITY</a>", False)],
)
def test_declares_entities(data: bytes, expected: bool) -> None:
    assert declares_entities(data) is expected


def test_zip_bomb_part_is_refused_by_its_ratio() -> None:
    body = b"<w:p><w:r><w:t>0</w:t></w:r></w:p>" * 200_000  # ~7 MB of one repeated pattern
    document = f'<w:document xmlns:w="{W}"><w:body>'.encode() + body + b"</w:body></w:document>"
    result = extract_bytes("bomb.docx", docx_with(document))
    assert result.status == "too_large" and "decompression bomb" in result.error["message"]


def test_part_over_the_size_limit_is_refused() -> None:
    document = f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{"x" * 5000}</w:t></w:r></w:p></w:body></w:document>'
    result = extract_bytes("big.docx", docx_with(document.encode(), compress=zipfile.ZIP_STORED),
                           settings=Settings(max_xml_part_bytes=1000))
    assert result.status == "too_large" and "MIDIAN_MAX_XML_PART_BYTES" in result.error["message"]


def test_expanded_bytes_are_charged_to_the_document_budget() -> None:
    document = f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{"x" * 5000}</w:t></w:r></w:p></w:body></w:document>'
    result = extract_bytes("big.docx", docx_with(document.encode()), settings=Settings(max_expanded_bytes=2000))
    assert result.status == "too_large" and "MIDIAN_MAX_EXPANDED_BYTES" in result.error["message"]


def _package(members: dict[str, bytes], settings: Settings | None = None) -> Package:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return Package(Source("t.zip", out.getvalue()), Context(settings or Settings()))


def test_lying_declared_size_is_caught_by_the_read_cap() -> None:
    pkg = _package({"a.xml": b"<a>" + b"x" * 5000 + b"</a>"}, Settings(max_xml_part_bytes=100_000))
    pkg.infos["a.xml"].file_size = 10  # a header that lies about the size
    with pytest.raises((CorruptDocumentError, LimitExceededError)):
        pkg.read("a.xml", limit=100)


def test_missing_and_case_folded_members() -> None:
    pkg = _package({"Word/Document.xml": b"<a/>"})
    assert pkg.find("/word/document.xml") == "Word/Document.xml"
    with pytest.raises(CorruptDocumentError):
        pkg.read("word/missing.xml")


def test_streaming_yields_and_frees_elements() -> None:
    rows = b"".join(b"<row><c>%d</c></row>" % i for i in range(1000))
    pkg = _package({"s.xml": b"<sheet><data>" + rows + b"</data></sheet>"})
    seen = 0
    parent = None
    for _, row in pkg.iterparse("s.xml", ["row"]):
        assert row.findtext("c") == str(seen)
        seen += 1
        parent = row.getparent()
        release(row)
    assert seen == 1000
    assert parent is not None and len(parent) == 1 and len(parent[0]) == 0  # handled rows were freed


def test_streaming_refuses_a_doctype_with_an_internal_subset() -> None:
    pkg = _package({"s.xml": b'<!DOCTYPE s [<!ENTITY a "b">]><sheet><row/></sheet>'})
    with pytest.raises(LimitExceededError):
        list(pkg.iterparse("s.xml", ["row"]))


@pytest.mark.parametrize("data", [b"", b"<a>", b"not xml", b"<a></b>"])
def test_malformed_xml_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptDocumentError):
        parse_xml(data, "part")


def test_encrypted_zip_member_is_reported_encrypted() -> None:
    data = bytearray(docx_with(f'<w:document xmlns:w="{W}"/>'.encode()))
    # set the "encrypted" flag bit on every local and central header
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + offset] |= 1
            start += 4
    result = extract_bytes("locked.docx", bytes(data))
    assert result.status == "encrypted"


FIXTURES = sorted(p for p in (Path(__file__).resolve().parent / "data").glob("*/*") if p.suffix != ".py")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_mutated_fixtures_end_with_a_typed_status(path: Path) -> None:
    """Truncated, byte-flipped and member-damaged copies of every fixture: a typed status, never a crash."""
    rng = random.Random(path.name)
    data = path.read_bytes()
    for i in range(24):
        mutated = bytearray(data)
        if i % 3 == 0:
            mutated = mutated[: rng.randrange(len(mutated))]
        elif i % 3 == 1:
            for _ in range(rng.randint(1, 20)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        elif data[:2] == b"PK":
            out = io.BytesIO()
            with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
                for info in src.infolist():
                    member = bytearray(src.read(info))
                    for _ in range(rng.randint(0, 4) if member else 0):
                        member[rng.randrange(len(member))] = rng.choice(b'<>&"/x\x00\xff')
                    dst.writestr(info.filename, bytes(member))
            mutated = bytearray(out.getvalue())
        result = extract_bytes(path.name, bytes(mutated), settings=Settings(file_timeout_s=30))
        assert result.status in STATUSES and result.status != "error", (i, result.error)
