"""The state database of incremental scans: one row per file ever seen, one row per run.

``midian scan DIR --state scan.db`` keeps, for every file, what it looked like when it was scanned
(size, mtime, content SHA-256), the result (``ScanResult.to_json()``) and what produced it (Midian
version, model version, policy fingerprint). The next run rescans only what changed; ``midian
report scan.db`` renders reports from it without scanning.

It is one SQLite file in WAL mode. Every result is committed as it arrives, so a scan killed at any
moment (even SIGKILL) loses at most the files that were in flight; results are keyed by the file's
absolute path, so nothing is ever recorded twice. ``synchronous=NORMAL``: a committed result survives
the process being killed; after a power cut the last few commits may be lost, and those files are
scanned again. One scan at a time may write to a database (an exclusive lock on ``<db>.lock``);
reports can read it while a scan runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .data import ScanResult
from .errors import MidianError, UsageError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    status         TEXT NOT NULL,          -- running | done | interrupted
    roots          TEXT NOT NULL,          -- JSON list of the paths given on the command line
    midian_version TEXT NOT NULL,
    model          TEXT NOT NULL,
    policy         TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    engine         TEXT NOT NULL,
    rescan         INTEGER NOT NULL DEFAULT 0,
    host           TEXT,
    pid            INTEGER,
    files          INTEGER NOT NULL DEFAULT 0,   -- files walked
    scanned        INTEGER NOT NULL DEFAULT 0,   -- results computed (and recorded) by this run
    reused         INTEGER NOT NULL DEFAULT 0,   -- unchanged size and mtime: stored result re-emitted
    touched        INTEGER NOT NULL DEFAULT 0,   -- mtime changed, same bytes: stored result re-emitted
    removed        INTEGER NOT NULL DEFAULT 0,   -- files of earlier runs no longer there
    confidential   INTEGER NOT NULL DEFAULT 0,
    unscanned      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS files (
    id          INTEGER PRIMARY KEY,
    path        BLOB NOT NULL UNIQUE,      -- os.fsencode(absolute path): exact even for non-UTF-8 names
    display     TEXT NOT NULL,             -- the path as reported (valid UTF-8)
    size        INTEGER,
    mtime_ns    INTEGER,
    sha256      TEXT,
    status      TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    score       REAL NOT NULL,
    level       TEXT NOT NULL,
    categories  TEXT NOT NULL,             -- space-separated
    result      TEXT NOT NULL,             -- ScanResult.to_json()
    model       TEXT NOT NULL,
    policy      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    scanned_at  TEXT NOT NULL,
    scanned_run INTEGER NOT NULL REFERENCES runs(id),
    seen_run    INTEGER NOT NULL REFERENCES runs(id),
    scan_count  INTEGER NOT NULL DEFAULT 1,   -- results recorded for this path, over all runs
    removed_at  TEXT                          -- set when a complete walk of its root no longer finds it
);
CREATE INDEX IF NOT EXISTS files_risk ON files (verdict, score);
"""


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def path_key(path: str) -> bytes:
    """The database key of a file: its absolute path as bytes (names need not be valid UTF-8)."""
    return os.fsencode(os.path.abspath(path))


_UNDER = "(path=? OR (path>=? AND path<?))"  # the root itself, or any key below it (uses the path index)


def _under(root: bytes) -> tuple[bytes, bytes, bytes]:
    prefix = root if root.endswith(os.sep.encode()) else root + os.sep.encode()
    return root, prefix, prefix[:-1] + bytes([prefix[-1] + 1])  # keys starting with prefix sort in [prefix, upper)


@dataclass(frozen=True)
class Fingerprint:
    """What produced a result; a stored result is reused only under the same fingerprint."""

    midian_version: str
    model: str
    policy: str

    @property
    def digest(self) -> str:
        data = json.dumps([self.midian_version, self.model, self.policy]).encode()
        return hashlib.sha256(data).hexdigest()[:16]

    @classmethod
    def current(cls, model: str, policy: str) -> Fingerprint:
        return cls(__version__, model, policy)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database remembers of a file, to decide whether to scan it again."""

    size: int | None
    mtime_ns: int | None
    sha256: str | None
    fingerprint: str
    status: str
    removed: bool


@dataclass(frozen=True, slots=True)
class Row:
    """One file of the database, for reports."""

    result: ScanResult
    scanned_at: str
    removed_at: str | None
    scan_count: int


class StateDB:
    """An open state database. ``writer=True`` takes the one-writer lock (``midian scan``).

    Raises:
        UsageError: the file does not exist (readers), is not a Midian state database, or another
            scan holds the lock.
    """

    SEEN_COMMIT_S = 1.0  # "still there" marks of unchanged files are committed in batches

    def __init__(self, path: str | Path, writer: bool = True) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        self._in_txn = False
        self._last_commit = time.monotonic()
        if not writer and not self.path.is_file():
            raise UsageError(f"{self.path}: no such state database (create one with midian scan DIR --state {self.path})")
        if writer:
            self._lock()
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._check_schema(writer)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise UsageError(f"{self.path}: not a Midian state database ({exc})") from exc

    # --- opening -----------------------------------------------------------------------------
    def _lock(self) -> None:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise UsageError(f"{self.path}: another midian scan is writing this state database; "
                             "wait for it or use another --state file") from exc
        self._lock_fd = fd

    def _check_schema(self, writer: bool) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables - {"sqlite_sequence"}:
            if not writer:
                raise UsageError(f"{self.path}: empty state database (no scan has written to it yet)")
            self.db.executescript(_SCHEMA)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            return
        if version != SCHEMA_VERSION or not {"runs", "files"} <= tables:
            raise UsageError(f"{self.path}: not a Midian state database of schema {SCHEMA_VERSION} "
                             f"(found user_version {version}); use a new --state file")

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            if self._in_txn:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("COMMIT")
                self._in_txn = False
            db.close()
            self.db = None  # type: ignore[assignment]
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions ------------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_txn:
            self.db.execute("BEGIN")
            self._in_txn = True

    def commit(self) -> None:
        if self._in_txn:
            self.db.execute("COMMIT")
            self._in_txn = False
        self._last_commit = time.monotonic()

    # --- runs --------------------------------------------------------------------------------
    def begin_run(self, roots: list[str], fingerprint: Fingerprint, engine: str, rescan: bool) -> int:
        """Start a run; earlier runs still marked running were killed (we hold the lock): say so."""
        self.commit()
        self.db.execute("UPDATE runs SET status='interrupted' WHERE status='running'")
        cur = self.db.execute(
            "INSERT INTO runs (started_at, status, roots, midian_version, model, policy, fingerprint, engine, rescan,"
            " host, pid) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (now(), json.dumps(roots, ensure_ascii=False), fingerprint.midian_version, fingerprint.model,
             fingerprint.policy, fingerprint.digest, engine, int(rescan), socket.gethostname(), os.getpid()))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def finish_run(self, run_id: int, counts: dict[str, int], status: str = "done") -> None:
        self.commit()
        columns = ("files", "scanned", "reused", "touched", "removed", "confidential", "unscanned")
        self.db.execute(
            f"UPDATE runs SET status=?, finished_at=?, {', '.join(f'{c}=?' for c in columns)} WHERE id=?",
            (status, now(), *(int(counts.get(c, 0)) for c in columns), run_id))

    def runs(self) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM runs ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def interrupted_results(self) -> int:
        """Results recorded by the last run if it was interrupted (what a resumed run keeps)."""
        row = self.db.execute("SELECT id, status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if not row or row[1] not in ("running", "interrupted"):
            return 0
        return int(self.db.execute("SELECT COUNT(*) FROM files WHERE scanned_run=?", (row[0],)).fetchone()[0])

    # --- files -------------------------------------------------------------------------------
    def lookup(self, key: bytes) -> Stored | None:
        row = self.db.execute("SELECT size, mtime_ns, sha256, fingerprint, status, removed_at FROM files WHERE path=?",
                              (key,)).fetchone()
        return None if row is None else Stored(row[0], row[1], row[2], row[3], row[4], row[5] is not None)

    def stored_result(self, key: bytes) -> ScanResult:
        row = self.db.execute("SELECT result FROM files WHERE path=?", (key,)).fetchone()
        if row is None:
            raise MidianError(f"{self.path}: the stored result of {os.fsdecode(key)} vanished during the scan")
        return ScanResult.from_json(json.loads(row[0]))

    def record(self, key: bytes, result: ScanResult, size: int | None, mtime_ns: int | None, run_id: int,
               fingerprint: Fingerprint) -> None:
        """Store a new result for ``key`` and commit at once (a result is never lost once recorded)."""
        self._begin()
        self.db.execute(
            "INSERT INTO files (path, display, size, mtime_ns, sha256, status, verdict, score, level, categories, result,"
            " model, policy, fingerprint, scanned_at, scanned_run, seen_run, scan_count, removed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL)"
            " ON CONFLICT (path) DO UPDATE SET display=excluded.display, size=excluded.size, mtime_ns=excluded.mtime_ns,"
            " sha256=excluded.sha256, status=excluded.status, verdict=excluded.verdict, score=excluded.score,"
            " level=excluded.level, categories=excluded.categories, result=excluded.result, model=excluded.model,"
            " policy=excluded.policy, fingerprint=excluded.fingerprint, scanned_at=excluded.scanned_at,"
            " scanned_run=excluded.scanned_run, seen_run=excluded.seen_run, scan_count=files.scan_count + 1,"
            " removed_at=NULL",
            (key, result.path, size, mtime_ns, result.sha256 or None, result.status, result.verdict, float(result.score),
             result.level, " ".join(result.categories), json.dumps(result.to_json(), ensure_ascii=False),
             fingerprint.model, fingerprint.policy, fingerprint.digest, now(), run_id, run_id))
        self.commit()

    def touch(self, key: bytes, display: str, size: int | None, mtime_ns: int | None, run_id: int) -> None:
        """The file's mtime changed but not its bytes: keep its result, remember the new mtime."""
        self._begin()
        self.db.execute("UPDATE files SET display=?, size=?, mtime_ns=?, seen_run=?, removed_at=NULL WHERE path=?",
                        (display, size, mtime_ns, run_id, key))
        self.commit()

    def seen(self, key: bytes, display: str, run_id: int) -> None:
        """The file is still there, unchanged (committed in batches: losing a mark costs nothing)."""
        self._begin()
        self.db.execute("UPDATE files SET display=?, seen_run=?, removed_at=NULL WHERE path=?", (display, run_id, key))
        if time.monotonic() - self._last_commit >= self.SEEN_COMMIT_S:
            self.commit()

    def mark_removed(self, roots: list[bytes], run_id: int) -> int:
        """Flag files under ``roots`` that this (complete) run did not see; returns how many."""
        self._begin()
        stamp, count = now(), 0
        for root in roots:
            cur = self.db.execute(
                f"UPDATE files SET removed_at=? WHERE removed_at IS NULL AND seen_run<? AND {_UNDER}",
                (stamp, run_id, *_under(root)))
            count += cur.rowcount
        self.commit()
        return count

    def count_under(self, roots: list[bytes]) -> int:
        """Files recorded under ``roots`` and not removed: what the last run found there (an estimate)."""
        return sum(int(self.db.execute(f"SELECT COUNT(*) FROM files WHERE removed_at IS NULL AND {_UNDER}",
                                       _under(root)).fetchone()[0]) for root in roots)

    def scan_counts(self) -> dict[str, int]:
        """Recorded results per file (display path): 1 for a file scanned once."""
        return dict(self.db.execute("SELECT display, scan_count FROM files"))

    # --- reports -----------------------------------------------------------------------------
    def rows(self, include_removed: bool = True) -> Iterator[Row]:
        """Every file's stored result, in path order (streamed)."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        cur = self.db.execute(f"SELECT result, display, scanned_at, removed_at, scan_count FROM files{where} ORDER BY display")
        for text, display, scanned_at, removed_at, scan_count in cur:
            result = ScanResult.from_json(json.loads(text))
            if result.path != display:
                from dataclasses import replace

                result = replace(result, path=display)
            yield Row(result, scanned_at, removed_at, scan_count)

    def summary(self) -> dict[str, Any]:
        """Counts over the files table and the last run, for report headers."""
        files, removed = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(removed_at IS NOT NULL), 0) FROM files").fetchone()
        runs = self.runs()
        return {"files": files, "removed": removed, "runs": len(runs), "last_run": runs[-1] if runs else None}
