"""The HTML report: right totals, riskiest first, highlighted passages, self-contained, bounded; checked in Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import lxml.html
import pytest

from scanner.data import Evidence, Finding, Location, ScanResult
from scanner.report import HtmlReport, render_html

CHROMIUM = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def confidential(path: str, score: float, level: str = "high", text: str = "单价最低放到8,650元，再低就不做了。") -> ScanResult:
    finding = Finding("classifier", "business.pricing", text, 4, 0, len(text), Location(part="sheet:报价", sheet="报价", cell="C7"),
                      score, (Evidence("classifier", "business.pricing p=0.88", 0.88),
                              Evidence("pattern", "price with floor wording: 最低…元", 0.30, 2, 11),
                              Evidence("public_context", "looks like a published price list", -0.2)))
    return ScanResult(path=path, sha256="0" * 64, verdict="confidential", score=score, level=level,
                      categories=("business.pricing",), findings=(finding,), size=2048)


def public(path: str) -> ScanResult:
    return ScanResult(path=path, sha256="1" * 64, verdict="public", score=0.05, size=1000)


def unreadable(path: str, status: str = "encrypted") -> ScanResult:
    return ScanResult(path=path, sha256="", status=status, verdict="unknown",
                      error={"type": "EncryptedDocumentError", "message": "password protected; pass --password"})


def sample() -> list[ScanResult]:
    return [public("share/pub/a.txt"), confidential("share/sales/报价单.xlsx", 0.93),
            confidential("share/hr/salaries.xlsx", 0.71, "medium"), unreadable("share/x.docx"), public("share/pub/b.txt")]


def totals(doc: lxml.html.HtmlElement) -> dict[str, int]:
    return {el.get("id"): int(el.find("b").text_content()) for el in doc.find_class("total")}


def test_totals_order_and_highlighting() -> None:
    page = render_html(sample())
    doc = lxml.html.fromstring(page)
    assert totals(doc) == {"total-files": 5, "total-confidential": 2, "total-public": 2, "total-unknown": 1, "total-findings": 2}
    table = [row.find("td").text_content() for row in doc.get_element_by_id("file-table").findall("tr")[1:]]
    assert table[:2] == ["sales/报价单.xlsx", "hr/salaries.xlsx"]  # riskiest first, under the folder they share
    assert doc.get_element_by_id("file-root").text_content() == "paths under share"
    marks = [m.text_content() for m in doc.iter("mark")]
    assert "最低放到8,650" in marks  # the evidence span, highlighted inside its passage
    assert "sheet:报价 · cell C7" in page and "public_context" in page
    assert doc.get_element_by_id("unreadable") is not None


def test_self_contained_and_escaped() -> None:
    page = render_html([confidential("share/<script>alert(1)</script>.txt", 0.9, text="<img src=x onerror=alert(1)>最低8元")])
    assert "<script>alert" not in page and "<img src=x" not in page
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page), "nothing may load from the network"
    assert "<script" not in page and "<link" not in page and "@import" not in page


def test_large_scans_cap_details_and_public_listing_but_list_every_confidential_file() -> None:
    report = HtmlReport(detail_limit=3, list_limit=10)
    for i in range(40):
        report.add(public(f"share/p/{i:03d}.txt"))
    for i in range(12):
        report.add(confidential(f"share/c/{i:03d}.xlsx", 0.5 + i / 100, "medium"))
    report.add(confidential("share/c/removed.xlsx", 0.99), scanned_at="2024-01-01T00:00:00Z", removed_at="2024-02-01T00:00:00Z")
    doc = lxml.html.fromstring(report.render())
    assert totals(doc) == {"total-files": 52, "total-confidential": 12, "total-public": 40, "total-unknown": 0,
                           "total-findings": 12, "total-removed": 1}
    details = [s.get("id") for s in doc.find_class("file")]
    assert len(details) == 3
    assert doc.get_element_by_id("f0").find("h2").text.strip() == "share/c/011.xlsx"  # the riskiest kept in full
    assert "the 3 riskiest of 12 files" in doc.get_element_by_id("details-note").text_content()
    rows = doc.get_element_by_id("file-table").findall("tr")[1:]
    assert len(rows) == 12  # every confidential file, no public one beyond the cap
    assert "40 public files are counted above but not listed" in doc.get_element_by_id("files").text_content()
    assert "removed.xlsx" in doc.get_element_by_id("removed").text_content()


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={cwd / 'profile'}", "--window-size=1280,2000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_renders_in_headless_chromium_with_the_right_counts(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(sample()), encoding="utf-8")
    dom = chromium("--dump-dom", page.as_uri(), cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    doc = lxml.html.fromstring(dom.stdout)
    assert totals(doc)["total-confidential"] == 2 and totals(doc)["total-files"] == 5
    shot = tmp_path / "report.png"
    result = chromium(f"--screenshot={shot}", page.as_uri(), cwd=tmp_path)
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 2000)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(shot) as image:
        header = image.convert("RGB").getpixel((5, 5))
    assert max(header) < 60, f"the dark header should be painted, got {header}"  # the stylesheet applied
