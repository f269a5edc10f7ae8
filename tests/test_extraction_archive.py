"""Archives: members read recursively, Chinese names, passwords, and bombs refused quickly."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile

import pytest

from scanner.extraction import extract_bytes
from scanner.extraction.archive import ZipExtractor, display_name, inner_name, is_junk
from scanner.extraction.base import Source
from scanner.settings import Settings

SECRET = "单价最低放到8,650元，成本在7,400左右。"


def make_zip(members: dict[str, bytes], *, gbk_names: bool = False, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP of ``members``; with ``gbk_names`` the names are raw GBK bytes without the UTF-8 flag."""
    buf = io.BytesIO()
    renames: list[tuple[bytes, bytes]] = []
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for i, (name, data) in enumerate(members.items()):
            stored = name
            if gbk_names:  # as Chinese Windows tools write them: zipfile itself would set the UTF-8 flag
                raw = name.encode("gbk")
                stored = f"{i:04d}".ljust(len(raw), "_")
                renames.append((stored.encode(), raw))
            zf.writestr(zipfile.ZipInfo(stored), data, compress_type=compression)
    data = buf.getvalue()
    for placeholder, raw in renames:
        data = data.replace(placeholder, raw)
    return data


def texts(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.text for b in result.blocks if b.kind != "metadata"]


def test_zip_members_are_read_with_their_paths() -> None:
    data = make_zip({"报价/华东.txt": SECRET.encode("gbk"), "readme.md": b"# Price list\n\nInternal only."})
    result = extract_bytes("out.zip", data)
    assert result.status == "ok" and result.format == "zip"
    by_member = {(b.location.attachment, b.kind): b.text for b in result.blocks}
    assert by_member[("报价/华东.txt", "text")] == SECRET
    assert by_member[("报价/华东.txt", "metadata")] == "报价/华东.txt"  # names often say what a file holds
    assert ("readme.md", "heading") in by_member


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("审计压缩包/集团邮件审计系统需求文档_V4.0.doc", "审计压缩包/集团邮件审计系统需求文档_V4.0.doc"),
        ("報價單.txt", "報價單.txt"),  # traditional characters that GBK also encodes
        ("plain-ascii.txt", "plain-ascii.txt"),
    ],
)
def test_gbk_member_names_without_the_utf8_flag_are_decoded(name: str, expected: str) -> None:
    data = make_zip({name: b"x"}, gbk_names=True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert not zf.infolist()[0].flag_bits & 0x800
    result = extract_bytes("gbk.zip", data)
    assert [b.location.attachment for b in result.blocks if b.kind == "metadata"] == [expected]


def test_nested_archives_keep_the_full_member_path() -> None:
    inner = make_zip({"深层/cost.txt": SECRET.encode()})
    outer = make_zip({"inner.zip": inner})
    result = extract_bytes("outer.zip", outer)
    assert result.status == "ok"
    assert [b.location.attachment for b in result.blocks if b.kind == "text"] == ["inner.zip/深层/cost.txt"]


def test_directories_and_os_junk_are_skipped() -> None:
    data = make_zip({"docs/": b"", "__MACOSX/docs/._a.txt": b"\x00\x05\x16\x07", "docs/.DS_Store": b"\x00\x00\x00\x01Bud1",
                     "Thumbs.db": b"\xd0\xcf\x11\xe0", "docs/a.txt": b"kept"})
    result = extract_bytes("junk.zip", data)
    assert texts(result) == ["kept"]
    assert not result.member_errors


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", "../../etc/passwd"),
        ("/absolute/path.txt", "/absolute/path.txt"),
        ("tab\there\x01.txt", "tabhere.txt"),
        ("a\\b\\c.txt", "a/b/c.txt"),
        ("x" * 400 + ".txt", "x" * 254 + "…"),
    ],
)
def test_hostile_member_names_are_display_strings_only(name: str, shown: str) -> None:
    assert display_name(name) == shown


def test_hostile_names_are_read_without_touching_the_disk(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    data = make_zip({"../../../../tmp/evil.txt": b"payload", "/etc/cron.d/x": b"payload2"})
    result = extract_bytes("hostile.zip", data)
    assert texts(result) == ["payload", "payload2"]
    assert list(tmp_path.iterdir()) == []


def test_member_count_limit() -> None:
    data = make_zip({f"f{i}.txt": b"x" for i in range(5)})
    result = extract_bytes("many.zip", data, settings=Settings(max_archive_members=3))
    assert result.status == "too_large"
    assert "MIDIAN_MAX_ARCHIVE_MEMBERS" in result.error["message"]


def test_highly_compressed_member_is_refused_as_a_bomb() -> None:
    data = make_zip({"zeros.bin": b"\x00" * (20 * 1024 * 1024)})
    assert len(data) < 100_000
    result = extract_bytes("bomb.zip", data)
    assert result.status == "too_large"
    assert "decompression bomb" in result.error["message"]


def _lie_about_sizes(data: bytes, claimed: int) -> bytes:
    """Rewrite a one-member ZIP so both headers claim ``claimed`` uncompressed bytes."""
    patched = bytearray(data)
    local = patched.find(b"PK\x03\x04")
    struct.pack_into("<I", patched, local + 22, claimed)
    central = patched.find(b"PK\x01\x02")
    struct.pack_into("<I", patched, central + 24, claimed)
    return bytes(patched)


def test_declared_sizes_are_not_trusted() -> None:
    honest = make_zip({"zeros.bin": b"\x00" * (5 * 1024 * 1024)})
    lying = _lie_about_sizes(honest, 100)  # claims 100 bytes, inflates to 5 MiB
    result = extract_bytes("liar.zip", lying)
    assert result.status in ("corrupt", "too_large")


def test_expanded_bytes_budget_covers_all_members() -> None:
    data = make_zip({f"part{i}.txt": b"a" * 300_000 for i in range(4)})
    result = extract_bytes("parts.zip", data, settings=Settings(max_expanded_bytes=1_000_000))
    assert result.status == "too_large"


def test_nesting_beyond_the_depth_limit_is_a_member_error() -> None:
    data = b"deepest text"
    name = "leaf.txt"
    for level in range(4):
        data = make_zip({name: data})
        name = f"level{level}.zip"
    result = extract_bytes("top.zip", data, settings=Settings(max_archive_depth=2))
    assert result.status == "ok"
    assert [e.status for e in result.member_errors] == ["too_large"]
    assert "MIDIAN_MAX_ARCHIVE_DEPTH" in result.member_errors[0].error["message"]


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_damaged_zip_is_corrupt(keep: float) -> None:
    data = make_zip({"a.txt": SECRET.encode() * 50})
    result = extract_bytes("cut.zip", data[: int(len(data) * keep)])
    assert result.status == "corrupt"


def test_office_packages_are_left_to_the_office_extractors() -> None:
    package = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert not ZipExtractor.sniff(Source("a.docx", package))
    assert ZipExtractor.sniff(Source("a.zip", make_zip({"a.txt": b"x"})))


def test_aes_zip_needs_the_password() -> None:
    pyzipper = pytest.importorskip("pyzipper")
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"s3cret")
        zf.writestr("机密.txt", SECRET.encode())
    data = buf.getvalue()
    locked = extract_bytes("aes.zip", data)
    assert locked.status == "encrypted" and "--password" in locked.error["message"]
    wrong = extract_bytes("aes.zip", data, password="nope")
    assert wrong.status == "encrypted" and "did not open" in wrong.error["message"]
    opened = extract_bytes("aes.zip", data, password="s3cret")
    assert opened.status == "ok" and texts(opened) == [SECRET]


def make_7z(members: dict[str, bytes], password: str | None = None) -> bytes:
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password, header_encryption=password is not None) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return buf.getvalue()


def test_7z_members_are_read() -> None:
    result = extract_bytes("a.7z", make_7z({"报价.txt": SECRET.encode(), "b/readme.txt": b"hello"}))
    assert result.status == "ok" and result.format == "7z"
    assert {(b.location.attachment, b.text) for b in result.blocks if b.kind == "text"} == {
        ("报价.txt", SECRET), ("b/readme.txt", "hello")}


def test_7z_with_password() -> None:
    data = make_7z({"机密.txt": SECRET.encode()}, password="Tika")
    assert extract_bytes("p.7z", data).status == "encrypted"
    assert extract_bytes("p.7z", data, password="wrong").status == "encrypted"
    opened = extract_bytes("p.7z", data, password="Tika")
    assert opened.status == "ok" and texts(opened) == [SECRET]


def test_7z_bomb_is_refused_while_inflating() -> None:
    data = make_7z({"zeros.bin": b"\x00" * (20 * 1024 * 1024)})
    result = extract_bytes("bomb.7z", data)
    assert result.status == "too_large"


def make_tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize(("mode", "name"), [("w", "a.tar"), ("w:gz", "a.tgz"), ("w:bz2", "a.tar.bz2"), ("w:xz", "a.txz")])
def test_tar_archives(mode: str, name: str) -> None:
    result = extract_bytes(name, make_tar({"docs/报价.txt": SECRET.encode(), "docs/b.txt": b"second"}, mode))
    assert result.status == "ok"
    assert [(b.location.attachment, b.text) for b in result.blocks if b.kind == "text"] == [
        ("docs/报价.txt", SECRET), ("docs/b.txt", "second")]


@pytest.mark.parametrize(
    ("compress", "name", "member"),
    [(gzip.compress, "报价.txt.gz", "报价.txt"), (bz2.compress, "报价.txt.bz2", "报价.txt"),
     (lzma.compress, "报价.txt.xz", "报价.txt")],
)
def test_single_compressed_files(compress, name: str, member: str) -> None:  # type: ignore[no-untyped-def]
    result = extract_bytes(name, compress(SECRET.encode()))
    assert result.status == "ok" and result.format == "compressed"
    assert [(b.location.attachment, b.text) for b in result.blocks if b.kind == "text"] == [(member, SECRET)]


def test_gzip_bomb_is_refused() -> None:
    result = extract_bytes("zeros.gz", gzip.compress(b"\x00" * (20 * 1024 * 1024)))
    assert result.status == "too_large"


def test_truncated_gzip_is_corrupt() -> None:
    assert extract_bytes("cut.gz", gzip.compress(SECRET.encode() * 100)[:40]).status == "corrupt"


@pytest.mark.parametrize(("name", "expected"), [("a.tgz", "a.tar"), ("a.txt.gz", "a.txt"), ("a.tar.gz", "a.tar"),
                                                ("x.xz", "x"), ("noext", "noext.out")])
def test_inner_names(name: str, expected: str) -> None:
    assert inner_name(name) == expected


def test_rar_is_reported_unsupported_with_what_is_missing() -> None:
    result = extract_bytes("a.rar", b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64)
    assert result.status == "unsupported" and "unrar" in result.error["message"]


@pytest.mark.parametrize("name", ["__MACOSX/a/._b", "x/.DS_Store", "Thumbs.db", "dir/"])
def test_is_junk(name: str) -> None:
    assert is_junk(name)


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("relative", "status", "password"),
    [
        ("tika/droste.zip", "too_large", None),
        ("tika/testZIP_corrupted_oom.zip", "corrupt", None),
        ("tika/testZipEncrypted.zip", "encrypted", None),
        ("tika/test7Z_protected_passTika.7z", "encrypted", None),
        ("tika/test7Z_protected_passTika.7z", "ok", "Tika"),
        ("tika/test-documents.tgz", "ok", None),
        ("tika/test-documents.rar", "unsupported", None),
    ],
)
def test_real_archives(shared_data, relative: str, status: str, password: str | None) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / relative).read_bytes()
    assert extract_bytes(relative, data, password=password).status == status


@pytest.mark.fixtures
def test_real_gbk_zip(shared_data) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "format_fixtures" / "tika" / "gbk.zip").read_bytes()
    result = extract_bytes("gbk.zip", data)
    assert any("审计压缩" in b.text for b in result.blocks)


def test_zip_claiming_a_newer_format_version_is_unsupported_not_an_error() -> None:
    data = bytearray(make_zip({"a.txt": b"x"}))
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 163  # "needs ZIP 16.3 to extract"
    assert extract_bytes("v.zip", bytes(data)).status == "unsupported"
