"""Writes the small Excel 97–2003 fixtures of tests/test_extraction_xls.py (needs `pip install xlwt`).

Run from the repository root: ``python tests/data/make_xls_fixtures.py``. xlwt is only needed here, to
write real BIFF8 files; Midian reads them with xlrd.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import xlwt

HERE = Path(__file__).resolve().parent / "xls"


def quote_sheet() -> None:
    """A price sheet: header row, formatted numbers and dates, a hidden row and column, a hidden sheet."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("报价")
    # xlwt's header setters only take ASCII on Python 3; its record writer takes any str
    sheet._Worksheet__header_str = "&L内部资料&C华东区报价&R第&P页"
    sheet._Worksheet__footer_str = "&C机密 - 请勿外传"
    money = xlwt.easyxf(num_format_str="#,##0.00")
    percent = xlwt.easyxf(num_format_str="0.00%")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for col, title in enumerate(["客户", "单价", "毛利率", "报价日期", "备注"]):
        sheet.write(0, col, title)
    rows = [
        ("华东精密", 8650, 0.18, datetime.date(2024, 3, 5), "底价，不能再低"),
        ("南方材料", 12345.5, 0.075, datetime.date(2024, 3, 6), ""),
        ("隐藏客户", 7400, 0.02, datetime.date(2024, 3, 7), "成本价"),
    ]
    for r, (customer, price, margin, day, note) in enumerate(rows, 1):
        sheet.write(r, 0, customer)
        sheet.write(r, 1, price, money)
        sheet.write(r, 2, margin, percent)
        sheet.write(r, 3, day, date)
        if note:
            sheet.write(r, 4, note)
    sheet.write(1, 6, "内部成本 7,400")  # column G is hidden
    sheet.col(6).hidden = True
    sheet.row(3).hidden = True
    plain = book.add_sheet("Summary")
    plain.write(0, 0, "Quantity")
    plain.write(0, 1, 12)
    plain.write(1, 0, "Ratio")
    plain.write(1, 1, 2.5)
    secret = book.add_sheet("成本")
    secret.write(0, 0, "真实成本")
    secret.write(0, 1, 7400)
    secret.visibility = 1  # hidden sheet
    book.save(str(HERE / "quote_hidden_rows_cols_sheets.xls"))


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    quote_sheet()
