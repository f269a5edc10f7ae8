"""Walking the command line's inputs: files, directories and ``-`` for standard input.

Files come in the order given; a directory yields its files in sorted path order, streamed (one
directory listing in memory at a time) so that a tree of a million files costs no more memory than
a tree of ten. Symbolic links are followed only when their target stays inside the directory tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

STDIN = "-"


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file to read: the path to open and the path to report."""

    path: str  # what to open ("-" for standard input)
    display: str  # what to print: valid UTF-8 even when the file name is not

    @classmethod
    def of(cls, path: str) -> InputFile:
        return cls(path=path, display=display_path(path))


def display_path(path: str) -> str:
    """``path`` as printable UTF-8: undecodable bytes of hostile names become U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def iter_inputs(paths: Iterable[str]) -> Iterator[InputFile]:
    """Every file named by ``paths``; raises :class:`UsageError` for a path that does not exist."""
    for raw in paths:
        if raw == STDIN:
            yield InputFile(path=STDIN, display=STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            yield from walk(path)
        elif path.is_file():
            yield InputFile.of(raw)
        else:
            raise UsageError(f"{raw}: no such file or directory")


def check_inputs(paths: Iterable[str]) -> None:
    """Raise :class:`UsageError` before any work if a path does not exist."""
    for raw in paths:
        if raw != STDIN and not os.path.exists(raw):
            raise UsageError(f"{raw}: no such file or directory")


def walk(root: Path) -> Iterator[InputFile]:
    """Files under ``root`` in sorted path order, not following links out of the tree."""
    real_root = os.path.realpath(root)
    yield from _walk(str(root), real_root)


def _walk(directory: str, real_root: str) -> Iterator[InputFile]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    keyed = []
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not _inside(target, real_root):
                    continue
                is_dir = os.path.isdir(target)
                if is_dir:  # a link to a directory inside the tree would visit it twice
                    continue
            elif not is_dir and not entry.is_file(follow_symlinks=False):
                continue  # sockets, fifos, devices
        except OSError:
            continue
        keyed.append((entry.name + ("/" if is_dir else ""), entry.path, is_dir))
    keyed.sort()
    for _, path, is_dir in keyed:
        if is_dir:
            yield from _walk(path, real_root)
        else:
            yield InputFile.of(path)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
