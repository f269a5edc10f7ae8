"""Build the small Office fixtures in tests/data/{docx,xlsx,pptx,odf,rtf,html}/ (deterministic output).

Each file is written from its XML by hand, so every feature the extractors handle is present exactly
once and nothing else is: tracked changes, hidden text, comments, text boxes with a VML fallback,
nested tables, hidden sheets, rows and columns, threaded comments, speaker notes, hidden slides,
master footers, repeated ODS rows, GBK and Big5 RTF, a GBK HTML page. Run from the repository root:
``python tests/data/make_office_fixtures.py``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
W_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        f'xmlns:r="{REL}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml"')
CORE = (f'{HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title><cp:keywords>{keywords}</cp:keywords>'
        "<dc:creator>Midian tests</dc:creator></cp:coreProperties>")
CUSTOM = (f'{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
          'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
          '<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="{name}"><vt:lpwstr>{value}</vt:lpwstr>'
          "</property></Properties>")


def zip_bytes(members: dict[str, str | bytes], stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == stored_first else zipfile.ZIP_DEFLATED
            zf.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()


def save(folder: str, name: str, data: bytes | str) -> None:
    path = DATA / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def rels(items: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"/>' for i, t, target in items)
    return f'{HEAD}<Relationships xmlns="{PKG_REL}">{body}</Relationships>'


def content_types(overrides: dict[str, str], defaults: dict[str, str] | None = None) -> str:
    defaults = {"rels": "application/vnd.openxmlformats-package.relationships+xml", "xml": "application/xml",
                **(defaults or {})}
    body = "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in defaults.items())
    body += "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items())
    return f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">{body}</Types>'


ROOT_RELS = (f'{HEAD}<Relationships xmlns="{PKG_REL}">'
             f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="{{main}}"/>'
             '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
             'core-properties" Target="docProps/core.xml"/>'
             f'<Relationship Id="rId3" Type="{REL}/custom-properties" Target="docProps/custom.xml"/></Relationships>')


# --- DOCX ---------------------------------------------------------------------------------------------
def w_p(inner: str, style: str | None = None) -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}{inner}</w:p>"


def w_r(text: str, props: str = "") -> str:
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{text}</w:t></w:r>'


def w_tc(inner: str, span: int = 1) -> str:
    tcpr = f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span > 1 else ""
    return f"<w:tc>{tcpr}{inner}</w:tc>"


TEXT_BOX = ('<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><wp:docPr id="1" name="文本框 1"/>'
            '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
            "<wps:wsp><wps:txbx><w:txbxContent>" + w_p(w_r("文本框：样品仅供内部测试")) + "</w:txbxContent></wps:txbx>"
            "</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict>"
            '<v:shape><v:textbox><w:txbxContent>' + w_p(w_r("文本框：样品仅供内部测试")) + "</w:txbxContent>"
            "</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>")


def docx(embedded: bytes) -> bytes:
    nested = '<w:tbl><w:tr>' + w_tc(w_p(w_r("内层A"))) + w_tc(w_p(w_r("内层B"))) + "</w:tr></w:tbl>"
    table = ("<w:tbl><w:tblPr/><w:tblGrid/>"
             "<w:tr>" + w_tc(w_p(w_r("料号"))) + w_tc(w_p(w_r("单价"))) + w_tc(w_p(w_r("备注"))) + "</w:tr>"
             "<w:tr>" + w_tc(w_p(w_r("A-100"))) + w_tc(w_p(w_r("8650")) + nested) + w_tc(w_p(w_r("底价"))) + "</w:tr>"
             "<w:tr>" + w_tc(w_p(w_r("合计")), span=2) + w_tc(w_p(w_r("见附件"))) + "</w:tr></w:tbl>")
    body = "".join([
        w_p(w_r("报价策略"), style="1"),
        w_p(w_r("单价最低") + "<w:r><w:tab/></w:r>" + w_r("8,650元") + "<w:r><w:br/></w:r>" + w_r("第二行")
            + '<w:r><w:noBreakHyphen/></w:r>' + w_r("续") + '<w:r><w:sym w:font="Wingdings" w:char="F0FC"/></w:r>'
            + '<w:r><w:sym w:font="Symbol" w:char="2122"/></w:r>'),
        w_p(w_r("价格为") + '<w:del w:id="1" w:author="李"><w:r><w:delText>8,650</w:delText></w:r></w:del>'
            + '<w:ins w:id="2" w:author="李">' + w_r("9,100") + "</w:ins>" + w_r("元")),
        w_p(w_r("公开说明。") + w_r("内部备注：成本7,400", "<w:vanish/>") + w_r("隐藏关闭", '<w:vanish w:val="0"/>')),
        w_p(w_r("见文本框") + TEXT_BOX),
        w_p('<w:hyperlink r:id="rId9">' + w_r("链接文字") + "</w:hyperlink>"
            + '<w:fldSimple w:instr=" PAGE "><w:r><w:t>7</w:t></w:r></w:fldSimple>'
            + '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DATE </w:instrText></w:r>'
            + '<w:r><w:fldChar w:fldCharType="separate"/></w:r>' + w_r("2024年3月1日")
            + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'),
        "<w:sdt><w:sdtPr><w:alias w:val=\"客户\"/></w:sdtPr><w:sdtContent>" + w_p(w_r("内容控件：华东精密"))
        + "</w:sdtContent></w:sdt>",
        w_p(w_r("脚注在此") + '<w:r><w:footnoteReference w:id="1"/></w:r>'
            + w_r("尾注在此") + '<w:r><w:endnoteReference w:id="1"/></w:r>'
            + '<w:commentRangeStart w:id="0"/>' + w_r("被批注的文字") + '<w:commentRangeEnd w:id="0"/>'
            + '<w:r><w:commentReference w:id="0"/></w:r>'),
        table,
        '<w:sectPr><w:headerReference w:type="default" r:id="rId3"/><w:footerReference w:type="default" r:id="rId4"/>'
        "</w:sectPr>",
    ])
    styles = (f'{HEAD}<w:styles {W_NS}><w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/>'
              '</w:style><w:style w:type="paragraph" w:styleId="a3"><w:name w:val="Normal"/></w:style></w:styles>')
    story = f'{HEAD}<w:{{tag}} {W_NS}>{{body}}</w:{{tag}}>'
    separator = '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    members = {
        "[Content_Types].xml": content_types({
            "/word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"},
            {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        "_rels/.rels": ROOT_RELS.format(main="word/document.xml"),
        "docProps/core.xml": CORE.format(title="年度报价策略", keywords="报价 内部"),
        "docProps/custom.xml": CUSTOM.format(name="密级", value="机密"),
        "word/_rels/document.xml.rels": rels([
            ("rId1", "styles", "styles.xml"), ("rId3", "header", "header1.xml"), ("rId4", "footer", "footer1.xml"),
            ("rId5", "footnotes", "footnotes.xml"), ("rId6", "endnotes", "endnotes.xml"),
            ("rId7", "comments", "comments.xml"), ("rId8", "package", "embeddings/Microsoft_Excel_Worksheet.xlsx"),
        ]).replace("</Relationships>", f'<Relationship Id="rId9" Type="{REL}/hyperlink" Target="https://example.com" '
                   'TargetMode="External"/></Relationships>'),
        "word/document.xml": f"{HEAD}<w:document {W_NS}><w:body>{body}</w:body></w:document>",
        "word/styles.xml": styles,
        "word/header1.xml": story.format(tag="hdr", body=w_p(w_r("机密 内部资料 严禁外传"))),
        "word/footer1.xml": story.format(tag="ftr", body=w_p(w_r("第 ") + w_r("1") + w_r(" 页"))),
        "word/footnotes.xml": story.format(tag="footnotes", body=separator + '<w:footnote w:id="1">'
                                          + w_p(w_r("脚注：数据来自内部测试。")) + "</w:footnote>"),
        "word/endnotes.xml": story.format(tag="endnotes", body='<w:endnote w:id="1">' + w_p(w_r("尾注：见合同第5条。"))
                                          + "</w:endnote>"),
        "word/comments.xml": story.format(tag="comments", body='<w:comment w:id="0" w:author="王">'
                                          + w_p(w_r("请勿外传此价格")) + w_p(w_r("第二段批注")) + "</w:comment>"),
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": embedded,
    }
    return zip_bytes(members)


# --- XLSX ---------------------------------------------------------------------------------------------
X_NS = f'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{REL}"'


def xlsx() -> bytes:
    shared = [
        "<si><t>客户</t></si>", "<si><t>单价</t></si>", "<si><t>日期</t></si>", "<si><t>备注</t></si>",
        "<si><r><t>华东</t></r><r><rPr><b/></rPr><t>精密</t></r></si>",
        '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>',
        "<si><t>隐藏列的内容</t></si>", "<si><t>成本价7400</t></si>", "<si><t>隐藏行</t></si>",
    ]
    sheet1 = (f'{HEAD}<worksheet {X_NS}><cols><col min="5" max="5" width="0" hidden="1"/></cols><sheetData>'
              '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
              '<c r="D1" t="s"><v>3</v></c></row>'
              '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2"><v>8650</v></c><c r="C2" s="1"><v>45352</v></c>'
              '<c r="D2" t="inlineStr"><is><t>内联字符串</t></is></c><c r="E2" t="s"><v>6</v></c></row>'
              '<row r="3"><c r="A3" t="s"><v>5</v></c><c r="B3"><v>0.30000000000000004</v></c><c r="C3" t="b"><v>1</v></c>'
              '<c r="D3" t="e"><v>#DIV/0!</v></c></row>'
              '<row r="4" hidden="1"><c r="A4" t="s"><v>8</v></c></row>'
              '<row r="6"><c r="B6"><f>B2*1.05</f><v>9082.5</v></c><c r="C6" t="str"><f>A2&amp;"公司"</f><v>华东精密公司</v></c>'
              "</row></sheetData>"
              "<headerFooter><oddHeader>&amp;L&amp;\"宋体,加粗\"机密&amp;C&amp;P / &amp;N</oddHeader>"
              "<oddFooter>&amp;R仅供内部使用</oddFooter></headerFooter>"
              '<drawing r:id="rId2"/><legacyDrawing r:id="rId3"/></worksheet>')
    sheet2 = (f'{HEAD}<worksheet {X_NS}><sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData></worksheet>')
    comments = (f'{HEAD}<comments {X_NS}><authors><author>王</author></authors><commentList>'
                '<comment ref="B2" authorId="0"><text><r><t>王:</t></r><r><t>底价，勿外传</t></r></text></comment>'
                '<comment ref="A3" authorId="0"><text><t>[Threaded comment]\n复制的线程批注</t></text></comment>'
                "</commentList></comments>")
    threaded = ('<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
                '<threadedComment ref="A3" id="{1}" personId="{2}"><text>线程批注：确认供应商</text></threadedComment>'
                "</ThreadedComments>")
    drawing = ('<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
               'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnchor><xdr:sp>'
               '<xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/></xdr:nvSpPr><xdr:txBody><a:p><a:r><a:t>文本框：'
               "价格有效期30天</a:t></a:r></a:p></xdr:txBody></xdr:sp></xdr:twoCellAnchor></xdr:wsDr>")
    styles = (f'{HEAD}<styleSheet {X_NS.split(" xmlns:r")[0]}><numFmts count="1"><numFmt numFmtId="164" '
              'formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
              '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>')
    workbook = (f'{HEAD}<workbook {X_NS}><workbookPr/><sheets><sheet name="报价" sheetId="1" r:id="rId1"/>'
                '<sheet name="成本" sheetId="2" state="hidden" r:id="rId2"/></sheets></workbook>')
    members = {
        "[Content_Types].xml": content_types({
            "/xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"}),
        "_rels/.rels": ROOT_RELS.format(main="xl/workbook.xml"),
        "docProps/core.xml": CORE.format(title="报价单", keywords="价格"),
        "docProps/custom.xml": CUSTOM.format(name="部门", value="销售部"),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": rels([("rId1", "worksheet", "worksheets/sheet1.xml"),
                                            ("rId2", "worksheet", "worksheets/sheet2.xml"),
                                            ("rId3", "sharedStrings", "sharedStrings.xml"), ("rId4", "styles", "styles.xml")]),
        "xl/sharedStrings.xml": f'{HEAD}<sst {X_NS.split(" xmlns:r")[0]}>{"".join(shared)}</sst>',
        "xl/styles.xml": styles,
        "xl/worksheets/sheet1.xml": sheet1,
        "xl/worksheets/sheet2.xml": sheet2,
        "xl/worksheets/_rels/sheet1.xml.rels": rels([("rId1", "comments", "../comments1.xml"),
                                                     ("rId2", "drawing", "../drawings/drawing1.xml")]).replace(
            "</Relationships>", '<Relationship Id="rId4" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
            'threadedComment" Target="../threadedComments/threadedComment1.xml"/></Relationships>'),
        "xl/comments1.xml": comments,
        "xl/threadedComments/threadedComment1.xml": threaded,
        "xl/drawings/drawing1.xml": drawing,
    }
    return zip_bytes(members)


def big_xlsx(rows: int) -> bytes:
    """A one-sheet workbook of ``rows`` rows with inline strings and numbers (for streaming tests)."""
    body = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>行{i}</t></is></c><c r="B{i}"><v>{i * 3}</v></c></row>'
                   for i in range(1, rows + 1))
    return zip_bytes({
        "[Content_Types].xml": content_types({}),
        "_rels/.rels": ROOT_RELS.format(main="xl/workbook.xml"),
        "xl/workbook.xml": f'{HEAD}<workbook {X_NS}><sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": rels([("rId1", "worksheet", "worksheets/sheet1.xml")]),
        "xl/worksheets/sheet1.xml": f"{HEAD}<worksheet {X_NS}><sheetData>{body}</sheetData></worksheet>",
    })


# --- PPTX ---------------------------------------------------------------------------------------------
P_NS = ('xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        f'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{REL}"')


def p_sp(text: str, ph: str | None = None, descr: str = "") -> str:
    ph_xml = f'<p:nvPr><p:ph type="{ph}"/></p:nvPr>' if ph else "<p:nvPr/>"
    paragraphs = "".join(f"<a:p><a:r><a:t>{line}</a:t></a:r></a:p>" for line in text.split("|"))
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="1" name="s" descr="{descr}"/><p:cNvSpPr/>{ph_xml}</p:nvSpPr>'
            f"<p:txBody><a:bodyPr/>{paragraphs}</p:txBody></p:sp>")


def slide(shapes: str, show: bool = True, tag: str = "sld") -> str:
    attr = "" if show else ' show="0"'
    return f"{HEAD}<p:{tag} {P_NS}{attr}><p:cSld><p:spTree>{shapes}</p:spTree></p:cSld></p:{tag}>"


def pptx() -> bytes:
    table = ('<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="5" name="表格"/></p:nvGraphicFramePr><a:graphic>'
             '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/table"><a:tbl>'
             "<a:tr><a:tc><a:txBody><a:p><a:r><a:t>型号</a:t></a:r></a:p></a:txBody></a:tc>"
             "<a:tc><a:txBody><a:p><a:r><a:t>良率</a:t></a:r></a:p></a:txBody></a:tc></a:tr>"
             "<a:tr><a:tc><a:txBody><a:p><a:r><a:t>X-9</a:t></a:r></a:p></a:txBody></a:tc>"
             "<a:tc><a:txBody><a:p><a:r><a:t>97.5%</a:t></a:r></a:p></a:txBody></a:tc></a:tr>"
             "</a:tbl></a:graphicData></a:graphic></p:graphicFrame>")
    group = f"<p:grpSp><p:nvGrpSpPr/><p:grpSpPr/>{p_sp('组内文字一')}<p:grpSp><p:nvGrpSpPr/>{p_sp('组内文字二')}</p:grpSp></p:grpSp>"
    slide1 = slide(p_sp("新工艺路线", "title") + p_sp("热处理温度860度|保温2.5小时") + group + table
                   + '<p:pic><p:nvPicPr><p:cNvPr id="9" name="图片" descr="产线照片"/></p:nvPicPr></p:pic>')
    slide2 = slide(p_sp("隐藏页标题", "title") + p_sp("隐藏页：客户名单"), show=False)
    notes = slide(p_sp("", "sldImg") + p_sp("演讲备注：不要提成本") + p_sp("1", "sldNum"), tag="notes")
    comments = ('<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
                '<p:cm authorId="0" idx="1"><p:text>批注：数据待核实</p:text></p:cm></p:cmLst>')
    master = slide(p_sp("单击此处编辑母版标题样式", "title") + p_sp("公司机密 严禁外传", "ftr") + p_sp("母版文本框：内部"),
                   tag="sldMaster")
    layout = slide(p_sp("单击此处编辑母版标题样式", "title") + p_sp("公司机密 严禁外传", "ftr"), tag="sldLayout")
    presentation = (f'{HEAD}<p:presentation {P_NS}><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/>'
                    '</p:sldMasterIdLst><p:sldIdLst><p:sldId id="257" r:id="rId3"/><p:sldId id="256" r:id="rId2"/>'
                    "</p:sldIdLst></p:presentation>")
    members = {
        "[Content_Types].xml": content_types({
            "/ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"}),
        "_rels/.rels": ROOT_RELS.format(main="ppt/presentation.xml"),
        "docProps/core.xml": CORE.format(title="工艺评审", keywords="工艺"),
        "docProps/custom.xml": CUSTOM.format(name="密级", value="秘密"),
        "ppt/presentation.xml": presentation,
        # slide order comes from sldIdLst (rId3 first), not from file names
        "ppt/_rels/presentation.xml.rels": rels([("rId1", "slideMaster", "slideMasters/slideMaster1.xml"),
                                                 ("rId2", "slide", "slides/slide1.xml"), ("rId3", "slide", "slides/slide2.xml")]),
        "ppt/slides/slide1.xml": slide2,
        "ppt/slides/slide2.xml": slide1,
        "ppt/slides/_rels/slide2.xml.rels": rels([("rId1", "notesSlide", "../notesSlides/notesSlide1.xml"),
                                                  ("rId2", "comments", "../comments/comment1.xml")]),
        "ppt/notesSlides/notesSlide1.xml": notes,
        "ppt/comments/comment1.xml": f"{HEAD}{comments}",
        "ppt/slideMasters/slideMaster1.xml": master,
        "ppt/slideMasters/_rels/slideMaster1.xml.rels": rels([("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml")]),
        "ppt/slideLayouts/slideLayout1.xml": layout,
    }
    return zip_bytes(members)


# --- ODF ----------------------------------------------------------------------------------------------
ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'office:version="1.2"')


def odf(mimetype: str, body: str, styles_body: str = "", automatic: str = "") -> bytes:
    content = (f'{HEAD}<office:document-content {ODF_NS}><office:automatic-styles>{automatic}</office:automatic-styles>'
               f"<office:body>{body}</office:body></office:document-content>")
    styles = f"{HEAD}<office:document-styles {ODF_NS}><office:master-styles>{styles_body}</office:master-styles></office:document-styles>"
    meta = (f"{HEAD}<office:document-meta {ODF_NS}><office:meta><dc:title>ODF 标题</dc:title><meta:keyword>内部</meta:keyword>"
            '<meta:user-defined meta:name="密级">机密</meta:user-defined></office:meta></office:document-meta>')
    manifest = ('<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/></manifest:manifest>')
    return zip_bytes({"mimetype": mimetype, "content.xml": content, "styles.xml": styles, "meta.xml": meta,
                      "META-INF/manifest.xml": manifest}, stored_first="mimetype")


def odt() -> bytes:
    body = ('<office:text><text:tracked-changes><text:changed-region text:id="c1"><text:deletion><office:change-info/>'
            "<text:p>删除的旧价格8650元</text:p></text:deletion></text:changed-region>"
            '<text:changed-region text:id="c2"><text:insertion><office:change-info/></text:insertion></text:changed-region>'
            "</text:tracked-changes>"
            '<text:h text:outline-level="1">技术方案</text:h>'
            '<text:p>温度<text:s text:c="2"/>860度<text:tab/>保温<text:line-break/>2.5小时'
            '<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body>'
            "<text:p>脚注：实验数据</text:p></text:note-body></text:note>"
            "<office:annotation><dc:creator>王</dc:creator><text:p>批注：核实温度</text:p></office:annotation></text:p>"
            '<text:p><text:change-start text:change-id="c2"/>新增的句子<text:change-end text:change-id="c2"/></text:p>'
            "<text:list><text:list-item><text:p>列表项一</text:p></text:list-item></text:list>"
            '<table:table table:name="表1"><table:table-column table:number-columns-repeated="2"/>'
            "<table:table-row><table:table-cell><text:p>参数</text:p></table:table-cell>"
            "<table:table-cell><text:p>数值</text:p></table:table-cell></table:table-row>"
            "<table:table-row><table:table-cell><text:p>压力</text:p></table:table-cell>"
            "<table:table-cell><text:p>3MPa</text:p></table:table-cell></table:table-row></table:table>"
            '<text:p><draw:frame><draw:text-box><text:p>文本框内容</text:p></draw:text-box></draw:frame></text:p>'
            "</office:text>")
    styles = ('<style:master-page style:name="Standard"><style:header><text:p>页眉：内部资料</text:p></style:header>'
              "<style:footer><text:p>页脚：第1页</text:p></style:footer></style:master-page>")
    return odf("application/vnd.oasis.opendocument.text", body, styles)


def ods() -> bytes:
    automatic = ('<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/>'
                 "</style:style>")
    body = ('<office:spreadsheet><table:table table:name="报价">'
            '<table:table-column table:number-columns-repeated="2"/>'
            '<table:table-column table:visibility="collapse"/><table:table-column table:number-columns-repeated="16381"/>'
            "<table:table-row><table:table-cell><text:p>客户</text:p></table:table-cell>"
            '<table:table-cell><text:p>单价</text:p></table:table-cell><table:table-cell><text:p>隐藏列</text:p>'
            '</table:table-cell><table:table-cell table:number-columns-repeated="16381"/></table:table-row>'
            '<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
            'table:number-columns-repeated="16384"/></table:table-row>'
            '<table:table-row><table:table-cell><text:p>华东精密</text:p></table:table-cell>'
            '<table:table-cell office:value-type="float" office:value="8650"><text:p>8,650</text:p>'
            "<office:annotation><text:p>底价</text:p></office:annotation></table:table-cell>"
            '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
            '<table:table-row table:number-rows-repeated="2"><table:table-cell><text:p>重复行</text:p>'
            "</table:table-cell></table:table-row>"
            '<table:table-row table:visibility="collapse"><table:table-cell><text:p>隐藏行</text:p></table:table-cell>'
            "</table:table-row></table:table>"
            '<table:table table:name="成本" table:style-name="ta2"><table:table-row><table:table-cell>'
            "<text:p>成本7400</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>")
    styles = ('<style:master-page style:name="Default"><style:header><style:region-center><text:p>机密报价</text:p>'
              "</style:region-center></style:header></style:master-page>")
    return odf("application/vnd.oasis.opendocument.spreadsheet", body, styles, automatic)


def odp() -> bytes:
    automatic = ('<style:style style:name="dp9" style:family="drawing-page"><style:drawing-page-properties '
                 'presentation:visibility="hidden"/></style:style>')
    body = ('<office:presentation><presentation:footer-decl presentation:name="ftr1">公司机密</presentation:footer-decl>'
            '<draw:page draw:name="p1"><draw:frame presentation:class="title"><draw:text-box><text:p>路线图</text:p>'
            "</draw:text-box></draw:frame><draw:frame><draw:text-box><text:p>第一阶段：试产</text:p></draw:text-box>"
            '</draw:frame><presentation:notes><draw:frame presentation:class="notes"><draw:text-box>'
            "<text:p>备注：延期风险</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>"
            '<draw:page draw:name="p2" draw:style-name="dp9"><draw:custom-shape><text:p>隐藏幻灯片</text:p>'
            "</draw:custom-shape></draw:page></office:presentation>")
    return odf("application/vnd.oasis.opendocument.presentation", body, automatic=automatic)


def fodt() -> str:
    return (f'{HEAD}<office:document {ODF_NS} office:mimetype="application/vnd.oasis.opendocument.text">'
            "<office:meta><dc:title>平面文档</dc:title></office:meta>"
            "<office:body><office:text><text:p>平面 ODF 正文</text:p></office:text></office:body></office:document>")


# --- RTF and HTML -------------------------------------------------------------------------------------
def rtf_hex(text: str, encoding: str) -> str:
    return "".join(f"\\'{b:02x}" if b > 0x7F else chr(b) for b in text.encode(encoding))


def rtf_chinese() -> str:
    gbk = rtf_hex("报价单：单价8650元", "gbk")
    big5 = rtf_hex("繁體報價", "big5")
    # a GBK character whose trail byte is printable ASCII, written literally as WordPad does ("\\'b0@")
    trail = "\\'81@"
    return ("{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 \\'cb\\'ce\\'cc\\'e5;}"
            "{\\f1\\fnil\\fcharset136 PMingLiU;}{\\f2\\fswiss\\fcharset0 Arial;}}"
            "{\\colortbl;\\red0\\green0\\blue0;}{\\*\\generator Midian tests;}"
            "{\\info{\\title " + rtf_hex("内部报价", "gbk") + "}{\\author Midian}{\\keywords "
            + rtf_hex("价格", "gbk") + "}}"
            "{\\header\\pard " + rtf_hex("页眉：机密", "gbk") + "\\par}"
            "\\pard\\f0 " + gbk + "\\par "
            "\\f1 " + big5 + "\\f0\\par "
            "\\f2 Unicode: \\uc1\\u20215?\\u26684?\\uc2\\u-26436\\'3f\\'3f end\\par "
            "\\f0 " + trail + "\\par "
            + rtf_hex("公开部分", "gbk") + "{\\v " + rtf_hex("隐藏成本7400", "gbk") + "}\\par "
            + rtf_hex("脚注后", "gbk") + "{\\super\\chftn}{\\footnote\\pard\\super\\chftn " + rtf_hex("脚注内容", "gbk") + "}\\par "
            "{\\pict\\pngblip 89504e470d0a1a0a}"
            "{\\field{\\*\\fldinst HYPERLINK \"https://example.com\"}{\\fldrslt " + rtf_hex("链接", "gbk") + "}}\\par "
            "\\trowd\\cellx2000\\cellx4000\\pard\\intbl " + rtf_hex("料号", "gbk") + "\\cell "
            + rtf_hex("单价", "gbk") + "\\cell\\row "
            "\\trowd\\cellx2000\\cellx4000\\pard\\intbl A-1\\cell 8650\\cell\\row "
            "\\pard " + rtf_hex("表后段落", "gbk") + "\\par }")


HTML_GBK = ("<!DOCTYPE html>\n<!-- 注释 --><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
            "<title>内部报价</title><meta name=\"description\" content=\"年度报价说明\"><style>p{color:red}</style>"
            "<script>var secret='不应出现';</script></head><body><h1>报价说明</h1><p>单价&nbsp;8650元，<b>最低</b>价。<br>第二行</p>"
            "<div>块一<div>块二</div></div><noscript>无脚本</noscript>"
            "<table><tr><th>料号</th><th colspan=\"2\">价格</th><th>备注</th></tr><tr><td>A-1</td><td>8650</td><td>9100</td>"
            "<td><table><tr><td>嵌套</td></tr></table>外层</td></tr></table>"
            "<pre>  code line 1\n  code line 2</pre><ul><li>列表一</li><li>列表二</li></ul></body></html>")


def main() -> None:
    workbook = xlsx()
    save("docx", "features.docx", docx(embedded=workbook))
    save("xlsx", "features.xlsx", workbook)
    save("pptx", "features.pptx", pptx())
    save("odf", "features.odt", odt())
    save("odf", "features.ods", ods())
    save("odf", "features.odp", odp())
    save("odf", "flat.fodt", fodt())
    save("rtf", "chinese_gbk_big5.rtf", rtf_chinese())
    save("html", "gbk_meta.html", HTML_GBK.encode("gbk"))


if __name__ == "__main__":
    main()
