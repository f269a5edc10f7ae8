"""Report: scan results in the formats people and tools read — JSON lines, JSON, CSV, SARIF, HTML.

Writers stream: ``start``, one ``write`` per result, ``finish``. The HTML report is one
self-contained file (no scripts or fonts from the network) that a lawyer can open: a summary by
category and by folder, then the riskiest files first, each flagged passage highlighted in its
context with the evidence beside it.
"""

from __future__ import annotations

import csv
import heapq
import html
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from . import __version__
from .data import ScanResult
from .settings import Settings
from .taxonomy import CATEGORIES, CHINESE_NAMES

FORMATS = ("jsonl", "json", "csv", "sarif", "html")
DETAIL_FILES: int = Settings.model_fields["report_detail_files"].default  # the one default, in settings


class Writer:
    """Base writer: subclasses override what they need."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def start(self) -> None:
        return None

    def write(self, result: ScanResult) -> None:
        raise NotImplementedError  # every writer below implements it

    def finish(self) -> None:
        self.out.flush()


class JsonLinesWriter(Writer):
    def write(self, result: ScanResult) -> None:
        self.out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        self.out.flush()


class JsonWriter(Writer):
    """A JSON array of result objects (the same objects as the JSON lines)."""

    def start(self) -> None:
        self._first = True
        self.out.write("[")

    def write(self, result: ScanResult) -> None:
        self.out.write(("\n" if self._first else ",\n") + json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        self._first = False

    def finish(self) -> None:
        self.out.write("\n]\n")
        self.out.flush()


CSV_COLUMNS = (
    "path", "sha256", "status", "verdict", "score", "level", "categories", "finding_category", "finding_score",
    "part", "page", "sheet", "cell", "slide", "attachment", "start", "end", "text", "evidence", "error",
)


class CsvWriter(Writer):
    """One row per finding; a file without findings gets one row with the finding columns empty."""

    def start(self) -> None:
        self._csv = csv.writer(self.out)
        self._csv.writerow(CSV_COLUMNS)

    def write(self, result: ScanResult) -> None:
        self._csv.writerows(self.rows(result))

    @staticmethod
    def rows(result: ScanResult) -> list[list[Any]]:
        base: list[Any] = [result.path, result.sha256, result.status, result.verdict, f"{result.score:.4f}", result.level,
                ";".join(result.categories)]
        error = f"{result.error['type']}: {result.error['message']}" if result.error else ""
        if not result.findings:
            return [base + [""] * 12 + [error]]
        rows = []
        for f in result.findings:
            loc = f.location
            evidence = "; ".join(f"{e.kind}({e.weight:+.2f}): {e.detail}" for e in f.evidence)
            rows.append(base + [f.category, f"{f.score:.4f}", loc.part, loc.page or "", loc.sheet or "", loc.cell or "",
                                loc.slide or "", loc.attachment or "", f.start, f.end, f.text, evidence, error])
        return rows


class StateCsvWriter(CsvWriter):
    """The CSV of ``midian report``: the scan columns plus when each file was scanned and removed."""

    COLUMNS = CSV_COLUMNS + ("scanned_at", "removed_at")

    def start(self) -> None:
        self._csv = csv.writer(self.out)
        self._csv.writerow(self.COLUMNS)

    def write_row(self, result: ScanResult, scanned_at: str | None, removed_at: str | None) -> None:
        self._csv.writerows(row + [scanned_at or "", removed_at or ""] for row in self.rows(result))


class SarifWriter(Writer):
    """SARIF 2.1.0: one rule per category, one result per finding, non-ok files as notifications."""

    def start(self) -> None:
        self._results: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []

    def write(self, result: ScanResult) -> None:
        uri = result.path.replace(os.sep, "/")
        if result.status != "ok":
            self._notifications.append({
                "level": "error",
                "message": {"text": f"{result.status}: {result.error['message'] if result.error else ''}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            })
            return
        for f in result.findings:
            region: dict[str, Any] = {"snippet": {"text": f.text}}
            if f.location.page:
                region["startLine"] = f.location.page
            self._results.append({
                "ruleId": f.category,
                "level": "error" if f.score >= 0.85 else "warning" if f.score >= 0.5 else "note",
                "message": {"text": f"{f.category} ({CHINESE_NAMES.get(f.category, '')}) score {f.score:.2f}: "
                                    + "; ".join(e.detail for e in f.evidence[:3])},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region},
                    "logicalLocations": [{"name": _where(f.location.to_json(f.block, f.start, f.end)), "kind": "member"}],
                }],
                "partialFingerprints": {"sha256": result.sha256},
                "properties": {"score": round(f.score, 4), "location": f.location.to_json(f.block, f.start, f.end),
                               "evidence": [e.to_json() for e in f.evidence], "documentVerdict": result.verdict},
            })

    def finish(self) -> None:
        sarif = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "Midian",
                    "version": __version__,
                    "informationUri": "https://github.com/midian/midian",
                    "rules": [{"id": c, "name": c.replace(".", "_"), "shortDescription": {"text": f"{c} — {CHINESE_NAMES[c]}"}}
                              for c in CATEGORIES],
                }},
                "results": self._results,
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": self._notifications}],
            }],
        }
        json.dump(sarif, self.out, ensure_ascii=False, indent=1)
        self.out.write("\n")
        self.out.flush()


class HtmlWriter(Writer):
    """The self-contained HTML report (summarises results as they come, renders on ``finish``)."""

    def start(self) -> None:
        self._report = HtmlReport()

    def write(self, result: ScanResult) -> None:
        self._report.add(result)

    def finish(self) -> None:
        self.out.write(self._report.render())
        self.out.flush()


WRITERS: dict[str, type[Writer]] = {
    "jsonl": JsonLinesWriter,
    "json": JsonWriter,
    "csv": CsvWriter,
    "sarif": SarifWriter,
    "html": HtmlWriter,
}


def writer_for(fmt: str, out: IO[str]) -> Writer:
    return WRITERS[fmt](out)


def write_results(results: Iterable[ScanResult], fmt: str, out: IO[str]) -> None:
    writer = writer_for(fmt, out)
    writer.start()
    for result in results:
        writer.write(result)
    writer.finish()


# --- HTML ------------------------------------------------------------------------------------

LEVELS = ("high", "medium", "low", "none")
_LEVEL_RANK = {"high": 3, "medium": 2, "low": 1, "none": 0}
_VERDICT_RANK = {"confidential": 2, "unknown": 1, "public": 0}
LIST_LIMIT = 2000  # public, unreadable and removed files listed by name; beyond this, counted only

_CSS = """
:root{--ink:#1d232b;--muted:#5e6b78;--line:#d9dee4;--bg:#f6f7f9;--hi:#fff1a8;--high:#b3261e;--medium:#c25e00;--low:#b08d00;--ok:#2e7d32;--unk:#6b4fa3}
*{box-sizing:border-box}body{margin:0;font:14px/1.55 -apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:var(--ink);background:var(--bg)}
header{background:#17212b;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b9c3cd;font-size:13px}
main{padding:20px 28px;max-width:1240px}section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:18px}
h2{font-size:16px;margin:0 0 12px}h3{font-size:14px;margin:0 0 8px}.totals{display:flex;gap:14px;flex-wrap:wrap}
.total{flex:1;min-width:130px;border:1px solid var(--line);border-radius:6px;padding:10px 14px}.total b{display:block;font-size:24px}.total span{color:var(--muted)}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px}
.bar{display:flex;align-items:center;gap:8px;margin:4px 0}.bar .label{flex:0 0 230px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bar .track{flex:1;display:flex;height:16px;min-width:0}.bar .seg{height:16px}.bar .seg:first-child{border-radius:3px 0 0 3px}.bar .seg:last-child{border-radius:0 3px 3px 0}
.bar .n{flex:0 0 44px;text-align:right;color:var(--muted);font-variant-numeric:tabular-nums}
.seg.high,.key.high{background:var(--high)}.seg.medium,.key.medium{background:var(--medium)}.seg.low,.key.low{background:var(--low)}.seg.none,.key.none{background:#8c96a0}
.legend{font-size:12px;color:var(--muted);margin:0 0 6px}.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}
.verdicts{margin-top:14px}.verdicts svg{width:100%;height:18px;display:block;border-radius:4px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}th{color:var(--muted);font-weight:600}
td.path{word-break:break-all}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;color:#fff}.badge.high{background:var(--high)}.badge.medium{background:var(--medium)}.badge.low{background:var(--low)}.badge.none{background:#7b8794}.badge.removed{background:#44505c}
.confidential{color:var(--high);font-weight:600}.public{color:var(--ok)}.unknown{color:var(--unk);font-weight:600}
.file{border-top:3px solid var(--line)}.file.high{border-top-color:var(--high)}.file.medium{border-top-color:var(--medium)}.file.low{border-top-color:var(--low)}
.finding{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:14px;border-top:1px dashed var(--line);padding:10px 0}
.passage{white-space:pre-wrap;word-break:break-word;background:#fafbfc;border-left:3px solid #3f6fb5;padding:8px 10px}
mark{background:var(--hi);padding:0 1px;border-bottom:2px solid #e0b400}mark.whole{background:#fff8d6;border-bottom:none}
.where{color:var(--muted);font-size:12px;margin-bottom:4px}.ev{font-size:12.5px;margin:4px 0 0;padding-left:16px}
.ev li.neg{color:var(--ok)}.cat{font-weight:600}.warn{color:var(--medium);font-size:12.5px}.note{color:var(--muted);font-size:12.5px}code{font-size:12px}
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _where(loc: dict[str, Any]) -> str:
    parts = [loc.get("attachment") or "", loc.get("part") or ""]
    if loc.get("cell"):
        parts.append(f"cell {loc['cell']}")
    if loc.get("line"):
        parts.append(f"line {loc['line']}")
    return " · ".join(p for p in parts if p)


def _risk(result: ScanResult) -> tuple[int, int, float]:
    """Sort key, larger is riskier: confidential before unreadable before public, then level, then score."""
    return _VERDICT_RANK.get(result.verdict, 1), _LEVEL_RANK.get(result.level, 0), round(result.score, 4)


def _bars(counts: dict[str, Counter[str]], label: Any = lambda k: k, limit: int = 15) -> str:
    """Horizontal bars, one per key, split by level; the ``limit`` largest keys."""
    if not counts:
        return "<p class='note'>nothing flagged</p>"
    totals = {key: sum(levels.values()) for key, levels in counts.items()}
    top = max(totals.values())
    rows = []
    ranked = sorted(totals, key=lambda k: (-totals[k], k))
    for key in ranked[:limit]:
        segs = "".join(
            f"<span class='seg {lvl}' style='width:{100 * counts[key][lvl] / top:.2f}%' title='{counts[key][lvl]} {lvl}'></span>"
            for lvl in LEVELS if counts[key][lvl])
        rows.append(f"<div class='bar'><span class='label' title='{_esc(label(key))}'>{_esc(label(key))}</span>"
                    f"<span class='track'>{segs}</span><span class='n'>{totals[key]}</span></div>")
    if len(ranked) > limit:
        rest = sum(totals[k] for k in ranked[limit:])
        rows.append(f"<p class='note'>{len(ranked) - limit} more, with {rest} file(s) in all</p>")
    return "\n".join(rows)


def _verdict_bar(verdicts: Counter[str]) -> str:
    """One inline SVG bar: the share of confidential, unreadable and public files."""
    total = sum(verdicts.values())
    if not total:
        return ""
    x, rects = 0.0, []
    for verdict, color in (("confidential", "#b3261e"), ("unknown", "#6b4fa3"), ("public", "#2e7d32")):
        n = verdicts.get(verdict, 0)
        if not n:
            continue
        width = 1000 * n / total
        rects.append(f"<rect x='{x:.2f}' y='0' width='{width:.2f}' height='18' fill='{color}'><title>{n} {verdict}</title></rect>")
        x += width
    return ("<div class='verdicts'><svg viewBox='0 0 1000 18' preserveAspectRatio='none' role='img' "
            f"aria-label='verdicts'>{''.join(rects)}</svg></div>")


def _highlight(text: str, marks: list[tuple[int, int]]) -> str:
    if not marks:  # no narrower evidence: the whole passage is what was flagged
        return f"<mark class='whole'>{_esc(text)}</mark>"
    out, pos = [], 0
    for start, end in sorted(marks):
        if start < pos or start >= end:
            continue
        out.append(_esc(text[pos:start]))
        out.append(f"<mark>{_esc(text[start:end])}</mark>")
        pos = end
    out.append(_esc(text[pos:]))
    return "".join(out)


def _evidence_marks(finding: Any) -> list[tuple[int, int]]:
    """Spans inside the finding's text that its evidence points at, to highlight them."""
    marks = []
    for e in finding.evidence:
        if e.start is None or e.end is None or e.weight <= 0:
            continue
        start, end = max(e.start, finding.start) - finding.start, min(e.end, finding.end) - finding.start
        if 0 <= start < end and (start, end) != (0, finding.end - finding.start):
            marks.append((start, end))
    return marks


@dataclass(frozen=True, slots=True)
class _Listed:
    """What the tables need of one file (the full result is kept only for the detailed top N)."""

    risk: tuple[int, int, float]
    path: str
    verdict: str
    level: str
    score: float
    categories: tuple[str, ...]
    status: str
    error: str
    findings: int
    scanned_at: str | None = None
    removed_at: str | None = None

    @classmethod
    def of(cls, r: ScanResult, scanned_at: str | None = None, removed_at: str | None = None) -> _Listed:
        return cls(_risk(r), r.path, r.verdict, r.level, r.score, r.categories, r.status,
                   r.error["message"] if r.error else "", len(r.findings), scanned_at, removed_at)


def _riskiest_first(row: _Listed) -> tuple[Any, ...]:
    return (*(-x for x in row.risk), row.path)


def _common_folder(folders: Iterable[str]) -> str:
    """The deepest folder that holds all of ``folders``, or "" when there is none worth naming."""
    try:
        common = os.path.commonpath(list(folders))
    except ValueError:  # absolute and relative paths mixed, or nothing at all
        return ""
    return "" if common in ("", os.sep, ".") else common


class HtmlReport:
    """The self-contained HTML report, built from results fed one at a time.

    Memory does not grow with the number of public files: totals and charts are counters; tables
    keep one small row per confidential file (all of them) and at most ``list_limit`` public,
    unreadable or removed files; only the ``detail_limit`` riskiest files with findings are kept in
    full, for their passages.

    Args:
        title: the page title.
        detail_limit: files shown passage by passage (``MIDIAN_REPORT_DETAIL_FILES`` via the CLI).
        list_limit: public, unreadable and removed files listed by name.
        meta: ``(label, value)`` lines for the header (state database, last run, model, policy).
    """

    def __init__(self, title: str = "Midian scan report", detail_limit: int = DETAIL_FILES, list_limit: int = LIST_LIMIT,
                 meta: list[tuple[str, str]] | None = None) -> None:
        self.title = title
        self.detail_limit = detail_limit
        self.list_limit = list_limit
        self.meta = meta or []
        self.files = 0
        self.bytes = 0
        self.findings = 0
        self.with_findings = 0
        self.verdicts: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.by_category: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_folder: dict[str, Counter[str]] = defaultdict(Counter)
        self.confidential: list[_Listed] = []
        self.unreadable: list[_Listed] = []
        self.public: list[_Listed] = []
        self.removed: list[_Listed] = []
        self.removed_count = 0
        self._detail: list[tuple[tuple[int, int, float], int, ScanResult]] = []  # min-heap of the riskiest
        self._seq = 0

    def add(self, result: ScanResult, scanned_at: str | None = None, removed_at: str | None = None) -> None:
        """Count one file; ``removed_at`` for files gone since their scan (listed apart, not counted)."""
        if removed_at:
            self.removed_count += 1
            if len(self.removed) < self.list_limit:
                self.removed.append(_Listed.of(result, scanned_at, removed_at))
            return
        self.files += 1
        self.bytes += result.size
        self.verdicts[result.verdict] += 1
        row = _Listed.of(result, scanned_at)
        if result.status != "ok":
            self.statuses[result.status] += 1
            if len(self.unreadable) < self.list_limit:
                self.unreadable.append(row)
        if result.verdict == "confidential":
            for category in set(result.categories):
                self.by_category[category][result.level] += 1
            self.by_folder[os.path.dirname(result.path) or "."][result.level] += 1
            self.confidential.append(row)
        elif result.verdict == "public" and len(self.public) < self.list_limit:
            self.public.append(row)
        if result.findings:
            self.findings += len(result.findings)
            self.with_findings += 1
            self._seq += 1
            entry = (row.risk, -self._seq, result)  # ties: the earlier file wins
            if len(self._detail) < self.detail_limit:
                heapq.heappush(self._detail, entry)
            elif self.detail_limit and entry[:2] > self._detail[0][:2]:
                heapq.heapreplace(self._detail, entry)

    # --- rendering ---------------------------------------------------------------------------
    def render(self) -> str:
        detailed = [r for _, _, r in sorted(self._detail, key=lambda e: e[:2], reverse=True)]
        anchors = {id(r): f"f{i}" for i, r in enumerate(detailed)}
        anchor_by_path = {r.path: anchors[id(r)] for r in detailed}
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        meta = " · ".join(f"{_esc(k)}: {_esc(v)}" for k, v in self.meta)
        parts = [
            "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width,initial-scale=1'>",
            f"<title>{_esc(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<header><h1>{_esc(self.title)} · 秘点扫描报告</h1><p>Midian {__version__} · {now} · {self.files} file(s)"
            f" · {self.bytes / 1e6:.1f} MB</p>" + (f"<p>{meta}</p>" if meta else "") + "</header><main>",
            *self._summary(),
            "<section class='grid' id='charts'><div><h2>Confidential files by category</h2>",
            "<p class='legend'>level<span class='key high'></span>high<span class='key medium'></span>medium"
            "<span class='key low'></span>low</p>",
            _bars(self.by_category, lambda c: f"{c} {CHINESE_NAMES.get(c, '')}"),
            "</div><div><h2>Confidential files by folder</h2>",
            *self._folder_chart(),
            "</div></section>",
            *self._files_table(anchor_by_path),
            *self._unreadable_table(),
            *self._details(detailed, anchors),
            *self._removed_table(),
            "</main></body></html>\n",
        ]
        return "\n".join(parts)

    def _folder_chart(self) -> list[str]:
        """Folders relative to the deepest one they share, which is named once above the bars."""
        common = _common_folder(self.by_folder) if len(self.by_folder) > 1 else ""
        if not common:
            return ["<p class='legend'>&nbsp;</p>", _bars(self.by_folder)]
        relative = {os.path.relpath(folder, common): levels for folder, levels in self.by_folder.items()}
        return [f"<p class='legend' id='folder-root'>under {_esc(common)}</p>", _bars(relative)]

    def _summary(self) -> list[str]:
        v = self.verdicts
        totals = [
            ("total-files", "", self.files, "files scanned"),
            ("total-confidential", "confidential", v.get("confidential", 0), "confidential"),
            ("total-public", "public", v.get("public", 0), "public"),
            ("total-unknown", "unknown", v.get("unknown", 0), "could not be scanned"),
            ("total-findings", "", self.findings, "flagged passages"),
        ]
        if self.removed_count:
            totals.append(("total-removed", "", self.removed_count, "removed since scanned"))
        out = ["<section id='summary'><h2>Summary</h2><div class='totals'>"]
        out += [f"<div class='total' id='{i}'><b class='{c}'>{n}</b><span>{_esc(label)}</span></div>" for i, c, n, label in totals]
        out.append("</div>")
        out.append(_verdict_bar(v))
        if self.statuses:
            out.append("<p class='note'>not scanned: " + ", ".join(
                f"{n} {_esc(s)}" for s, n in sorted(self.statuses.items(), key=lambda kv: -kv[1])) + "</p>")
        out.append("</section>")
        return out

    def _files_table(self, anchor_by_path: dict[str, str]) -> list[str]:
        out = ["<section id='files'><h2>Flagged files, riskiest first</h2>"]
        if not self.confidential:
            out.append("<p class='note'>no file was judged confidential</p>")
        rows = sorted(self.confidential, key=_riskiest_first)
        listed_public = self.verdicts.get("public", 0) <= self.list_limit
        if listed_public:
            rows += sorted(self.public, key=lambda r: (-r.score, r.path))
        common = _common_folder(os.path.dirname(r.path) for r in rows) if len(rows) > 1 else ""
        if common:
            out.append(f"<p class='note' id='file-root'>paths under {_esc(common)}</p>")
        if rows:
            out.append("<table id='file-table'><tr><th>file</th><th>verdict</th><th>level</th><th>score</th>"
                       "<th>passages</th><th>categories</th></tr>")
            for r in rows:
                name = _esc(os.path.relpath(r.path, common) if common else r.path)
                if r.path in anchor_by_path:
                    name = f"<a href='#{anchor_by_path[r.path]}'>{name}</a>"
                out.append(f"<tr><td class='path'>{name}</td><td class='{_esc(r.verdict)}'>{_esc(r.verdict)}</td>"
                           f"<td><span class='badge {_esc(r.level)}'>{_esc(r.level)}</span></td><td class='num'>{r.score:.2f}</td>"
                           f"<td class='num'>{r.findings}</td><td>{_esc(', '.join(r.categories))}</td></tr>")
            out.append("</table>")
        if not listed_public:
            out.append(f"<p class='note'>{self.verdicts.get('public', 0)} public files are counted above but not listed.</p>")
        out.append("</section>")
        return out

    def _unreadable_table(self) -> list[str]:
        if not self.statuses:
            return []
        out = ["<section id='unreadable'><h2>Files that could not be scanned</h2>",
               "<p class='note'>Gateways treat these as blocked: open them by hand or fix the cause and scan again.</p>",
               "<table><tr><th>file</th><th>status</th><th>reason</th></tr>"]
        for r in sorted(self.unreadable, key=lambda r: (r.status, r.path)):
            out.append(f"<tr><td class='path'>{_esc(r.path)}</td><td class='unknown'>{_esc(r.status)}</td><td>{_esc(r.error)}</td></tr>")
        out.append("</table>")
        missing = sum(self.statuses.values()) - len(self.unreadable)
        if missing > 0:
            out.append(f"<p class='note'>{missing} more not listed.</p>")
        out.append("</section>")
        return out

    def _details(self, detailed: list[ScanResult], anchors: dict[int, str]) -> list[str]:
        out: list[str] = []
        if detailed:
            note = (f"the {len(detailed)} riskiest of {self.with_findings} files with flagged passages; the table above lists every confidential file"
                    if self.with_findings > len(detailed) else f"{len(detailed)} file(s) with flagged passages")
            out.append(f"<section id='details-note'><h2>Flagged passages</h2><p class='note'>Passages of {note}. "
                       "Highlighted: the words the evidence points at.</p></section>")
        for r in detailed:
            out.append(f"<section class='file {_esc(r.level)}' id='{anchors[id(r)]}'><h2>{_esc(r.path)} "
                       f"<span class='badge {_esc(r.level)}'>{_esc(r.level)} {r.score:.2f}</span></h2>")
            categories = ", ".join(f"{c} {CHINESE_NAMES.get(c, '')}" for c in r.categories)
            out.append(f"<p class='note'><span class='{_esc(r.verdict)}'>{_esc(r.verdict)}</span> · {_esc(categories)}</p>")
            for w in r.warnings:
                out.append(f"<p class='warn'>{_esc(w)}</p>")
            for f in r.findings:
                loc = f.location.to_json(f.block, f.start, f.end)
                evidence = "".join(
                    f"<li class='{'neg' if e.weight < 0 else ''}'><b>{_esc(e.kind)}</b> {e.weight:+.2f} — {_esc(e.detail)}</li>"
                    for e in f.evidence)
                out.append(
                    f"<div class='finding'><div><div class='where'>{_esc(_where(loc))}</div>"
                    f"<div class='passage'>{_highlight(f.text, _evidence_marks(f))}</div></div>"
                    f"<div><div><span class='cat'>{_esc(f.category)}</span> {_esc(CHINESE_NAMES.get(f.category, ''))} · score {f.score:.2f}</div>"
                    f"<ul class='ev'>{evidence}</ul></div></div>")
            out.append("</section>")
        return out

    def _removed_table(self) -> list[str]:
        if not self.removed_count:
            return []
        out = ["<section id='removed'><h2>Files removed since they were scanned</h2>",
               "<p class='note'>Their last results, kept in the state database; not counted in the totals above.</p>",
               "<table><tr><th>file</th><th>last verdict</th><th>level</th><th>scanned</th><th>gone since</th></tr>"]
        for r in sorted(self.removed, key=_riskiest_first):
            out.append(f"<tr><td class='path'>{_esc(r.path)} <span class='badge removed'>removed</span></td>"
                       f"<td class='{_esc(r.verdict)}'>{_esc(r.verdict)}</td><td><span class='badge {_esc(r.level)}'>{_esc(r.level)}</span></td>"
                       f"<td>{_esc(r.scanned_at or '')}</td><td>{_esc(r.removed_at or '')}</td></tr>")
        out.append("</table>")
        if self.removed_count > len(self.removed):
            out.append(f"<p class='note'>{self.removed_count - len(self.removed)} more not listed.</p>")
        out.append("</section>")
        return out


def render_html(results: Iterable[ScanResult], title: str = "Midian scan report", **options: Any) -> str:
    """The self-contained HTML report for ``results`` (see :class:`HtmlReport` for ``options``)."""
    report = HtmlReport(title, **options)
    for result in results:
        report.add(result)
    return report.render()
