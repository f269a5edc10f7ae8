"""Password-encrypted OOXML: encrypted status, decryption with --password, hand-back to the registry."""

from __future__ import annotations

import io
import zipfile

import pytest

from scanner.extraction import extract_bytes, registered
from scanner.extraction.base import Source
from scanner.extraction.encrypted import EncryptedOfficeExtractor, decrypt_package

SECRET = "单价最低放到8,650元，成本在7,400左右。"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    f"<w:body><w:p><w:r><w:t>{SECRET}</w:t></w:r></w:p></w:body></w:document>"
)


def minimal_docx() -> bytes:
    """A one-paragraph DOCX, stored uncompressed: msoffcrypto-tool only round-trips packages over 4 KiB
    (smaller ones land in the OLE mini stream, which its writer does not handle)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", DOCUMENT + "<!--" + " " * 5000 + "-->")
    return buf.getvalue()


@pytest.fixture(scope="module")
def encrypted_docx() -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(minimal_docx())).encrypt("秘密2024", out)
    return out.getvalue()


def test_encrypted_package_is_recognised(encrypted_docx: bytes) -> None:
    assert EncryptedOfficeExtractor.sniff(Source("报价.docx", encrypted_docx))
    assert not EncryptedOfficeExtractor.sniff(Source("报价.docx", minimal_docx()))


def test_without_a_password_the_status_is_encrypted(encrypted_docx: bytes) -> None:
    result = extract_bytes("报价.docx", encrypted_docx)
    assert result.status == "encrypted" and result.format == "encrypted-office"
    assert "--password" in result.error["message"]


def test_a_wrong_password_says_so(encrypted_docx: bytes) -> None:
    result = extract_bytes("报价.docx", encrypted_docx, password="wrong")
    assert result.status == "encrypted"
    assert "did not open" in result.error["message"]


def test_the_right_password_yields_the_package(encrypted_docx: bytes) -> None:
    data = decrypt_package(Source("报价.docx", encrypted_docx), "秘密2024")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("word/document.xml").decode().startswith(DOCUMENT)


def test_decrypted_document_is_read_as_the_same_document(encrypted_docx: bytes) -> None:
    if "docx" not in registered():
        pytest.skip("the DOCX extractor is not registered in this build")
    result = extract_bytes("报价.docx", encrypted_docx, password="秘密2024")
    assert result.status == "ok"
    assert SECRET in [b.text for b in result.blocks]
    assert all(b.location.attachment is None for b in result.blocks)  # the same document, not an attachment


def test_damaged_container_is_not_ok(encrypted_docx: bytes) -> None:
    result = extract_bytes("报价.docx", encrypted_docx[: len(encrypted_docx) // 2], password="秘密2024")
    assert result.status in ("corrupt", "encrypted")


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("relative", "password"),
    [
        ("tika/testWORD_protected_passtika.docx", "tika"),
        ("tika/testEXCEL_protected_passtika.xlsx", "tika"),
        ("tika/testPPT_protected_passtika.pptx", "tika"),
        ("poi/protected_agile.docx", None),  # protected with Office's built-in default password
    ],
)
def test_real_encrypted_packages_decrypt(shared_data, relative: str, password: str | None) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / relative).read_bytes()
    plain = decrypt_package(Source(relative, data), password)
    assert "[Content_Types].xml" in zipfile.ZipFile(io.BytesIO(plain)).namelist()


@pytest.mark.fixtures
@pytest.mark.parametrize(
    "relative",
    ["tika/testWORD_protected_passtika.docx", "poi/protected_sha512.xlsx", "poi/bug53475-password-is-pass.docx",
     "unstructured/password_protected.xlsx"],
)
def test_real_encrypted_packages_without_password(shared_data, relative: str) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / relative).read_bytes()
    assert extract_bytes(relative, data).status == "encrypted"
