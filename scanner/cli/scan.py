"""``midian scan PATH...``: verdicts, findings and evidence for every file (``../shared/INTERFACE.md``).

With ``--state DB`` the scan is incremental and resumable (:mod:`scanner.batch`); ``--engine dask``
runs it on a Dask cluster (:class:`scanner.engine.DaskEngine`). The output is the same either way:
one result per input file, in input order, and the exit code from all of them.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from typing import Any

from ..data import ScanResult
from ..engine import DaskEngine, LocalEngine, ScanJob, ScannerConfig
from ..errors import UsageError
from ..inputs import check_inputs, iter_inputs
from ..policy import load_policy
from ..progress import Progress
from ..report import FORMATS, writer_for
from ..settings import get_settings
from ._common import add_workers, default_format, open_output

NAME = "scan"
HELP = "scan files and directories for trade secrets"

EXIT_CLEAN, EXIT_CONFIDENTIAL, EXIT_UNSCANNED = 0, 1, 3
ENGINES = ("local", "dask")



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
    parser.add_argument("--state", default=None, metavar="DB",
                        help="state database (SQLite): scan only new or changed files, resume after a kill")
    parser.add_argument("--rescan", action="store_true", help="with --state: scan every file again")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="local process pool (default) or a Dask cluster (the dask extra)")
    parser.add_argument("--scheduler", default=None, metavar="ADDR",
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (implies --engine dask; "
                             "without it --engine dask starts a local cluster)")
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


def engine_for(args: argparse.Namespace, config: ScannerConfig) -> tuple[str, Any]:
    """The engine named by ``--engine`` / ``--scheduler``."""
    name = args.engine or ("dask" if args.scheduler else "local")
    if name == "local" and args.scheduler:
        raise UsageError("--scheduler needs --engine dask")
    if name == "dask":
        return name, DaskEngine(config, scheduler=args.scheduler, workers=args.workers)
    return name, LocalEngine(config)


def run(args: argparse.Namespace) -> int:
    check_inputs(args.paths)
    if args.rescan and not args.state:
        raise UsageError("--rescan needs --state DB")
    config = config_from_args(args)
    engine_name, engine = engine_for(args, config)
    fmt = default_format(args.format, tty_default="jsonl")
    progress = Progress(enabled=not args.quiet, interval=config.settings.progress_interval_s)
    if progress.enabled and sys.stderr.isatty():  # the bar wants a total; count without delaying the scan
        progress.count_in_background(lambda: iter_inputs(args.paths))
    if args.state:
        return _run_with_state(args, config, engine_name, engine, fmt, progress)
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


def _run_with_state(args: argparse.Namespace, config: ScannerConfig, engine_name: str, engine: Any, fmt: str,
                    progress: Progress) -> int:
    from ..batch import BatchRun
    from ..state import Fingerprint, StateDB, path_key

    fingerprint = Fingerprint.current(config.model_version(), load_policy(args.policy).fingerprint())
    with StateDB(args.state) as state, open_output(args.output) as out:  # the lock first: never truncate for nothing
        if progress.total is None:  # until a count is done (terminals), the last run's number is the best guess
            known = state.count_under([path_key(p) for p in args.paths if p != "-"])
            if known:
                progress.set_total(known, estimated=True)
        writer = writer_for(fmt, out)
        writer.start()
        batch = BatchRun(state, engine, fingerprint, writer.write, rescan=args.rescan, password=args.password,
                         progress=progress, engine_name=engine_name)
        stats = batch.run(args.paths)
        writer.finish()
    progress.close()
    if not args.quiet:
        print(f"midian: state {args.state}: {stats.files} files, {stats.scanned} scanned, {stats.reused} unchanged, "
              f"{stats.touched} touched but identical, {stats.removed} removed since the last run", file=sys.stderr)
    return exit_code((stats.confidential, stats.unscanned))
