"""Incremental, resumable batch scans (``midian scan PATH... --state DB``).

The walk streams (:mod:`scanner.inputs`); each file is looked up in the state database
(:mod:`scanner.state`) and either re-emitted from it or sent to the engine:

- same size and mtime as recorded, same fingerprint (Midian version, model version, policy):
  **unchanged**, the stored result is re-emitted, nothing is read;
- same size, different mtime (touched, copied back, restored from backup): the worker hashes the
  file first and scans it only if its SHA-256 differs from the recorded one; **touched but
  identical** files keep their result (the new mtime is recorded, ``scan_count`` does not move);
- anything else (new file, other size, other fingerprint, ``--rescan``): scanned. So is a file whose
  last result has status ``error`` (unreadable, or its worker crashed: often transient); other
  statuses (``encrypted``, ``corrupt``, ``timeout``, ...) are kept until the file changes or
  ``--rescan``.

Results are committed to the database as they complete (completion order), and written to the
output in input order through a bounded reordering window, so the output is the same complete,
ordered stream as a scan without ``--state`` (unchanged files included) and memory stays bounded
whatever the size of the tree: at most ``window`` files between the oldest one still in flight and
the newest one walked. A run killed at any moment leaves every finished result in the database;
the next run re-emits them as unchanged and scans only the rest. Files of earlier runs that a
complete walk no longer finds are flagged as removed (kept for reports).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .data import ScanResult
from .engine import UNCHANGED, Engine, EngineSession, ScanJob
from .inputs import STDIN, InputFile, iter_inputs
from .progress import Progress
from .state import Fingerprint, StateDB, path_key

log = logging.getLogger(__name__)

WINDOW = 4096  # files walked ahead of the oldest one still being scanned
RETRY = ("error",)  # stored statuses scanned again even when the file did not change


@dataclass
class BatchStats:
    """What a batch run did, by file."""

    files: int = 0
    scanned: int = 0
    reused: int = 0
    touched: int = 0
    removed: int = 0
    confidential: int = 0
    unscanned: int = 0
    resumed: int = 0  # results kept from an interrupted earlier run

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(slots=True)
class _Slot:
    """One walked file waiting for its turn in the output."""

    item: InputFile
    key: bytes | None  # None for standard input (not recorded)
    size: int | None = None
    mtime_ns: int | None = None
    result: ScanResult | None = None
    reuse: bool = False  # emit the stored result
    touched: bool = False  # reused after the worker found the same bytes under a new mtime
    job: ScanJob | None = field(default=None, repr=False)


class BatchRun:
    """One run of an incremental scan over ``paths`` into ``state``.

    Args:
        state: the open (writer) state database.
        engine: a ``LocalEngine``, ``DaskEngine`` or ``InlineEngine`` (opened only if a file needs scanning).
        fingerprint: Midian version, model version and policy of this run.
        emit: called with every result in input order.
        rescan: scan every file even if unchanged.
        password: for encrypted documents.
        progress: counts and prints progress (optional).
        engine_name: recorded in the run's row.
        window: bound on files between the oldest in flight and the newest walked.
        stdin: where ``-`` is read from (default: standard input).
    """

    def __init__(self, state: StateDB, engine: Engine, fingerprint: Fingerprint, emit: Callable[[ScanResult], None], *,
                 rescan: bool = False, password: str | None = None, progress: Progress | None = None,
                 engine_name: str = "local", window: int = WINDOW, stdin: Any = None) -> None:
        self.state = state
        self.engine = engine
        self.fingerprint = fingerprint
        self.emit = emit
        self.rescan = rescan
        self.password = password
        self.progress = progress
        self.engine_name = engine_name
        self.window_size = max(1, window)
        self.stdin = stdin
        self.stats = BatchStats()
        self._window: deque[_Slot] = deque()
        self._pending: dict[Hashable, _Slot] = {}
        self._session: EngineSession | None = None
        self._stack = contextlib.ExitStack()
        self._run_id = 0

    def run(self, paths: Iterable[str]) -> BatchStats:
        """Walk ``paths``, scan what changed, emit every result in order; returns the counts."""
        paths = list(paths)
        self.stats.resumed = self.state.interrupted_results()
        if self.stats.resumed:
            log.warning("resuming an interrupted scan: %d result(s) already recorded are kept", self.stats.resumed)
        self._run_id = self.state.begin_run(paths, self.fingerprint, self.engine_name, self.rescan)
        roots = []
        try:
            with self._stack:
                for raw in paths:
                    if raw != STDIN:
                        roots.append(path_key(raw))
                    for item in iter_inputs([raw]):
                        self._add(self._classify(item))
                while self._window:
                    self._pump(block=True)
        except BaseException:  # Ctrl-C or a failure: what was recorded stays, the next run resumes
            self.state.finish_run(self._run_id, self.stats.as_dict(), status="interrupted")
            raise
        self.stats.removed = self.state.mark_removed(roots, self._run_id)
        self.state.finish_run(self._run_id, self.stats.as_dict())
        return self.stats

    # --- walking -----------------------------------------------------------------------------
    def _classify(self, item: InputFile) -> _Slot:
        self.stats.files += 1
        if item.path == STDIN:
            data = (self.stdin or sys.stdin.buffer).read()
            job = ScanJob(path=STDIN, display=STDIN, password=self.password, data=data, sha256=hashlib.sha256(data).hexdigest())
            return _Slot(item, None, job=job)
        key = path_key(item.path)
        slot = _Slot(item, key)
        try:
            st = os.stat(item.path)
            slot.size, slot.mtime_ns = st.st_size, st.st_mtime_ns
        except OSError:
            pass  # the scan reports why; without a size the file is scanned again next time
        stored = None if self.rescan else self.state.lookup(key)
        unless = None
        if stored is not None and stored.fingerprint == self.fingerprint.digest and stored.status not in RETRY \
                and slot.size is not None and stored.size == slot.size:
            if stored.mtime_ns == slot.mtime_ns:
                slot.reuse = True
                return slot
            unless = stored.sha256  # same size, new mtime: hash before scanning
        slot.job = ScanJob(path=item.path, display=item.display, password=self.password, unless_sha256=unless)
        return slot

    def _add(self, slot: _Slot) -> None:
        self._window.append(slot)
        if slot.job is not None:
            tag = id(slot)
            self._pending[tag] = slot
            self._open().submit(slot.job, tag)
            slot.job = None
        self._pump(block=False)
        session = self._session
        while session is not None and session.in_flight >= session.capacity:
            self._pump(block=True)
        while len(self._window) >= self.window_size:
            self._pump(block=True)

    def _open(self) -> EngineSession:
        if self._session is None:  # no worker starts when nothing changed
            self._session = self._stack.enter_context(self.engine.open())
        return self._session

    # --- results -----------------------------------------------------------------------------
    def _pump(self, block: bool) -> None:
        if self._session is not None and self._session.in_flight:
            for tag, result in self._session.completed(wait=block):
                self._arrived(self._pending.pop(tag), result)
        while self._window and (self._window[0].reuse or self._window[0].result is not None):
            self._out(self._window.popleft())

    def _arrived(self, slot: _Slot, result: ScanResult) -> None:
        if slot.key is None:  # standard input: not recorded
            slot.result = result
            return
        if result.status == UNCHANGED:
            self.state.touch(slot.key, slot.item.display, slot.size, slot.mtime_ns, self._run_id)
            self.stats.touched += 1
            slot.reuse = slot.touched = True
            return
        self.state.record(slot.key, result, slot.size, slot.mtime_ns, self._run_id, self.fingerprint)
        self.stats.scanned += 1
        slot.result = result

    def _out(self, slot: _Slot) -> None:
        reused = slot.reuse
        if reused:
            assert slot.key is not None
            result = self.state.stored_result(slot.key)
            if result.path != slot.item.display:
                result = replace(result, path=slot.item.display)
            if not slot.touched:
                self.stats.reused += 1
            self.state.seen(slot.key, slot.item.display, self._run_id)
        else:
            assert slot.result is not None
            result = slot.result
        self.stats.confidential += result.verdict == "confidential"
        self.stats.unscanned += result.status != "ok"
        self.emit(result)
        if self.progress is not None:
            self.progress.update(result, reused=reused)
