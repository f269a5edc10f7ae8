"""Turning table rows into blocks: one ``table_row`` block per row, cells joined by TAB.

Every format with tables (sheets, CSV, Word/ODF/HTML tables, slides) goes through :func:`row_block`, so
a table row looks the same to the detectors whatever file it came from, and each cell keeps its
address and its span inside the row text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from ..data import Block, Cell, Location

CELL_SEPARATOR = "\t"


@lru_cache(maxsize=4096)
def column_letters(col: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    if col < 1:
        raise ValueError(f"column numbers start at 1, got {col}")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """Spreadsheet address of a 1-based (row, col): (7, 3) -> "C7"."""
    return f"{column_letters(col)}{row}"


def rc(row: int, col: int) -> str:
    """Address of a cell in a document table: (3, 2) -> "R3C2"."""
    return f"R{row}C{col}"


def clean_cell(text: str) -> str:
    """Cell text on one line: separators inside a cell become spaces so spans stay unambiguous."""
    return " ".join(text.replace(CELL_SEPARATOR, " ").split()) if ("\t" in text or "\n" in text or "\r" in text) else text.strip()


def row_block(
    values: Sequence[tuple[int, str]],
    *,
    row: int,
    location: Location,
    header: str | None = None,
    table: int | None = None,
    spreadsheet: bool = True,
    flags: tuple[str, ...] = (),
) -> Block | None:
    """One block for a table row from ``(col, text)`` pairs (1-based columns); ``None`` when empty.

    Empty cells are left out of the text but the remaining cells keep their true column numbers.
    """
    parts: list[str] = []
    cells: list[Cell] = []
    pos = 0
    for col, raw in values:
        text = clean_cell(raw)
        if not text:
            continue
        if parts:
            pos += len(CELL_SEPARATOR)
        ref = a1(row, col) if spreadsheet else rc(row, col)
        cells.append(Cell(ref=ref, row=row, col=col, start=pos, end=pos + len(text)))
        parts.append(text)
        pos += len(text)
    if not cells:
        return None
    first = cells[0]
    return Block(
        text=CELL_SEPARATOR.join(parts),
        location=replace(location, cell=first.ref, row=row, col=first.col),
        kind="table_row",
        cells=tuple(cells),
        header=header,
        table=table,
        flags=flags,
    )


def next_header(header: str | None, block: Block) -> str | None:
    """The table header after ``block``: the first row with at least two cells.

    A title or legend line above a table ("客户资料 禁止外发", "Q3 price list") is one cell wide; the
    column headings come in the first row that spans several columns.
    """
    if header is None and len(block.cells) >= 2:
        return block.text
    return header


def table_blocks(
    rows: Sequence[Sequence[str]],
    *,
    location: Location,
    table: int | None = None,
    spreadsheet: bool = False,
    first_row: int = 1,
    header_row: bool = True,
) -> list[Block]:
    """Blocks for a whole table given as rows of cell texts; the first non-empty row is the header."""
    blocks: list[Block] = []
    header: str | None = None
    for i, cells in enumerate(rows):
        block = row_block(
            [(j + 1, text) for j, text in enumerate(cells)],
            row=first_row + i,
            location=location,
            header=header,
            table=table,
            spreadsheet=spreadsheet,
        )
        if block is None:
            continue
        if header_row:
            header = next_header(header, block)
        blocks.append(block)
    return blocks
