"""Progress on standard error: a live bar on a terminal, a periodic one-line summary otherwise.

The bar shows files done out of the total, files/s and MB/s of the files actually scanned, the
count re-used unchanged from a state database, and the time left. Without a terminal, one line
every ``interval`` seconds (``MIDIAN_PROGRESS_INTERVAL_S``) keeps logs of long runs readable. The
total may arrive late (:meth:`Progress.set_total`, from a background count of the tree), be an
estimate (the number of files the last incremental run found) or be unknown: then there is no ETA.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from .data import ScanResult


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Counts results as they arrive and reports files/s, MB/s and ETA.

    Args:
        total: number of files, if known now.
        stream: where to write (standard error).
        interval: seconds between lines when ``stream`` is not a terminal.
        enabled: False counts silently (``--quiet``).
        clock: a monotonic clock (tests).
    """

    def __init__(self, total: int | None = None, stream: IO[str] | None = None, interval: float = 10.0,
                 enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.estimated = False
        self.stream = stream or sys.stderr
        self.interval = interval
        self.enabled = enabled
        self.clock = clock
        self.done = 0
        self.scanned = 0  # computed by this run (not re-used from a state database)
        self.reused = 0
        self.bytes = 0  # of the scanned files
        self.flagged = 0
        self.failed = 0
        self.started = clock()
        self._last = self.started
        self._bar: Any = None
        if enabled and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("[bold]scanning"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                            TextColumn("ETA"), TimeRemainingColumn(), console=Console(file=self.stream), transient=True)
            self._task = self._bar.add_task("scan", total=total, rate="")
            self._bar.start()

    def set_total(self, total: int, estimated: bool = False) -> None:
        """The number of files, once a background count knows it, or an estimate (the last run's)."""
        if estimated and self.total is not None and not self.estimated:
            return  # a real count arrived first
        self.total = total
        self.estimated = estimated
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def count_in_background(self, walk: Callable[[], Iterable[object]]) -> threading.Thread:
        """Count ``walk()`` in a daemon thread and :meth:`set_total` when done (a bar needs a total)."""

        def count() -> None:
            try:
                self.set_total(sum(1 for _ in walk()))
            except Exception:  # the scan itself reports unreadable paths
                return

        thread = threading.Thread(target=count, name="midian-count", daemon=True)
        thread.start()
        return thread

    def update(self, result: ScanResult, reused: bool = False) -> None:
        self.done += 1
        if reused:
            self.reused += 1
        else:
            self.scanned += 1
            self.bytes += result.size
        self.flagged += result.verdict == "confidential"
        self.failed += result.status != "ok"
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, rate=self._rate())
            return
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            print(f"midian: {self.line()}", file=self.stream, flush=True)

    def _rate(self) -> str:
        elapsed = max(self.clock() - self.started, 1e-6)
        text = f"{self.scanned / elapsed:.1f} files/s, {self.bytes / elapsed / 1e6:.1f} MB/s"
        return text + (f", {self.reused} unchanged" if self.reused else "")

    def eta(self) -> float | None:
        """Seconds left at the pace so far (unchanged files included), if the total is known."""
        if not self.total or not self.done:
            return None
        elapsed = max(self.clock() - self.started, 1e-6)
        return max(self.total - self.done, 0) * elapsed / self.done

    def line(self) -> str:
        total = f"/{'~' if self.estimated else ''}{self.total}" if self.total else ""
        text = f"{self.done}{total} files, {self._rate()}"
        eta = self.eta()
        if eta is not None:
            text += f", ETA {_duration(eta)}"
        return text + f"; {self.flagged} confidential, {self.failed} not scanned"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        if self.enabled:
            elapsed = self.clock() - self.started
            rate = self._rate()
            print(f"midian: done: {self.done} files ({rate}); {self.flagged} confidential, {self.failed} not scanned"
                  f" in {_duration(elapsed) if elapsed >= 60 else f'{elapsed:.1f} s'}", file=self.stream, flush=True)
