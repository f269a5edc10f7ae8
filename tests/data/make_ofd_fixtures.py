"""Build the small OFD fixtures in tests/data/ofd/ (run from the repository root; output is deterministic).

No public OFD file could be committed, so these follow the structure of GB/T 33190-2016 by hand:
``OFD.xml`` -> ``Doc_0/Document.xml`` -> pages, a template page, annotations, attachments and custom
tags, with ``TextObject``/``TextCode`` positions in millimetres and ``DeltaX`` in both the plain and the
``g N d`` notations.

- ``einvoice.ofd``: an e-invoice-like page whose labels sit on a template and whose values sit on
  the page at the same baselines; a seal annotation; custom tags naming the invoice number and
  amount; an XML attachment with the invoice data.
- ``two_pages.ofd``: a two-page memo with multi-line paragraphs and a run continued without X/Y.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "ofd"
NS = "http://www.ofdspec.org/2016"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def text_object(oid: int, x: float, y: float, text: str, size: float = 3.5, delta: str | None = None) -> str:
    width = size * len(text) + 2
    delta = delta if delta is not None else (f"g {len(text) - 1} {size}" if len(text) > 1 else "")
    delta_attr = f' DeltaX="{delta}"' if delta else ""
    return (f'<ofd:TextObject ID="{oid}" Boundary="{x} {y} {width} {size + 2}" Font="3" Size="{size}">'
            f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{size}"{delta_attr}>{text}</ofd:TextCode>'
            "</ofd:TextObject>")


def page(objects: list[str], template: int | None = None) -> str:
    tpl = f'<ofd:Template TemplateID="{template}" ZOrder="Background"/>' if template else ""
    return (f'{HEAD}<ofd:Page xmlns:ofd="{NS}"><ofd:Area><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:Area>'
            f'{tpl}<ofd:Content><ofd:Layer ID="{900 + len(objects)}">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>')


def ofd_xml(title: str, custom: dict[str, str], keywords: list[str]) -> str:
    datas = "".join(f'<ofd:CustomData Name="{k}">{v}</ofd:CustomData>' for k, v in custom.items())
    words = "".join(f"<ofd:Keyword>{k}</ofd:Keyword>" for k in keywords)
    return (f'{HEAD}<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
            f"<ofd:DocID>6f9d2a3c1b7e4f0a8c5d9e2b1a3c4d5e</ofd:DocID><ofd:Title>{title}</ofd:Title>"
            f"<ofd:Author>Midian tests</ofd:Author><ofd:CreationDate>2024-03-01</ofd:CreationDate>"
            f"<ofd:Keywords>{words}</ofd:Keywords><ofd:CustomDatas>{datas}</ofd:CustomDatas></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")


PUBLIC_RES = (f'{HEAD}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
              '<ofd:Font ID="3" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>')


def write(name: str, members: dict[str, str | bytes]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(OUT / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in members.items():
            info = zipfile.ZipInfo(member, date_time=(2024, 3, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)


def einvoice() -> None:
    template = page([
        text_object(11, 80, 8, "电子发票（普通发票）", size=6),
        text_object(12, 10, 30, "购买方名称："),
        text_object(13, 10, 36, "纳税人识别号："),
        text_object(14, 120, 20, "发票号码："),
        text_object(15, 10, 60, "项目名称"),
        text_object(16, 100, 60, "金额"),
        text_object(17, 10, 90, "价税合计（小写）"),
    ])
    content = page([
        text_object(101, 150, 20, "24312000000012345678", delta="g 19 2"),
        text_object(102, 45, 30, "华东精密制造有限公司"),
        text_object(103, 52, 36, "91310000MA1K4XXXX0"),
        text_object(104, 10, 66, "*金属制品*精密轴承"),
        text_object(105, 100, 66, "8650.00", delta="1.8 1.8 1.8 1.8 1.8 1.8"),
        text_object(106, 70, 90, "¥9774.50"),
    ], template=2)
    document = (f'{HEAD}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData><ofd:MaxUnitID>200</ofd:MaxUnitID>'
                "<ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea>"
                "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
                '<ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>'
                '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
                "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
                "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
                "<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags></ofd:Document>")
    annotations = (f'{HEAD}<ofd:Annotations xmlns:ofd="{NS}"><ofd:Page PageID="1">'
                   "<ofd:FileLoc>Page_0/Annotation.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>")
    seal = (f'{HEAD}<ofd:PageAnnot xmlns:ofd="{NS}"><ofd:Annot ID="150" Type="Stamp" Creator="Midian tests">'
            "<ofd:Remark>发票专用章</ofd:Remark><ofd:Appearance Boundary=\"150 100 40 25\">"
            f"{text_object(151, 2, 8, '上海华东精密制造有限公司')}</ofd:Appearance></ofd:Annot></ofd:PageAnnot>")
    attachments = (f'{HEAD}<ofd:Attachments xmlns:ofd="{NS}"><ofd:Attachment ID="160" Name="invoice_data.xml" '
                   'Format="xml" CreationDate="2024-03-01" Size="1"><ofd:FileLoc>invoice_data.xml</ofd:FileLoc>'
                   "</ofd:Attachment></ofd:Attachments>")
    data = (f"{HEAD}<EInvoice><InvoiceNumber>24312000000012345678</InvoiceNumber>"
            "<BuyerName>华东精密制造有限公司</BuyerName><TotalAmount>9774.50</TotalAmount></EInvoice>\n")
    tags_index = (f'{HEAD}<ofd:CustomTags xmlns:ofd="{NS}"><ofd:CustomTag NameSpace="urn:example:einvoice">'
                  "<ofd:FileLoc>CustomTag.xml</ofd:FileLoc></ofd:CustomTag></ofd:CustomTags>")
    tags = (f'{HEAD}<fp:eInvoice xmlns:fp="urn:example:einvoice">'
            '<fp:InvoiceNo><fp:ObjectRef PageRef="1">101</fp:ObjectRef></fp:InvoiceNo>'
            '<fp:BuyerName><fp:ObjectRef PageRef="1">102</fp:ObjectRef></fp:BuyerName>'
            '<fp:TaxInclusiveTotalAmount><fp:ObjectRef PageRef="1">106</fp:ObjectRef></fp:TaxInclusiveTotalAmount>'
            "</fp:eInvoice>")
    write("einvoice.ofd", {
        "OFD.xml": ofd_xml("电子发票（普通发票）", {"发票代码": "031001900111", "发票号码": "24312000000012345678"},
                           ["电子发票", "增值税"]),
        "Doc_0/Document.xml": document,
        "Doc_0/PublicRes.xml": PUBLIC_RES,
        "Doc_0/Tpls/Tpl_0/Content.xml": template,
        "Doc_0/Pages/Page_0/Content.xml": content,
        "Doc_0/Annots/Annotations.xml": annotations,
        "Doc_0/Annots/Page_0/Annotation.xml": seal,
        "Doc_0/Attachs/Attachments.xml": attachments,
        "Doc_0/Attachs/invoice_data.xml": data,
        "Doc_0/Tags/CustomTags.xml": tags_index,
        "Doc_0/Tags/CustomTag.xml": tags,
    })


def two_pages() -> None:
    first = page([
        text_object(11, 20, 20, "内部技术备忘录", size=6),
        text_object(12, 20, 40, "本备忘录记载热处理工艺的关键参数，"),
        text_object(13, 20, 45.5, "保温时间为2.5小时，淬火温度860摄氏度。"),
        text_object(14, 20, 70, "第二段：仅限研发部门内部使用。"),
        # one line written as two TextCodes, the second continuing without X
        '<ofd:TextObject ID="15" Boundary="20 90 150 6" Font="3" Size="3.5"><ofd:TextCode X="0" Y="3.5" '
        'DeltaX="g 4 3.5">联系人：张</ofd:TextCode><ofd:TextCode DeltaX="3.5">工程</ofd:TextCode></ofd:TextObject>',
    ])
    second = page([
        text_object(21, 20, 20, "第二页：附录A 供应商清单"),
        text_object(22, 20, 30, "Supplier list, page two.", delta="g 23 2"),
    ])
    document = (f'{HEAD}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData><ofd:MaxUnitID>100</ofd:MaxUnitID>'
                "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
                "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages>"
                '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                '<ofd:Page ID="2" BaseLoc="/Doc_0/Pages/Page_1/Content.xml"/></ofd:Pages></ofd:Document>')
    write("two_pages.ofd", {
        "OFD.xml": ofd_xml("内部技术备忘录", {}, []),
        "Doc_0/Document.xml": document,
        "Doc_0/PublicRes.xml": PUBLIC_RES,
        "Doc_0/Pages/Page_0/Content.xml": first,
        "Doc_0/Pages/Page_1/Content.xml": second,
    })


if __name__ == "__main__":
    einvoice()
    two_pages()
    print(f"wrote {sorted(p.name for p in OUT.glob('*.ofd'))}")
