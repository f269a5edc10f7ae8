"""Write the small PDF and image fixtures of tests/data/pdf/ and tests/data/image/.

Run from the repository root: ``python tests/data/make_pdf_fixtures.py``. Needs reportlab (the ``test``
extra) and, for the pictures of Chinese text, a font with Chinese glyphs: WenQuanYi Micro Hei
(Debian: ``apt-get install fonts-wqy-microhei``) or any CJK TrueType font given as the first argument.
The outputs are committed, so the tests never need either.

Every text is written for the project; nothing is copied from elsewhere.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

HERE = Path(__file__).resolve().parent
PDF_DIR = HERE / "pdf"
IMAGE_DIR = HERE / "image"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

# STSong-Light is one of the Adobe CID fonts every PDF reader knows: it is referenced, not embedded.
pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
ZH = ParagraphStyle("zh", fontName="STSong-Light", fontSize=11, leading=16, wordWrap="CJK", spaceAfter=10,
                    alignment=TA_JUSTIFY)
EN = ParagraphStyle("en", fontName="Helvetica", fontSize=11, leading=15, spaceAfter=10)
TITLE = ParagraphStyle("title", fontName="STSong-Light", fontSize=16, leading=22, spaceAfter=12)

ZH_PARAGRAPHS = [
    "本工艺文件规定了镀膜线的关键参数：保温时间为2.5小时，炉温控制在八百二十度上下，"
    "升温曲线按附表执行。上述参数属于公司技术秘密，未经批准不得向供应商或任何第三方披露。",
    "报价方面，华东精密的单价最低放到8,650元，再低就不做了，咱们成本在7,400左右。"
    "请销售部门严格按照本价格体系执行，任何折扣须经区域经理书面批准后方可生效。",
]
EN_PARAGRAPH = ("The coating line runs at a holding time of two and a half hours. This process window was "
                "developed in house over three years and must not be shared with suppliers or partners.")


def build(path: Path, story: list, **info: str) -> None:
    doc = SimpleDocTemplate(str(path), pagesize=A4, invariant=1, **info)
    doc.build(story)


def cid_chinese(path: Path) -> None:
    """Two pages of Chinese and English paragraphs in a non-embedded CID font, with document info."""
    story = [Paragraph("镀膜工艺与报价说明", TITLE)]
    story += [Paragraph(text, ZH) for text in ZH_PARAGRAPHS]
    story += [Paragraph(EN_PARAGRAPH, EN), PageBreak(), Paragraph("第二页：内部资料，严禁外传。", ZH)]
    build(path, story, title="镀膜工艺说明", author="张工", subject="工艺参数与报价", keywords="内部,报价")


def ruled_table(path: Path) -> None:
    """A paragraph, a ruled price table with Chinese cells, and a closing paragraph."""
    rows = [["料号", "单价（元）", "客户"], ["A-100", "8,650", "华东精密"], ["B-200", "9,100", "南方材料"]]
    table = Table(rows, colWidths=[40 * mm, 40 * mm, 50 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    story = [Paragraph("以下为二季度报价表，仅限内部使用。", ZH), table, Paragraph("报价有效期至六月底。", ZH)]
    build(path, story, title="报价表", author="销售部", subject="二季度报价")


def new_canvas(path: Path, **kwargs: object) -> canvas.Canvas:
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, **kwargs)
    c.setAuthor("")
    c.setTitle("")
    c.setSubject("")
    return c


def encrypted(path: Path, user: str, owner: str) -> None:
    c = new_canvas(path, encrypt=StandardEncryption(user, owner, canCopy=0, canModify=0, strength=128))
    c.setFont("STSong-Light", 14)
    c.drawString(72, 760, "加密文件：底价8,650元。")
    c.setFont("Helvetica", 12)
    c.drawString(72, 730, "Encrypted test document.")
    c.save()


def annotated(path: Path) -> None:
    """Page text plus a sticky-note comment that is not drawn on the page."""
    c = new_canvas(path)
    c.setFont("Helvetica", 12)
    c.drawString(72, 760, "Quarterly figures, draft.")
    c.textAnnotation("Do not send this price to the distributor.", Rect=(72, 700, 92, 720), addtopage=1)
    c.save()


def render_text_image(lines: list[str], font_path: str, size: int = 40) -> Image.Image:
    """Black text on white, the way a scanner would see a printed page."""
    font = ImageFont.truetype(font_path, size)
    height = (size + 24) * len(lines) + 40
    width = max(int(font.getlength(line)) for line in lines) + 80
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * (size + 24)), line, font=font, fill=0)
    return image


def scanned(path: Path, picture: Image.Image) -> None:
    """A PDF page holding only a picture of text: no text layer at all."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    buffer.seek(0)
    c = new_canvas(path)
    width = A4[0] - 144
    c.drawImage(ImageReader(buffer), 72, A4[1] - 72 - width * picture.height / picture.width, width=width,
                height=width * picture.height / picture.width)
    c.save()


def with_attachment(path: Path, source: Path) -> None:
    """``source`` with a text file embedded in its EmbeddedFiles name tree."""
    pdf = pdfium.PdfDocument(str(source))
    attachment = pdf.new_attachment("客户名单.txt")
    attachment.set_data("华东精密 联系人 王经理 底价 8,650 元\n".encode())
    pdf.save(str(path))
    pdf.close()


def bomb_png(path: Path) -> None:
    """A PNG whose header claims 30,000 x 30,000 pixels but which holds almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def main() -> None:
    font = sys.argv[1] if len(sys.argv) > 1 else CJK_FONT
    if not Path(font).is_file():
        sys.exit(f"no font with Chinese glyphs at {font}: apt-get install fonts-wqy-microhei, or pass a .ttf/.ttc path")
    PDF_DIR.mkdir(exist_ok=True)
    IMAGE_DIR.mkdir(exist_ok=True)
    cid_chinese(PDF_DIR / "cid_chinese.pdf")
    ruled_table(PDF_DIR / "ruled_table.pdf")
    encrypted(PDF_DIR / "encrypted_user_password.pdf", user="secret", owner="owner-secret")
    encrypted(PDF_DIR / "encrypted_owner_only.pdf", user="", owner="owner-secret")
    annotated(PDF_DIR / "comment_annotation.pdf")
    with_attachment(PDF_DIR / "embedded_file.pdf", PDF_DIR / "ruled_table.pdf")
    data = (PDF_DIR / "cid_chinese.pdf").read_bytes()
    (PDF_DIR / "truncated.pdf").write_bytes(data[:400])
    (PDF_DIR / "garbage_after_header.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)

    picture = render_text_image(["内部资料 严禁外传", "底价 8650 元"], font)
    picture.save(IMAGE_DIR / "scan_zh.png", optimize=True)
    picture.convert("RGB").save(IMAGE_DIR / "scan_zh.jpg", quality=85)
    scanned(PDF_DIR / "scanned_page.pdf", picture)
    pages = [render_text_image([text], font) for text in ("第一页 报价单", "第二页 客户名单")]
    pages[0].save(IMAGE_DIR / "two_pages.tif", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    bomb_png(IMAGE_DIR / "bomb_header.png")
    (IMAGE_DIR / "truncated.png").write_bytes((IMAGE_DIR / "scan_zh.png").read_bytes()[:200])


if __name__ == "__main__":
    main()
