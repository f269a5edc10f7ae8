"""Engines run scans of many files: a local process pool by default, a Dask cluster on request.

Every engine takes :class:`ScanJob` items and yields :class:`~scanner.data.ScanResult` objects in
input order (``run``). Workers build their :class:`~scanner.scan.Scanner` once, from a picklable
:class:`ScannerConfig`, and keep it for all the files they scan. A file whose worker times out or
dies gets a typed non-ok result; the batch goes on.

Callers that need results as soon as they exist (the resumable batch runner, ``scanner.batch``)
``open()`` an :class:`EngineSession` instead: ``submit(job, tag)`` while ``in_flight < capacity``,
and ``completed(wait)`` hands back ``(tag, result)`` pairs in completion order. ``run`` on the Dask
engine is that session plus a reordering window (:func:`ordered`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import logging
import os
from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .data import ScanResult
from .sandbox import WorkerCrashed, WorkerPool
from .settings import Settings

log = logging.getLogger(__name__)

# scanner.model.DEFAULT_MODEL_DIR, without importing the model runtime (numpy, spaCy) into a parent
# that may have nothing to scan (tests/test_batch.py checks that both agree)
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

# Status of the internal result for a job whose file still has ``unless_sha256``: the batch runner
# replaces it with the stored result, so it never reaches a report.
UNCHANGED = "unchanged"


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

    def model_version(self) -> str:
        """The version in the model's manifest, read without loading the model (the parent stays light)."""
        directory = Path(self.model_dir or self.settings.model_dir or SHIPPED_MODEL_DIR)
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "unknown"  # the workers' Model.load() reports the real problem
        return str(manifest.get("version", "unknown"))


@dataclass(frozen=True)
class ScanJob:
    """One file to scan (``data`` set for standard input or uploaded bytes)."""

    path: str
    display: str
    password: str | None = None
    data: bytes | None = None
    sha256: str | None = None
    unless_sha256: str | None = None  # skip the scan when the file's content still has this SHA-256


_scanner = None  # the worker process's scanner, built once by the initializer
_scanner_config: ScannerConfig | None = None


def _init_worker(config: ScannerConfig) -> None:
    global _scanner, _scanner_config
    if _scanner is not None and _scanner_config == config:
        return  # this process already holds that scanner (inline engines opened again)
    _scanner = config.build()
    _scanner_config = config


def scan_job(job: ScanJob) -> ScanResult:
    """Scan one job in this process with the worker's scanner."""
    from dataclasses import replace

    from .scan import Target

    assert _scanner is not None, "worker not initialised"
    if job.unless_sha256 and job.data is None and _file_sha256(job.path) == job.unless_sha256:
        # touched but identical (mtime changed, same bytes): the stored result still holds
        return ScanResult(path=job.display, sha256=job.unless_sha256, status=UNCHANGED, verdict="unknown")
    target = Target(job.path if job.data is None else job.display, job.data, job.sha256)
    result = _scanner.scan(target, password=job.password)
    return replace(result, path=job.display)


def _file_sha256(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None  # the scan itself reports why the file cannot be read
    return digest.hexdigest()


def _failed(job: ScanJob, exc: BaseException) -> ScanResult:
    from .scan import failed_result

    return failed_result(job.display, exc, job.sha256 or "")


class EngineSession(Protocol):
    """An open engine that takes jobs one by one and returns results as they complete."""

    capacity: int  # jobs worth keeping in flight to keep every worker busy

    @property
    def in_flight(self) -> int: ...

    def submit(self, job: ScanJob, tag: Hashable) -> None:
        """Start scanning ``job``; its result comes back from :meth:`completed` with ``tag``."""

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        """Results finished since the last call; with ``wait``, block until at least one (if any in flight)."""


class Engine(Protocol):
    """What every engine offers: ``run`` in input order, or an open session in completion order."""

    def run(self, jobs: Iterable[ScanJob]) -> Iterator[ScanResult]: ...

    def open(self) -> contextlib.AbstractContextManager[EngineSession]: ...


def ordered(session: EngineSession, jobs: Iterable[ScanJob], window: int = 1024) -> Iterator[ScanResult]:
    """Results of ``jobs`` in input order from a session that completes them in any order.

    At most ``session.capacity`` jobs are in flight and at most ``window`` are submitted but not yet
    yielded: a slow file at the head holds back at most ``window`` finished results, so memory is
    bounded whatever the number of jobs.
    """
    pending: deque[int] = deque()
    done: dict[int, ScanResult] = {}
    for seq, job in enumerate(jobs):
        session.submit(job, seq)
        pending.append(seq)
        while session.in_flight >= session.capacity or len(pending) >= window:
            done.update(session.completed(wait=True))  # type: ignore[arg-type]
            while pending and pending[0] in done:
                yield done.pop(pending.popleft())
    while pending:
        done.update(session.completed(wait=True))  # type: ignore[arg-type]
        while pending and pending[0] in done:
            yield done.pop(pending.popleft())


class LocalSession:
    """An :class:`EngineSession` over this machine's sandboxed worker pool."""

    def __init__(self, pool: WorkerPool[ScanJob, ScanResult]) -> None:
        self.pool = pool
        self.capacity = 2 * pool.workers
        self._futures: dict[concurrent.futures.Future[ScanResult], tuple[ScanJob, Hashable]] = {}

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def submit(self, job: ScanJob, tag: Hashable) -> None:
        self._futures[self.pool.submit(job)] = (job, tag)

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        if not self._futures:
            return []
        finished, _ = concurrent.futures.wait(self._futures, timeout=None if wait else 0,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
        out = []
        for future in finished:
            job, tag = self._futures.pop(future)
            out.append((tag, self.pool.collect(job, future, _failed)))
        return out


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

    @contextlib.contextmanager
    def open(self) -> Iterator[LocalSession]:
        """A session over a fresh worker pool, closed (workers stopped) on exit."""
        pool = self.pool()
        try:
            yield LocalSession(pool)
        except BaseException:
            pool.stop()  # killed or failed: do not wait for work in flight
            raise
        pool.close()


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

    @contextlib.contextmanager
    def open(self) -> Iterator[InlineSession]:
        _init_worker(self.config)
        yield InlineSession()


class InlineSession:
    """An :class:`EngineSession` that scans each job in this process as it is submitted."""

    capacity = 1

    def __init__(self) -> None:
        self._done: list[tuple[Hashable, ScanResult]] = []

    @property
    def in_flight(self) -> int:
        return len(self._done)

    def submit(self, job: ScanJob, tag: Hashable) -> None:
        try:
            result = scan_job(job)
        except Exception as exc:  # keep going: one file's failure is its own result
            result = _failed(job, exc)
        self._done.append((tag, result))

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        done, self._done = self._done, []
        return done


# --- Dask --------------------------------------------------------------------------------------

DASK_PLUGIN = "midian-scanner"


def _dask_worker_plugin(config: ScannerConfig) -> Any:
    """The worker plugin that gives every Dask worker its scanner (built here: ``distributed`` is optional)."""
    import multiprocessing

    from distributed import WorkerPlugin

    class ScannerPlugin(WorkerPlugin):  # type: ignore[misc]
        """Loads the scanner once per Dask worker, inside Midian's sandbox when the worker allows it.

        Each Dask worker runs its files through a :class:`~scanner.sandbox.WorkerPool` of one process
        per worker thread: the same per-file timeout, memory ceiling and crash isolation as the local
        engine. A daemonic Dask worker (the default of ``distributed.worker.daemon``) may not start
        processes; it then scans in its own process, without the per-file timeout, and says so.
        """

        name = DASK_PLUGIN

        def __init__(self, config: ScannerConfig) -> None:
            self.config = config
            self.pool: WorkerPool[ScanJob, ScanResult] | None = None

        def setup(self, worker: Any) -> None:
            s = self.config.settings
            if multiprocessing.current_process().daemon:
                log.warning("Dask worker %s is daemonic: scanning without per-file timeouts or crash isolation; "
                            "start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False", worker.address)
                _init_worker(self.config)
                return
            self.pool = WorkerPool(scan_job, workers=worker.state.nthreads, timeout=s.file_timeout_s,
                                   memory_mb=s.worker_memory_mb, max_tasks=s.worker_max_tasks,
                                   initializer=_init_worker, initargs=(self.config,))

        def teardown(self, worker: Any) -> None:
            if self.pool is not None:
                self.pool.stop()

        def scan(self, job: ScanJob) -> ScanResult:
            if self.pool is None:
                try:
                    return scan_job(job)
                except Exception as exc:  # one file's failure is its own result
                    return _failed(job, exc)
            return self.pool.collect(job, self.pool.submit(job), _failed)

    return ScannerPlugin(config)


def _dask_scan(job: ScanJob) -> ScanResult:
    """The Dask task: scan one job with this worker's scanner (see ``ScannerPlugin``)."""
    from distributed import get_worker

    plugin: Any = get_worker().plugins[DASK_PLUGIN]
    result: ScanResult = plugin.scan(job)
    return result


class DaskSession:
    """An :class:`EngineSession` over a Dask client: futures stream back through ``as_completed``."""

    def __init__(self, client: Any, capacity: int, model_version: str) -> None:
        from distributed import as_completed

        self.client = client
        self.capacity = capacity
        self.model_version = model_version
        self._pending = as_completed(with_results=False)
        self._futures: dict[str, tuple[ScanJob, Hashable]] = {}

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def submit(self, job: ScanJob, tag: Hashable) -> None:
        if job.data is None:  # workers open the path on the mount they share; their cwd is not ours
            job = replace(job, path=os.path.abspath(job.path))
        future = self.client.submit(_dask_scan, job, pure=False)
        self._futures[future.key] = (job, tag)
        self._pending.add(future)

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        if not self._futures or not (wait or self._pending.has_ready()):
            return []
        out = []
        for future in self._pending.next_batch(block=True):
            job, tag = self._futures.pop(future.key)
            try:
                result = future.result()
            except Exception as exc:  # the task failed on the cluster (e.g. its worker died repeatedly)
                result = _failed(job, WorkerCrashed(
                    f"the Dask task for the file failed ({type(exc).__name__}: {exc}); its worker likely died reading it"))
            future.release()
            if result.model not in (None, self.model_version):
                result = _failed(job, WorkerCrashed(
                    f"a Dask worker scanned with model {result.model}, this client expects {self.model_version}; "
                    "install the same Midian version and model on every worker"))
            out.append((tag, result))
        return out


class DaskEngine:
    """Scan on a Dask distributed cluster (the ``dask`` extra).

    Args:
        config: the scanner every worker builds (its settings travel with it: limits are the client's).
        scheduler: address of a running scheduler (``tcp://host:8786``); None starts a ``LocalCluster``
            of ``workers`` single-threaded worker processes on this machine.
        workers: worker processes of the local cluster (default: one per core).

    Workers read files themselves from the path they all mount (jobs carry absolute paths, not bytes,
    except standard input). Results come back through ``as_completed`` with at most ``capacity`` (two
    per worker thread) futures in flight; ``run`` puts them back in input order.
    """

    def __init__(self, config: ScannerConfig, scheduler: str | None = None, workers: int | None = None) -> None:
        self.config = config
        self.scheduler = scheduler
        self.workers = workers or config.settings.worker_count()

    @contextlib.contextmanager
    def open(self) -> Iterator[DaskSession]:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            from .errors import UsageError

            raise UsageError("--engine dask needs the dask extra: pip install 'midian[dask]'") from exc
        if not log.isEnabledFor(logging.INFO):  # distributed logs every worker event at INFO; keep stderr for Midian
            logging.getLogger("distributed").setLevel(logging.WARNING)
        with contextlib.ExitStack() as stack:
            if self.scheduler:
                client = stack.enter_context(Client(self.scheduler))
            else:
                # non-daemonic workers may start Midian's sandbox processes (per-file timeouts)
                with dask.config.set({"distributed.worker.daemon": False}):
                    cluster = stack.enter_context(LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True,
                        dashboard_address=None, silence_logs=logging.ERROR))
                client = stack.enter_context(Client(cluster))
            client.register_plugin(_dask_worker_plugin(self.config), name=DASK_PLUGIN)
            threads = sum(client.nthreads().values()) or 1
            yield DaskSession(client, capacity=2 * threads, model_version=self.config.model_version())

    def run(self, jobs: Iterable[ScanJob]) -> Iterator[ScanResult]:
        with self.open() as session:
            yield from ordered(session, jobs)
