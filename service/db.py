"""The job and result store: SQLAlchemy 2 models and sessions, SQLite by default, PostgreSQL by URL.

Three tables. ``jobs``: one row per batch job. ``job_files``: one row per file of a job with its
state (``queued`` → ``running`` → ``done``), so a service killed at any moment knows what was in
flight. ``results``: one row per finished file, keyed by ``(job_id, seq)`` — the same key as its
file — so recording a result twice is impossible and a restarted service cannot duplicate one.

SQLite runs in WAL mode (readers do not block the writer) with a busy timeout, and write
transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of failing on a lock
upgrade. PostgreSQL claims files with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB_STATES = ("queued", "running")
FILE_STATES = ("queued", "running", "done")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)  # the API key id that created it
    state: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # upload | roots
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)  # results recorded, counted in the same transaction
    roots: Mapped[str | None] = mapped_column(Text, default=None)  # JSON list, for roots jobs
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class JobFile(Base):
    __tablename__ = "job_files"
    __table_args__ = (Index("ix_job_files_state", "state", "job_id", "seq"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # what results report as the path
    path: Mapped[str] = mapped_column(Text)  # what the worker opens: a spool file or a file under an allowed root
    spooled: Mapped[bool] = mapped_column(default=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (Index("ix_results_verdict", "job_id", "verdict", "seq"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    categories: Mapped[str] = mapped_column(Text)  # "|business.pricing|marking|": filterable with LIKE
    body: Mapped[str] = mapped_column(Text)  # the result object (midian.scan/1), masked by the policy
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Database:
    """An engine and two session factories: read (plain) and write (exclusive on SQLite)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            _sqlite_pragmas(self.engine)
        # Worker processes are forked from the service: they must never touch its pooled connections.
        engine = weakref.ref(self.engine)
        os.register_at_fork(after_in_child=lambda: _forget(engine()))
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(midian_write=True), expire_on_commit=False)

    def create_all(self) -> Database:
        Base.metadata.create_all(self.engine)
        return self

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._write() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means "not reachable" for /readyz
            return False

    def dispose(self) -> None:
        self.engine.dispose()


# In a forked worker, the parent's pooled connections are kept referenced and never used: letting them be
# garbage collected would make the driver close them (PostgreSQL: a Terminate message on the parent's socket).
_INHERITED: list[Any] = []


def _forget(engine: Engine | None) -> None:
    if engine is not None:
        _INHERITED.append(engine.pool)
        engine.dispose(close=False)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("midian_write") else "BEGIN")
