"""Progress on standard error: a live bar on a terminal, a periodic one-line summary otherwise."""

from __future__ import annotations

import sys
import time
from typing import IO

from .data import ScanResult


class Progress:
    """Counts results as they arrive and reports files/s, MB/s and ETA."""

    def __init__(self, total: int | None = None, stream: IO[str] | None = None, interval: float = 10.0,
                 enabled: bool = True) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.interval = interval
        self.enabled = enabled
        self.done = 0
        self.bytes = 0
        self.flagged = 0
        self.failed = 0
        self.started = time.monotonic()
        self._last = self.started
        self._bar = None
        if enabled and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("[bold]scanning"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                            TimeRemainingColumn(), console=Console(file=self.stream), transient=True)
            self._task = self._bar.add_task("scan", total=total, rate="")
            self._bar.start()

    def update(self, result: ScanResult) -> None:
        self.done += 1
        self.bytes += result.size
        self.flagged += result.verdict == "confidential"
        self.failed += result.status != "ok"
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, rate=self._rate())
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            print(f"midian: {self.line()}", file=self.stream, flush=True)

    def _rate(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return f"{self.done / elapsed:.1f} files/s, {self.bytes / elapsed / 1e6:.1f} MB/s"

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        text = f"{self.done}{'/' + str(self.total) if self.total else ''} files, {self._rate()}"
        if self.total and self.done:
            eta = (self.total - self.done) * elapsed / self.done
            text += f", ETA {eta:.0f} s"
        return text + f"; {self.flagged} confidential, {self.failed} not scanned"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        if self.enabled:
            print(f"midian: done: {self.line()} in {time.monotonic() - self.started:.1f} s", file=self.stream, flush=True)
