"""Pieces shared by several commands: output streams and worker counts."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import IO


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes (default: one per CPU core, MIDIAN_WORKERS)")


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """The file named by ``--output``, or standard output."""
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:  # type: ignore[arg-type]
        yield fh


def default_format(explicit: str | None, tty_default: str, pipe_default: str = "jsonl") -> str:
    if explicit:
        return explicit
    return tty_default if sys.stdout.isatty() else pipe_default
