"""``midian serve``: the HTTP service (``service/``), under uvicorn, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import importlib.util

from scanner.cli._common import add_workers
from scanner.errors import UsageError
from scanner.settings import get_settings

NAME = "serve"
HELP = "run the HTTP scanning service (FastAPI under uvicorn)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="address to listen on (default: 127.0.0.1, MIDIAN_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: 8000, MIDIAN_PORT)")
    parser.add_argument("--scheduler", default=None, metavar="ADDR",
                        help="run batch jobs on this Dask scheduler (MIDIAN_SCHEDULER); the spool must be on a path the workers mount")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                        help="uvicorn's log level (default: info)")
    add_workers(parser)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from . import create_app

    updates = {k: v for k, v in (("host", args.host), ("port", args.port), ("workers", args.workers),
                                  ("scheduler", args.scheduler)) if v is not None}
    settings = get_settings().model_copy(update=updates)
    if settings.scheduler and importlib.util.find_spec("distributed") is None:
        raise UsageError("a Dask scheduler is set but Dask is not installed: pip install 'midian[dask]'")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_s)),
        server_header=False,
        proxy_headers=False,
    )
    return 0
