"""Engines run scans of many files: a local process pool by default, a Dask cluster on request.

Every engine takes :class:`ScanJob` items and yields :class:`~scanner.data.ScanResult` objects in
input order. Workers build their :class:`~scanner.scan.Scanner` once, from a picklable
:class:`ScannerConfig`, and keep it for all the files they scan. A file whose worker times out or
dies gets a typed non-ok result; the batch goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .data import ScanResult
from .sandbox import WorkerPool
from .settings import Settings


@dataclass(frozen=True)
class ScannerConfig:
    """Everything a worker needs to build the same scanner as the parent process."""

    settings: Settings
    policy_file: str | None = None
    model_dir: str | None = None
    registry_path: str | None = None  # None: no registry

    def build(self):  # type: ignore[no-untyped-def]
        from .policy import load_policy
        from .scan import Scanner

        registry = None
        if self.registry_path and os.path.exists(self.registry_path):
            from .registry import open_registry

            registry = open_registry(Path(self.registry_path), create=False)
        return Scanner(self.settings, load_policy(self.policy_file), self.model_dir, registry).load()


@dataclass(frozen=True)
class ScanJob:
    """One file to scan (``data`` set for standard input or uploaded bytes)."""

    path: str
    display: str
    password: str | None = None
    data: bytes | None = None
    sha256: str | None = None


_scanner = None  # the worker process's scanner, built once by the initializer


def _init_worker(config: ScannerConfig) -> None:
    global _scanner
    _scanner = config.build()


def scan_job(job: ScanJob) -> ScanResult:
    """Scan one job in this process with the worker's scanner."""
    from dataclasses import replace

    from .scan import Target

    assert _scanner is not None, "worker not initialised"
    target = Target(job.path if job.data is None else job.display, job.data, job.sha256)
    result = _scanner.scan(target, password=job.password)
    return replace(result, path=job.display)


def _failed(job: ScanJob, exc: BaseException) -> ScanResult:
    from .scan import failed_result

    return failed_result(job.display, exc, job.sha256 or "")


class LocalEngine:
    """A pool of worker processes on this machine."""

    def __init__(self, config: ScannerConfig, workers: int | None = None) -> None:
        self.config = config
        self.workers = workers or config.settings.worker_count()

    def pool(self) -> WorkerPool[ScanJob, ScanResult]:
        """A pool of this engine's scanner workers, for callers that keep one open (the service)."""
        s = self.config.settings
        return WorkerPool(scan_job, workers=self.workers, timeout=s.file_timeout_s, memory_mb=s.worker_memory_mb,
                          max_tasks=s.worker_max_tasks, initializer=_init_worker, initargs=(self.config,))

    def run(self, jobs: Iterable[ScanJob]) -> Iterator[ScanResult]:
        with self.pool() as pool:
            yield from pool.map(jobs, _failed)


class InlineEngine:
    """Scan in this process (tests, the service's synchronous path when isolation is off)."""

    def __init__(self, config: ScannerConfig) -> None:
        self.config = config

    def run(self, jobs: Iterable[ScanJob]) -> Iterator[ScanResult]:
        _init_worker(self.config)
        for job in jobs:
            try:
                yield scan_job(job)
            except Exception as exc:  # keep going: one file's failure is its own result
                yield _failed(job, exc)
