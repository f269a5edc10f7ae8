"""OFD extraction on generated GB/T 33190 documents: pages, templates, lines, annotations, e-invoice tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.extraction import extract_bytes, extract_path
from scanner.extraction.ofd import _Run, deltas, layout

DATA = Path(__file__).resolve().parent / "data" / "ofd"


@pytest.fixture(scope="module")
def invoice():
    result = extract_path(DATA / "einvoice.ofd")
    assert result.status == "ok" and result.format == "ofd", result.error
    return result.blocks


def test_invoice_labels_from_the_template_join_their_values_on_the_page(invoice) -> None:
    page = [b.text for b in invoice if b.location.part == "page:1" and not b.flags]
    assert "购买方名称：  华东精密制造有限公司\n纳税人识别号：  91310000MA1K4XXXX0" in page
    assert "项目名称  金额\n*金属制品*精密轴承  8650.00" in page
    assert "价税合计（小写）  ¥9774.50" in page
    assert all(b.location.page == 1 for b in invoice if b.location.part == "page:1")


@pytest.mark.parametrize(
    ("text", "part", "flags"),
    [
        ("发票专用章", "page:1", ("comment",)),  # the seal annotation's remark
        ("上海华东精密制造有限公司", "page:1", ("comment",)),  # and its visible text
        ("发票号码: 24312000000012345678", "metadata", ()),  # DocInfo custom data
        ("电子发票 增值税", "metadata", ()),
        ("InvoiceNo: 24312000000012345678", "metadata", ()),  # custom tag resolved to its page object
        ("TaxInclusiveTotalAmount: ¥9774.50", "metadata", ()),
    ],
)
def test_invoice_annotations_and_fields(invoice, text: str, part: str, flags: tuple[str, ...]) -> None:
    block = [b for b in invoice if b.text == text][0]
    assert (block.location.part, block.flags) == (part, flags)


def test_invoice_attachment_is_extracted(invoice) -> None:
    attached = [b for b in invoice if b.location.attachment == "invoice_data.xml"]
    assert attached and "<TotalAmount>9774.50</TotalAmount>" in attached[0].text


def test_two_pages_with_paragraphs_and_continued_runs() -> None:
    result = extract_path(DATA / "two_pages.ofd")
    pages = [(b.location.page, b.text) for b in result.blocks if b.location.part.startswith("page:")]
    assert pages == [
        (1, "内部技术备忘录"),
        (1, "本备忘录记载热处理工艺的关键参数，\n保温时间为2.5小时，淬火温度860摄氏度。"),
        (1, "第二段：仅限研发部门内部使用。"),
        (1, "联系人：张工程"),
        (2, "第二页：附录A 供应商清单"),
        (2, "Supplier list, page two."),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("g 3 2.5", [2.5, 2.5, 2.5]), ("1 2 g 2 3", [1.0, 2.0, 3.0, 3.0]), ("", []), ("g x", []), ("1 bad 2", [1.0, 2.0])],
)
def test_delta_lists(value: str, expected: list[float]) -> None:
    assert deltas(value) == expected


def test_layout_orders_by_baseline_then_x_and_spaces_wide_gaps() -> None:
    runs = [_Run(50, 10.2, 60, 3, "值"), _Run(10, 10, 16, 3, "名称："), _Run(10, 30, 20, 3, "下一段")]
    assert layout(runs) == ["名称：  值", "下一段"]


@pytest.mark.parametrize(
    ("members", "status"),
    [({"OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>"}, "corrupt"),
     ({"OFD.xml": b"<broken"}, "corrupt")],
)
def test_damaged_ofd(members: dict[str, bytes], status: str) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert extract_bytes("bad.ofd", out.getvalue()).status == status
