"""Batch jobs: a durable queue in the database and one runner thread that feeds the engine.

Life of a file: created ``queued`` with its job; the runner claims as many as the engine's session has
room for (``running``, attempts + 1, one transaction), submits them, and records each result as it
completes, in one transaction that inserts the result keyed by ``(job, seq)`` (a second insert is
ignored), marks the file ``done`` and counts it on the job — the job is ``done`` when its count
reaches its total. Only then is the spooled upload deleted. Whatever the moment the service dies, a file is ``queued``, ``running`` or ``done`` with its
result; on start :meth:`JobQueue.requeue_running` puts ``running`` files back in the queue, so every
file ends with exactly one result. A file that was in flight when the service died
:data:`MAX_ATTEMPTS` times is recorded as failed instead of being tried again (it may be what kills
the service). A worker that crashes or times out on a file gives that file a non-ok result; the job
goes on.

On SIGTERM the runner stops claiming, lets the files in flight finish for up to the grace period,
then re-queues the rest (without counting an attempt).

One service instance per database: ``requeue_running`` assumes no other instance has files in flight.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from scanner.data import ScanResult
from scanner.engine import Engine, EngineSession, ScanJob
from scanner.errors import MidianError
from scanner.policy import Policy
from scanner.scan import failed_result

from .db import ACTIVE_JOB_STATES, Database, Job, JobFile, Result, utcnow
from .errors import Problem
from .metrics import Metrics
from .scanning import mask
from .spool import Spool

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class ServiceInterrupted(MidianError):
    """The service stopped while this file was being scanned, more often than allowed."""


class OutsideAllowedRoots(MidianError):
    """A server-side file resolved outside the roots the operator allowed."""


@dataclass(frozen=True)
class NewFile:
    """A file of a job being created."""

    name: str
    path: str
    spooled: bool
    size: int = 0
    sha256: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A file handed to the runner."""

    job_id: str
    seq: int
    name: str
    path: str
    spooled: bool
    sha256: str | None
    attempts: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.job_id, self.seq)

    def scan_job(self) -> ScanJob:
        return ScanJob(path=self.path, display=self.name, sha256=self.sha256)


def _changed(result: Any) -> int:
    """Rows an UPDATE changed."""
    return int(cast(CursorResult[Any], result).rowcount)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    value = _aware(value)
    return value.isoformat(timespec="seconds") if value else None


class JobQueue:
    """Jobs, their files and results in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- creating and claiming ---------------------------------------------------------------
    def create(self, job_id: str, owner: str, source: str, files: Sequence[NewFile], roots: list[str] | None = None) -> None:
        with self.db.write() as s:
            s.add(Job(id=job_id, owner=owner, state="queued", source=source, total=len(files), done=0,
                      roots=json.dumps(roots, ensure_ascii=False) if roots is not None else None, created_at=utcnow()))
            s.flush()
            rows = [{"job_id": job_id, "seq": i, "name": f.name, "path": f.path, "spooled": f.spooled, "size": f.size,
                     "sha256": f.sha256, "state": "queued", "attempts": 0} for i, f in enumerate(files)]
            for start in range(0, len(rows), 1000):
                s.execute(insert(JobFile), rows[start:start + 1000])
            if not files:
                s.execute(update(Job).where(Job.id == job_id).values(state="done", finished_at=utcnow()))

    def claim(self, limit: int) -> list[Claimed]:
        """Mark up to ``limit`` queued files ``running`` (oldest job first) and return them."""
        with self.db.write() as s:
            query = (select(JobFile).join(Job, Job.id == JobFile.job_id)
                     .where(JobFile.state == "queued", Job.state.in_(ACTIVE_JOB_STATES))
                     .order_by(Job.created_at, JobFile.job_id, JobFile.seq).limit(limit))
            if self.db.dialect != "sqlite":
                query = query.with_for_update(skip_locked=True, of=JobFile)
            files = list(s.scalars(query))
            for f in files:
                f.state = "running"
                f.attempts += 1
            if files:
                s.execute(update(Job).where(Job.id.in_({f.job_id for f in files}), Job.state == "queued")
                          .values(state="running", started_at=utcnow()))
            return [Claimed(f.job_id, f.seq, f.name, f.path, f.spooled, f.sha256, f.attempts) for f in files]

    def record(self, file: Claimed, result: ScanResult) -> tuple[bool, bool]:
        """Store ``file``'s result once; returns (recorded, job finished)."""
        body = json.dumps(result.to_json(), ensure_ascii=False)
        with self.db.write() as s:
            marked = _changed(s.execute(update(JobFile).where(JobFile.job_id == file.job_id, JobFile.seq == file.seq,
                                                              JobFile.state != "done").values(state="done")))
            if not marked:  # recorded before, or the job was cancelled and purged
                return False, False
            s.execute(self._insert_ignore(dict(
                job_id=file.job_id, seq=file.seq, path=result.path, status=result.status, verdict=result.verdict,
                level=result.level, score=result.score, categories="|" + "|".join(result.categories) + "|",
                body=body, finished_at=utcnow())))
            s.execute(update(Job).where(Job.id == file.job_id).values(done=Job.done + 1))
            finished = _changed(s.execute(update(Job).where(Job.id == file.job_id, Job.done >= Job.total,
                                                            Job.state.in_(ACTIVE_JOB_STATES))
                                          .values(state="done", finished_at=utcnow())))
            return True, bool(finished)

    def _insert_ignore(self, values: dict[str, Any]) -> Any:
        if self.db.dialect == "postgresql":
            return pg_insert(Result).values(**values).on_conflict_do_nothing(index_elements=["job_id", "seq"])
        return sqlite_insert(Result).values(**values).on_conflict_do_nothing(index_elements=["job_id", "seq"])

    def requeue(self, keys: Iterable[tuple[str, int]], *, undo_attempt: bool = True) -> int:
        """Put files back in the queue (graceful shutdown: not counted as an attempt)."""
        count = 0
        with self.db.write() as s:
            for job_id, seq in keys:
                values: dict[str, Any] = {"state": "queued"}
                if undo_attempt:
                    values["attempts"] = JobFile.attempts - 1
                count += _changed(s.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.seq == seq,
                                                                  JobFile.state == "running").values(**values)))
        return count

    def requeue_running(self) -> int:
        """On start: files left ``running`` by a service that died go back in the queue."""
        with self.db.write() as s:
            return _changed(s.execute(update(JobFile).where(JobFile.state == "running").values(state="queued")))

    # --- reading --------------------------------------------------------------------------------
    def owner(self, job_id: str) -> str | None:
        with self.db.read() as s:
            return s.scalar(select(Job.owner).where(Job.id == job_id))

    def status(self, job_id: str) -> dict[str, Any] | None:
        with self.db.read() as s:
            job = s.get(Job, job_id)
            if job is None:
                return None
            states = dict(s.execute(select(JobFile.state, func.count()).where(JobFile.job_id == job_id)
                                    .group_by(JobFile.state)).all())
            verdicts = dict(s.execute(select(Result.verdict, func.count()).where(Result.job_id == job_id)
                                      .group_by(Result.verdict)).all())
            not_ok = s.scalar(select(func.count()).select_from(Result)
                              .where(Result.job_id == job_id, Result.status != "ok")) or 0
        return describe(job, states, verdicts, not_ok)

    def jobs(self, owner: str | None, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.read() as s:
            query = select(Job).order_by(Job.created_at.desc()).limit(limit)
            if owner is not None:
                query = query.where(Job.owner == owner)
            return [describe(job) for job in s.scalars(query)]

    def results(self, job_id: str, *, after: int, limit: int, verdict: str | None = None, category: str | None = None,
                status: str | None = None) -> tuple[list[str], int | None]:
        """Up to ``limit`` result bodies (JSON text) after sequence ``after``, and the next cursor."""
        query = select(Result.seq, Result.body).where(Result.job_id == job_id, Result.seq > after)
        if verdict:
            query = query.where(Result.verdict == verdict)
        if status:
            query = query.where(Result.status == status)
        if category:
            query = query.where(Result.categories.contains(f"|{category}|", autoescape=True))
        with self.db.read() as s:
            rows = s.execute(query.order_by(Result.seq).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return [r.body for r in rows], (rows[-1].seq if more else None)

    def cancel(self, job_id: str) -> bool:
        """Cancel the job and purge its files and results; the job stays as a ``cancelled`` record."""
        with self.db.write() as s:
            job = s.get(Job, job_id)
            if job is None:
                return False
            job.state = "cancelled"
            job.finished_at = job.finished_at or utcnow()
            s.execute(delete(Result).where(Result.job_id == job_id))
            s.execute(delete(JobFile).where(JobFile.job_id == job_id))
        return True

    def depth(self) -> int:
        with self.db.read() as s:
            return s.scalar(select(func.count()).select_from(JobFile).where(JobFile.state == "queued")) or 0

    def active_jobs(self) -> set[str]:
        with self.db.read() as s:
            return set(s.scalars(select(Job.id).where(Job.state.in_(ACTIVE_JOB_STATES))))


def describe(job: Job, states: dict[str, int] | None = None, verdicts: dict[str, int] | None = None,
             not_ok: int | None = None) -> dict[str, Any]:
    """The public view of a job: state, counts, progress and an ETA from the rate so far."""
    started, finished = _aware(job.started_at), _aware(job.finished_at)
    elapsed = ((finished or datetime.now(UTC)) - started).total_seconds() if started else 0.0
    rate = job.done / elapsed if elapsed > 0 and job.done else None
    remaining = job.total - job.done
    view: dict[str, Any] = {
        "id": job.id,
        "state": job.state,
        "source": job.source,
        "total": job.total,
        "done": job.done,
        "progress": round(job.done / job.total, 4) if job.total else 1.0,
        "files_per_s": round(rate, 3) if rate else None,
        "eta_s": round(remaining / rate, 1) if rate and job.state in ACTIVE_JOB_STATES else None,
        "created_at": _iso(job.created_at),
        "started_at": _iso(started),
        "finished_at": _iso(finished),
    }
    if states is not None:
        view["queued"] = states.get("queued", 0)
        view["running"] = states.get("running", 0)
    if verdicts is not None:
        view["verdicts"] = {v: verdicts.get(v, 0) for v in ("confidential", "public", "unknown")}
        view["not_ok"] = not_ok or 0
    if job.error:
        view["error"] = job.error
    return view


# --- server-side roots ------------------------------------------------------------------------
def allowed_root(requested: str, allowed: Sequence[Path]) -> str:
    """The real path of ``requested`` if it lies inside an allowed root, else a 403 problem."""
    if not allowed:
        raise Problem(403, "server-side roots are not enabled on this service (MIDIAN_ALLOWED_ROOTS)")
    if not requested or "\x00" in requested or not os.path.isabs(requested):
        raise Problem(400, "a root must be an absolute path")
    real = os.path.realpath(requested)
    if not inside_allowed(real, allowed):
        raise Problem(403, "the root is outside the roots this service may scan")
    if not os.path.isdir(real):
        raise Problem(400, "the root is not a directory")
    return real


def inside_allowed(real: str, allowed: Sequence[Path]) -> bool:
    for root in allowed:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            return True
    return False


# --- the runner ---------------------------------------------------------------------------------
class JobRunner:
    """One thread that keeps the engine's session full of queued files and records results as they finish.

    Files are claimed only when the session has room (``capacity - in_flight``), so the queue stays in
    the database, and results are recorded in completion order: a slow file holds back nothing else.
    """

    def __init__(self, queue: JobQueue, engine: Engine, spool: Spool, policy: Policy, metrics: Metrics, *,
                 allowed_roots: Sequence[Path] = (), idle_s: float = 1.0, poll_s: float = 0.05) -> None:
        self.queue = queue
        self.engine = engine
        self.spool = spool
        self.policy = policy
        self.metrics = metrics
        self.allowed_roots = list(allowed_roots)
        self.idle_s = idle_s
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._grace = 0.0
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, int], Claimed] = {}
        self._abandoned = False
        self._requeued = False
        self._thread: threading.Thread | None = None

    def start(self) -> JobRunner:
        self._thread = threading.Thread(target=self._main, name="midian-jobs", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """New work arrived (or a file finished): look now instead of at the next poll."""
        self._wake.set()

    def stop(self, grace: float) -> bool:
        """Stop claiming; let files in flight finish for up to ``grace`` seconds, then re-queue the rest.

        Returns True when nothing was left in flight; False when files were re-queued (the caller then
        stops the workers instead of waiting for them).
        """
        self._grace = grace
        self._stopping.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(grace + 10)
        if self._thread.is_alive():  # stuck (database away?): give up on what is in flight
            with self._lock:
                self._abandoned = True
                keys = list(self._in_flight)
            self._safely(lambda: self.queue.requeue(keys))
            return False
        return not self._requeued

    def _main(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.engine.open() as session:
                    if hasattr(session, "on_done"):
                        session.on_done = self.wake
                    self._serve(session)
                    return
            except Exception:  # the engine failed (cluster away...): put its files back and try again
                log.exception("the job engine failed; its files in flight are re-queued")
                with self._lock:
                    keys = list(self._in_flight)
                    self._in_flight.clear()
                self._safely(lambda keys=keys: self.queue.requeue(keys))  # not the files' fault
                self._stopping.wait(2.0)

    def _serve(self, session: EngineSession) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            claimed = self._fill(session)
            done = session.completed(wait=False)  # never block: a stop request must be seen at once
            for tag, result in done:
                self._record(self._in_flight[tag], result)  # type: ignore[index]
            if not claimed and not done:
                self._wake.wait(self.poll_s if session.in_flight else self.idle_s)
        self._drain(session)

    def _fill(self, session: EngineSession) -> int:
        room = session.capacity - session.in_flight
        if room <= 0:
            return 0
        try:
            batch = self.queue.claim(room)
        except Exception:  # database unavailable for a moment: try again shortly
            log.exception("claiming queued files failed")
            self._stopping.wait(2.0)
            return 0
        for file in batch:
            refusal = self._refusal(file)
            if refusal is not None:
                self._record(file, failed_result(file.name, refusal, file.sha256 or ""))
                continue
            with self._lock:
                self._in_flight[file.key] = file
            session.submit(file.scan_job(), file.key)
        return len(batch)

    def _drain(self, session: EngineSession) -> None:
        """On stop: record what finishes within the grace period, re-queue the rest."""
        deadline = time.monotonic() + self._grace
        while session.in_flight and time.monotonic() < deadline:
            done = session.completed(wait=False)
            for tag, result in done:
                self._record(self._in_flight[tag], result)  # type: ignore[index]
            if not done:
                self._wake.wait(min(self.poll_s, max(0.0, deadline - time.monotonic())))
                self._wake.clear()
        with self._lock:
            keys = list(self._in_flight)
            self._abandoned = True
        if keys:
            requeued = self._safely(lambda: self.queue.requeue(keys)) or 0
            log.warning("shutdown: %d file(s) in flight re-queued for the next start", requeued)
            self._requeued = True

    def _refusal(self, file: Claimed) -> MidianError | None:
        if file.attempts > MAX_ATTEMPTS:
            return ServiceInterrupted(f"the service stopped {MAX_ATTEMPTS} times while scanning this file; "
                                      "it was not tried again — scan it on its own to see what fails")
        if not file.spooled and not inside_allowed(os.path.realpath(file.path), self.allowed_roots):
            return OutsideAllowedRoots("the file now resolves outside the allowed roots and was not read")
        return None

    def _record(self, file: Claimed, result: ScanResult) -> None:
        result = mask(result, self.policy)
        with self._lock:
            if self._abandoned:
                return
            outcome = self._safely(lambda: self.queue.record(file, result))
            self._in_flight.pop(file.key, None)
        if outcome is None:  # not recorded: keep the upload, the file is re-queued at the next start
            return
        if file.spooled:
            self.spool.discard(file.path)
        recorded, finished = outcome
        if recorded:
            self.metrics.scanned("job", result)
        if finished:
            self.spool.discard_dir(self.spool.job_dir(file.job_id))

    def _safely(self, action):  # type: ignore[no-untyped-def]
        """Run a database write, retrying briefly when the database is busy or away."""
        for attempt in range(5):
            try:
                return action()
            except OperationalError:
                log.warning("database write failed (attempt %d); retrying", attempt + 1, exc_info=True)
                time.sleep(0.2 * 2**attempt)
        log.error("database write failed 5 times; the file stays in flight and is re-queued at the next start")
        return None
