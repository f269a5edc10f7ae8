"""The records that flow through Midian: blocks out of extraction, findings out of detection.

All are frozen dataclasses; an adjustment returns a new object (``dataclasses.replace``).
Every record keeps the way back to its source: a block knows its part, page, sheet, cell or slide;
a finding knows its block and the character span inside that block's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCAN_SCHEMA = "midian.scan/1"
EXTRACT_SCHEMA = "midian.extract/1"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a block sits in its source document.

    ``part`` names the physical part: ``body``, ``header``, ``footer``, ``footnote``, ``comment``,
    ``metadata``, ``page:3``, ``sheet:报价``, ``slide:4``, ``notes:4``, ...; ``attachment`` is the
    member path inside an archive or e-mail (``a.zip/b.docx`` for nested ones).
    """

    part: str = "body"
    page: int | None = None
    sheet: str | None = None
    cell: str | None = None
    slide: int | None = None
    row: int | None = None
    col: int | None = None
    line: int | None = None  # 1-based first line, for plain-text formats
    attachment: str | None = None

    def to_json(self, block: int | None = None, start: int | None = None, end: int | None = None) -> dict[str, Any]:
        """The ``location`` object of the public contract (``../shared/INTERFACE.md``)."""
        return {
            "part": self.part,
            "page": self.page,
            "sheet": self.sheet,
            "cell": self.cell,
            "slide": self.slide,
            "row": self.row,
            "col": self.col,
            "line": self.line,
            "block": block,
            "start": start,
            "end": end,
            "attachment": self.attachment,
        }


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell inside a ``table_row`` block: its address and its span in the row text."""

    ref: str  # "C7" in a sheet, "R3C2" in a document table
    row: int  # 1-based
    col: int  # 1-based
    start: int
    end: int


# Block kinds: free text, a heading, one table row (cells joined by TAB), file metadata, source code.
BLOCK_KINDS = ("text", "heading", "table_row", "metadata", "code")
# Block flags say how the text was present in the source, so a reviewer is not misled.
BLOCK_FLAGS = ("deleted", "inserted", "hidden", "comment", "ocr", "formula", "alt_text")


@dataclass(frozen=True, slots=True)
class Block:
    """A run of text extracted from one place in a document."""

    text: str
    location: Location = field(default_factory=Location)
    kind: str = "text"
    cells: tuple[Cell, ...] = ()
    header: str | None = None  # for table rows: the table's header row text (context for readers)
    table: int | None = None  # table index within its part, for table rows
    flags: tuple[str, ...] = ()

    def cell_at(self, offset: int) -> Cell | None:
        """The cell whose span contains ``offset`` (table rows only)."""
        for cell in self.cells:
            if cell.start <= offset < cell.end or (offset == cell.end and cell is self.cells[-1]):
                return cell
        return None

    def to_json(self, index: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "kind": self.kind,
            "location": self.location.to_json(index, 0, len(self.text)),
        }
        if self.flags:
            data["flags"] = list(self.flags)
        if self.cells:
            data["cells"] = [{"ref": c.ref, "row": c.row, "col": c.col, "start": c.start, "end": c.end} for c in self.cells]
        if self.header is not None:
            data["header"] = self.header
        return data


@dataclass(frozen=True, slots=True)
class Extraction:
    """The outcome of reading one file: its blocks, or a typed failure."""

    path: str
    sha256: str
    status: str = "ok"
    error: dict[str, str] | None = None
    blocks: tuple[Block, ...] = ()
    warnings: tuple[str, ...] = ()
    format: str | None = None
    size: int = 0
    member_errors: tuple = ()  # tuple[MemberError, ...]: attachments or members that could not be read

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": EXTRACT_SCHEMA,
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "error": self.error,
            "format": self.format,
            "blocks": [block.to_json(i) for i, block in enumerate(self.blocks)],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason behind a finding; negative ``weight`` for evidence that the content is public."""

    kind: str  # classifier | marking | pattern | lexicon | registry | public_context | ...
    detail: str
    weight: float
    start: int | None = None  # block offsets of the text this evidence points at, when it has one
    end: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "detail": self.detail, "weight": round(self.weight, 4)}
        if self.start is not None:
            data["span"] = [self.start, self.end]
        return data


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's claim about a span of one block: category, score in [0, 1], and its evidence.

    ``start``/``end`` are offsets in the block's text and ``text == block.text[start:end]``.
    """

    detector: str
    category: str
    text: str
    block: int
    start: int
    end: int
    location: Location
    score: float
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "score": round(self.score, 4),
            "text": self.text,
            "location": self.location.to_json(self.block, self.start, self.end),
            "evidence": [e.to_json() for e in self.evidence],
            "detector": self.detector,
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One result per input file: the public contract of ``midian scan`` (``midian.scan/1``)."""

    path: str
    sha256: str
    status: str = "ok"
    error: dict[str, str] | None = None
    verdict: str = "public"  # confidential | public | unknown
    score: float = 0.0
    level: str = "none"  # high | medium | low | none
    categories: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    format: str | None = None
    size: int = 0
    model: str | None = None
    policy: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCAN_SCHEMA,
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "error": self.error,
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "level": self.level,
            "categories": list(self.categories),
            "findings": [f.to_json() for f in self.findings],
            "warnings": list(self.warnings),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "format": self.format,
            "size": self.size,
            "model": self.model,
            "policy": self.policy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScanResult:
        """Rebuild a result from its JSON form (state databases, the service's result store)."""
        findings = []
        for f in data.get("findings", []):
            loc = dict(f["location"])
            block, start, end = loc.pop("block", None), loc.pop("start", None), loc.pop("end", None)
            known = {k: loc.get(k) for k in Location.__dataclass_fields__}
            findings.append(Finding(
                detector=f.get("detector", ""),
                category=f["category"],
                text=f["text"],
                block=block if block is not None else -1,
                start=start or 0,
                end=end or 0,
                location=Location(**known),
                score=f["score"],
                evidence=tuple(Evidence(e["kind"], e["detail"], e["weight"], *(e.get("span") or (None, None)))
                               for e in f.get("evidence", [])),
            ))
        return cls(
            path=data["path"], sha256=data["sha256"], status=data["status"], error=data.get("error"),
            verdict=data["verdict"], score=data["score"], level=data["level"],
            categories=tuple(data.get("categories", [])), findings=tuple(findings),
            warnings=tuple(data.get("warnings", [])), elapsed_ms=data.get("elapsed_ms", 0.0),
            format=data.get("format"), size=data.get("size", 0), model=data.get("model"), policy=data.get("policy"),
        )
