"""``midian report STATE_DB``: reports from a scan's state database, without scanning again.

``html`` (the default) is the self-contained report for people (:class:`scanner.report.HtmlReport`);
``csv`` and ``jsonl`` are the scan formats plus ``scanned_at`` and ``removed_at`` per file. Files
removed since their scan are included and flagged (HTML: a section of their own, not in the totals).
"""

from __future__ import annotations

import argparse
import json
import os

from ..report import HtmlReport, StateCsvWriter
from ..settings import get_settings
from ..state import StateDB
from ._common import open_output

NAME = "report"
HELP = "write a report (html, csv, jsonl) from a scan's state database without scanning"

REPORT_FORMATS = ("html", "csv", "jsonl")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("state", metavar="STATE_DB", help="state database written by midian scan --state")
    parser.add_argument("--format", choices=REPORT_FORMATS, default=None,
                        help="html (default, or from the --output suffix), csv, jsonl")
    parser.add_argument("--output", "-o", default=None, metavar="FILE", help="write the report here instead of standard output")
    parser.add_argument("--title", default="Midian scan report", help="title of the HTML report")


def report_format(explicit: str | None, output: str | None) -> str:
    if explicit:
        return explicit
    suffix = os.path.splitext(output or "")[1].lower().lstrip(".")
    return {"htm": "html", "html": "html", "csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl"}.get(suffix, "html")


def _meta(state: StateDB) -> list[tuple[str, str]]:
    summary = state.summary()
    meta = [("state", str(state.path)), ("files recorded", str(summary["files"]))]
    last = summary["last_run"]
    if last:
        when = last["finished_at"] or f"{last['started_at']} ({last['status']})"
        meta += [("last run", f"#{last['id']} {when}"), ("model", last["model"]), ("policy", last["policy"])]
    return meta


def run(args: argparse.Namespace) -> int:
    fmt = report_format(args.format, args.output)
    with StateDB(args.state, writer=False) as state, open_output(args.output) as out:
        if fmt == "html":
            report = HtmlReport(args.title, detail_limit=get_settings().report_detail_files, meta=_meta(state))
            for row in state.rows():
                report.add(row.result, row.scanned_at, row.removed_at)
            out.write(report.render())
        elif fmt == "csv":
            writer = StateCsvWriter(out)
            writer.start()
            for row in state.rows():
                writer.write_row(row.result, row.scanned_at, row.removed_at)
            writer.finish()
        else:
            for row in state.rows():
                obj = row.result.to_json()
                obj.update(scanned_at=row.scanned_at, removed_at=row.removed_at)
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return 0
