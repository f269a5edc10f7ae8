"""Report: scan results in the formats people and tools read — JSON lines, JSON, CSV, SARIF, HTML.

Writers stream: ``start``, one ``write`` per result, ``finish``. The HTML report is one
self-contained file (no scripts or fonts from the network) that a lawyer can open: a summary by
category and by folder, then the riskiest files first, each flagged passage highlighted in its
context with the evidence beside it.
"""

from __future__ import annotations

import csv
import html
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from . import __version__
from .data import ScanResult
from .taxonomy import CATEGORIES, CHINESE_NAMES

FORMATS = ("jsonl", "json", "csv", "sarif", "html")


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
        base = [result.path, result.sha256, result.status, result.verdict, f"{result.score:.4f}", result.level,
                ";".join(result.categories)]
        error = f"{result.error['type']}: {result.error['message']}" if result.error else ""
        if not result.findings:
            self._csv.writerow(base + [""] * 12 + [error])
        for f in result.findings:
            loc = f.location
            evidence = "; ".join(f"{e.kind}({e.weight:+.2f}): {e.detail}" for e in f.evidence)
            self._csv.writerow(base + [f.category, f"{f.score:.4f}", loc.part, loc.page or "", loc.sheet or "", loc.cell or "",
                                       loc.slide or "", loc.attachment or "", f.start, f.end, f.text, evidence, error])


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
    """The self-contained HTML report (collects results, renders on ``finish``)."""

    def start(self) -> None:
        self._results: list[ScanResult] = []

    def write(self, result: ScanResult) -> None:
        self._results.append(result)

    def finish(self) -> None:
        self.out.write(render_html(self._results))
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

_CSS = """
:root{--ink:#1d232b;--muted:#5e6b78;--line:#d9dee4;--bg:#f6f7f9;--hi:#fff1a8;--high:#b3261e;--medium:#c25e00;--low:#8a6d00;--ok:#2e7d32}
*{box-sizing:border-box}body{margin:0;font:14px/1.55 -apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:var(--ink);background:var(--bg)}
header{background:#17212b;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b9c3cd}
main{padding:20px 28px;max-width:1200px}section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:18px}
h2{font-size:16px;margin:0 0 12px}.totals{display:flex;gap:14px;flex-wrap:wrap}.total{flex:1;min-width:130px;border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.total b{display:block;font-size:24px}.total span{color:var(--muted)}.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.bar{display:flex;align-items:center;gap:8px;margin:3px 0}.bar .label{width:230px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bar .fill{height:14px;background:#3f6fb5;border-radius:3px}.bar .n{color:var(--muted)}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}th{color:var(--muted);font-weight:600}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;color:#fff}.high{background:var(--high)}.medium{background:var(--medium)}.low{background:var(--low)}.none{background:#7b8794}
.confidential{color:var(--high);font-weight:600}.public{color:var(--ok)}.unknown{color:var(--medium);font-weight:600}
.file{border-top:3px solid var(--line)}.file.high{border-top-color:var(--high)}.file.medium{border-top-color:var(--medium)}
.finding{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:14px;border-top:1px dashed var(--line);padding:10px 0}
.passage{white-space:pre-wrap;word-break:break-word;background:#fafbfc;border-left:3px solid #3f6fb5;padding:8px 10px}
mark{background:var(--hi);padding:0 1px}.where{color:var(--muted);font-size:12px;margin-bottom:4px}.ev{font-size:12.5px;margin:0;padding-left:16px}
.ev li.neg{color:var(--ok)}.cat{font-weight:600}.warn{color:var(--medium);font-size:12.5px}code{font-size:12px}
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


def _bars(counts: dict[str, int], label=lambda k: k) -> str:  # type: ignore[no-untyped-def]
    if not counts:
        return "<p class='warn'>nothing flagged</p>"
    top = max(counts.values())
    rows = []
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]:
        rows.append(f"<div class='bar'><span class='label' title='{_esc(label(key))}'>{_esc(label(key))}</span>"
                    f"<span class='fill' style='width:{max(4, int(260 * n / top))}px'></span><span class='n'>{n}</span></div>")
    return "\n".join(rows)


def _highlight(text: str, marks: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in sorted(marks):
        if start < pos or start >= end:
            continue
        out.append(_esc(text[pos:start]))
        out.append(f"<mark>{_esc(text[start:end])}</mark>")
        pos = end
    out.append(_esc(text[pos:]))
    return "".join(out)


def render_html(results: list[ScanResult], title: str = "Midian scan report") -> str:
    """The self-contained HTML report for ``results``."""
    verdicts = Counter(r.verdict for r in results)
    by_category: Counter[str] = Counter()
    by_folder: dict[str, int] = defaultdict(int)
    for r in results:
        if r.verdict == "confidential":
            for c in set(r.categories):
                by_category[c] += 1
            by_folder[os.path.dirname(r.path) or "."] += 1
    level_rank = {"high": 0, "medium": 1, "low": 2, "none": 3}
    ordered = sorted(results, key=lambda r: (r.verdict != "confidential", r.verdict != "unknown", level_rank.get(r.level, 4), -r.score, r.path))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_esc(title)} · 秘点扫描报告</h1><p>Midian {__version__} · {now} · {len(results)} file(s)</p></header><main>",
        "<section id='summary'><h2>Summary</h2><div class='totals'>",
        f"<div class='total' id='total-files'><b>{len(results)}</b><span>files scanned</span></div>",
        f"<div class='total' id='total-confidential'><b class='confidential'>{verdicts.get('confidential', 0)}</b><span>confidential</span></div>",
        f"<div class='total' id='total-public'><b class='public'>{verdicts.get('public', 0)}</b><span>public</span></div>",
        f"<div class='total' id='total-unknown'><b class='unknown'>{verdicts.get('unknown', 0)}</b><span>could not be scanned</span></div>",
        "</div></section>",
        "<section class='grid'><div><h2>Confidential files by category</h2>",
        _bars(dict(by_category), lambda c: f"{c} {CHINESE_NAMES.get(c, '')}"),
        "</div><div><h2>Confidential files by folder</h2>",
        _bars(dict(by_folder)),
        "</div></section>",
    ]
    unreadable = [r for r in ordered if r.status != "ok"]
    if unreadable:
        parts.append("<section id='unreadable'><h2>Files that could not be scanned</h2><table><tr><th>file</th><th>status</th><th>reason</th></tr>")
        for r in unreadable:
            parts.append(f"<tr><td>{_esc(r.path)}</td><td class='unknown'>{_esc(r.status)}</td>"
                         f"<td>{_esc(r.error['message'] if r.error else '')}</td></tr>")
        parts.append("</table></section>")
    parts.append("<section id='files'><h2>Files, riskiest first</h2><table><tr><th>file</th><th>verdict</th><th>level</th><th>score</th><th>categories</th></tr>")
    for i, r in enumerate(ordered):
        anchor = f"#f{i}" if r.findings else ""
        name = f"<a href='{anchor}'>{_esc(r.path)}</a>" if anchor else _esc(r.path)
        parts.append(f"<tr><td>{name}</td><td class='{_esc(r.verdict)}'>{_esc(r.verdict)}</td>"
                     f"<td><span class='badge {_esc(r.level)}'>{_esc(r.level)}</span></td><td>{r.score:.2f}</td>"
                     f"<td>{_esc(', '.join(r.categories))}</td></tr>")
    parts.append("</table></section>")
    for i, r in enumerate(ordered):
        if not r.findings:
            continue
        parts.append(f"<section class='file {_esc(r.level)}' id='f{i}'><h2>{_esc(r.path)} "
                     f"<span class='badge {_esc(r.level)}'>{_esc(r.level)} {r.score:.2f}</span></h2>")
        for w in r.warnings:
            parts.append(f"<p class='warn'>{_esc(w)}</p>")
        for f in r.findings:
            loc = f.location.to_json(f.block, f.start, f.end)
            marks = _evidence_marks(f)
            evidence = "".join(
                f"<li class='{'neg' if e.weight < 0 else ''}'><b>{_esc(e.kind)}</b> {e.weight:+.2f} — {_esc(e.detail)}</li>" for e in f.evidence)
            parts.append(
                f"<div class='finding'><div><div class='where'>{_esc(_where(loc))}</div>"
                f"<div class='passage'>{_highlight(f.text, marks)}</div></div>"
                f"<div><div><span class='cat'>{_esc(f.category)}</span> {_esc(CHINESE_NAMES.get(f.category, ''))} · score {f.score:.2f}</div>"
                f"<ul class='ev'>{evidence}</ul></div></div>")
        parts.append("</section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


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
