"""``midian scan PATH...``: verdicts, findings and evidence for every file (``../shared/INTERFACE.md``)."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator

from ..data import ScanResult
from ..engine import LocalEngine, ScanJob, ScannerConfig
from ..inputs import check_inputs, iter_inputs
from ..policy import load_policy
from ..progress import Progress
from ..report import FORMATS, writer_for
from ..settings import get_settings
from ._common import add_workers, default_format, open_output

NAME = "scan"
HELP = "scan files and directories for trade secrets"

EXIT_CLEAN, EXIT_CONFIDENTIAL, EXIT_UNSCANNED = 0, 1, 3


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory (recursed), or - for standard input")
    parser.add_argument("--format", choices=FORMATS, default=None, help="jsonl (default when output is not a terminal), json, csv, sarif, html")
    parser.add_argument("--output", "-o", default=None, metavar="FILE", help="write the report here instead of standard output")
    parser.add_argument("--policy", default=None, metavar="FILE", help="policy TOML (thresholds, categories, allow-lists)")
    parser.add_argument("--password", default=None, metavar="SECRET", help="password for encrypted documents")
    parser.add_argument("--model", default=None, metavar="DIR", help="model directory (default: the shipped model)")
    parser.add_argument("--registry", default=None, metavar="DB", help="secret registry to consult (default: the data directory's)")
    parser.add_argument("--no-registry", action="store_true", help="do not consult any secret registry")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    add_workers(parser)


def config_from_args(args: argparse.Namespace) -> ScannerConfig:
    settings = get_settings()
    if args.workers is not None:
        settings = settings.model_copy(update={"workers": args.workers})
    load_policy(args.policy)  # fail fast with a usage-level message before starting workers
    registry = None
    if not args.no_registry:
        registry = args.registry or str(settings.registry_file)
    return ScannerConfig(settings=settings, policy_file=args.policy, model_dir=args.model or (
        str(settings.model_dir) if settings.model_dir else None), registry_path=registry)


def jobs_for(args: argparse.Namespace) -> Iterator[ScanJob]:
    for item in iter_inputs(args.paths):
        if item.path == "-":
            data = sys.stdin.buffer.read()
            yield ScanJob(path="-", display="-", password=args.password, data=data, sha256=hashlib.sha256(data).hexdigest())
        else:
            yield ScanJob(path=item.path, display=item.display, password=args.password)


def exit_code(results: list[ScanResult] | tuple[int, int]) -> int:
    if isinstance(results, tuple):
        confidential, unscanned = results
    else:
        confidential = sum(r.verdict == "confidential" for r in results)
        unscanned = sum(r.status != "ok" for r in results)
    if confidential:
        return EXIT_CONFIDENTIAL
    return EXIT_UNSCANNED if unscanned else EXIT_CLEAN


def run(args: argparse.Namespace) -> int:
    check_inputs(args.paths)
    config = config_from_args(args)
    fmt = default_format(args.format, tty_default="jsonl")
    total = sum(1 for _ in iter_inputs(args.paths)) if sys.stderr.isatty() else None
    progress = Progress(total=total, enabled=not args.quiet)
    engine = LocalEngine(config)
    confidential = unscanned = 0
    with open_output(args.output) as out:
        writer = writer_for(fmt, out)
        writer.start()
        for result in engine.run(jobs_for(args)):
            writer.write(result)
            progress.update(result)
            confidential += result.verdict == "confidential"
            unscanned += result.status != "ok"
        writer.finish()
    progress.close()
    return exit_code((confidential, unscanned))
