"""``midian extract PATH... [--format jsonl|text]``: the text Midian reads, block by block."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from ..data import Extraction
from ..errors import error_info, status_of
from ..extraction import extract_path
from ..inputs import InputFile, check_inputs, iter_inputs
from ..sandbox import WorkerPool
from ..settings import Settings, get_settings
from ._common import add_workers, default_format, open_output

NAME = "extract"
HELP = "print the text blocks Midian extracts from files (JSON lines or plain text)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for standard input")
    parser.add_argument("--format", choices=("jsonl", "text"), default=None,
                        help="jsonl (default when output is not a terminal) or text")
    parser.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--password", default=None, metavar="SECRET", help="password for encrypted documents")
    add_workers(parser)


def _job(args: tuple[str, str | None, Settings]) -> Extraction:
    path, password, settings = args
    return extract_path(path, settings=settings, password=password)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.workers is not None:
        settings = settings.model_copy(update={"workers": args.workers})
    check_inputs(args.paths)
    fmt = default_format(args.format, tty_default="text")
    inputs = list(iter_inputs(args.paths))
    results = _extract_all(inputs, args.password, settings)
    failed = 0
    with open_output(args.output) as out:
        for item, result in zip(inputs, results, strict=True):
            result = replace(result, path=item.display)
            failed += result.status != "ok"
            if fmt == "jsonl":
                out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            else:
                _write_text(out, result)
            out.flush()
    if failed:
        print(f"midian: {failed} of {len(inputs)} file(s) could not be read", file=sys.stderr)
    return 3 if failed else 0


def _extract_all(inputs: list[InputFile], password: str | None, settings: Settings):  # type: ignore[no-untyped-def]
    stdin = [i for i in inputs if i.path == "-"]
    if stdin:  # standard input cannot be handed to another process; read it here
        data = sys.stdin.buffer.read()
    def fail(item: tuple[str, str | None, Settings], exc: BaseException) -> Extraction:
        return Extraction(path=item[0], sha256="", status=status_of(exc), error=error_info(exc))
    jobs = [(i.path, password, settings) for i in inputs if i.path != "-"]
    with WorkerPool(_job, workers=min(settings.worker_count(), max(1, len(jobs))), timeout=settings.file_timeout_s,
                    memory_mb=settings.worker_memory_mb, max_tasks=settings.worker_max_tasks) as pool:
        done = iter(pool.map(jobs, fail))
        for item in inputs:
            if item.path == "-":
                from ..extraction import extract_bytes
                yield extract_bytes("-", data, settings=settings, password=password)
            else:
                yield next(done)


def _write_text(out, result: Extraction) -> None:  # type: ignore[no-untyped-def]
    out.write(f"==> {result.path} [{result.status}{', ' + result.format if result.format else ''}]\n")
    if result.error:
        out.write(f"    {result.error['type']}: {result.error['message']}\n")
    for warning in result.warnings:
        out.write(f"    warning: {warning}\n")
    for index, block in enumerate(result.blocks):
        loc = block.location
        where = ", ".join(
            f"{key}={value}" for key, value in (("part", loc.part), ("page", loc.page), ("cell", loc.cell),
                                                ("slide", loc.slide), ("line", loc.line), ("attachment", loc.attachment))
            if value is not None)
        out.write(f"--- block {index} ({block.kind}; {where})\n{block.text}\n")
