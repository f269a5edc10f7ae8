"""Images: sniffing, OCR of Chinese text (one small picture, one two-page TIFF), limits, damage, no OCR extra."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.data import Extraction
from scanner.errors import STATUSES
from scanner.extraction import Source, extract_bytes, extract_path
from scanner.extraction import ocr as ocr_module
from scanner.extraction.image import ImageExtractor, is_image
from scanner.settings import Settings

DATA = Path(__file__).resolve().parent / "data" / "image"
needs_ocr = pytest.mark.skipif(not ocr_module.installed(), reason="the ocr extra (rapidocr-onnxruntime) is not installed")


def extract(name: str, **settings: object) -> Extraction:
    return extract_bytes(name, (DATA / name).read_bytes(), settings=Settings(**settings))


def squeezed(result: Extraction) -> str:
    return "".join(b.text for b in result.blocks).replace(" ", "")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ((DATA / "scan_zh.png").read_bytes(), True),
        ((DATA / "scan_zh.jpg").read_bytes(), True),
        ((DATA / "two_pages.tif").read_bytes(), True),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", True),
        (b"GIF89a\x01\x00\x01\x00", True),
        (b"BM" + bytes(12) + (40).to_bytes(4, "little") + bytes(8), True),
        (b"BMW meeting notes: prices stay as agreed.", False),  # text that starts with BM
        (b"%PDF-1.7\n", False),
        (b"", False),
    ],
)
def test_sniffing(data: bytes, expected: bool) -> None:
    assert is_image(data) is expected
    assert ImageExtractor.sniff(Source("x.bin", data)) is expected


@needs_ocr
@pytest.mark.parametrize("name", ["scan_zh.png", "scan_zh.jpg"])
def test_chinese_text_in_an_image_is_read_by_ocr(name: str) -> None:
    result = extract(name)
    assert result.status == "ok" and result.format == "image"
    assert "内部资料严禁外传" in squeezed(result) and "8650" in squeezed(result)
    assert all(b.flags == ("ocr",) and b.location.part == "body" for b in result.blocks)


@needs_ocr
def test_every_page_of_a_tiff_is_read() -> None:
    result = extract("two_pages.tif")
    assert result.status == "ok"
    pages = {b.location.page: b.text.replace(" ", "") for b in result.blocks}
    assert pages == {1: "第一页报价单", 2: "第二页客户名单"}
    assert {b.location.part for b in result.blocks} == {"page:1", "page:2"}


@needs_ocr
def test_ocr_frame_limit_is_reported() -> None:
    result = extract("two_pages.tif", ocr_max_pages=1)
    assert [b.location.page for b in result.blocks] == [1]
    assert "MIDIAN_OCR_MAX_PAGES" in result.warnings[0]


@pytest.mark.parametrize(
    ("name", "settings", "status", "needle"),
    [
        ("bomb_header.png", {}, "too_large", "decompression bomb"),  # 30,000 x 30,000 claimed in 69 bytes
        ("scan_zh.png", {"max_image_pixels": 1000}, "too_large", "MIDIAN_MAX_IMAGE_PIXELS"),
        ("two_pages.tif", {"max_pages": 1}, "too_large", "MIDIAN_MAX_PAGES"),
        ("truncated.png", {}, "corrupt", "truncated"),
    ],
)
def test_limits_and_damage(name: str, settings: dict[str, object], status: str, needle: str) -> None:
    if not ocr_module.installed():
        pytest.skip("without the ocr extra every image is unsupported before it is opened")
    result = extract(name, **settings)
    assert result.status == status
    assert result.error is not None and needle in result.error["message"]


def test_without_the_ocr_extra_images_are_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr_module, "installed", lambda: False)
    result = extract("scan_zh.png")
    assert result.status == "unsupported"
    assert result.error is not None and "pip install 'midian[ocr]'" in result.error["message"]


def test_with_ocr_switched_off_images_are_unsupported() -> None:
    result = extract("scan_zh.png", ocr=False)
    assert result.status == "unsupported"
    assert result.error is not None and "MIDIAN_OCR=true" in result.error["message"]


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


@pytest.mark.fixtures
def test_every_fixture_image_ends_with_a_typed_status(shared_data: Path) -> None:
    # OCR off keeps this fast: it checks that every picture is recognised as an image, not read.
    paths = [p for p in sorted((shared_data / "format_fixtures").rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
    assert len(paths) >= 20
    for path in paths:
        result = extract_path(path, settings=Settings(ocr=False))
        assert result.status in STATUSES and result.status != "error", path
        assert result.format == "image" and result.status == "unsupported", path


@pytest.mark.fixtures
@needs_ocr
def test_fixture_exif_orientation_is_applied(shared_data: Path) -> None:
    result = extract_path(shared_data / "format_fixtures/rapidocr/img_exif_orientation.jpg")
    assert squeezed(result) == "我是中国人"
