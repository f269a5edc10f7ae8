"""How the service gets files scanned: a warm worker pool, the batch engine, and masking.

The service keeps one pool of scanner worker processes open for its whole life
(:meth:`scanner.engine.LocalEngine.pool`): each worker loads the model once, a worker that crashes or
times out is replaced, and its file gets a typed non-ok result. Synchronous ``/v1/scan`` calls submit
straight to it. Batch jobs go through :func:`engine_for`: the same warm pool behind the engines'
session interface (:class:`scanner.engine.EngineSession`: submit with a tag, collect in completion
order), or :class:`scanner.engine.DaskEngine` when a scheduler address is set (``MIDIAN_SCHEDULER``).

Every result the service stores or returns first goes through :func:`mask`: finding text of the
categories listed in the policy's ``mask.categories`` is replaced by asterisks of the same length (so
offsets still line up), and their evidence keeps its kind and description but not the quoted text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from scanner.data import Finding, ScanResult
from scanner.engine import DaskEngine, Engine, LocalEngine, ScanJob, ScannerConfig, ordered
from scanner.policy import Policy
from scanner.sandbox import WorkerPool
from scanner.scan import failed_result
from scanner.settings import Settings

log = logging.getLogger(__name__)

MASK_CHAR = "*"


def _failed(job: ScanJob, exc: BaseException) -> ScanResult:
    return failed_result(job.display, exc, job.sha256 or "")


class ScanPool:
    """The service's warm pool of scanner workers.

    A pebble pool declares itself broken when a worker dies while no file is running (an idle worker
    killed by the OS, say): every later submission fails. The service cannot stop scanning for that,
    so a broken pool is replaced by a new one, and files it aborted without having started them are
    submitted again once.
    """

    def __init__(self, config: ScannerConfig, workers: int | None = None) -> None:
        self.config = config
        self.workers = workers or config.settings.worker_count()
        self._pool: WorkerPool[ScanJob, ScanResult] | None = None
        self._lock = threading.Lock()
        self._closing = False
        self.ready = False

    def start(self) -> ScanPool:
        """Start the workers now (they fork from the calling thread) and load their scanners in the background."""
        self._pool, probes = self._new_pool()
        threading.Thread(target=self._await_ready, args=(probes,), name="midian-warm-up", daemon=True).start()
        return self

    def _new_pool(self) -> tuple[WorkerPool[ScanJob, ScanResult], list[Future[ScanResult]]]:
        pool = LocalEngine(self.config, self.workers).pool()
        probe = ScanJob(path="warm-up.txt", display="warm-up.txt", data=b"warm-up")
        return pool, [pool.submit(probe) for _ in range(self.workers)]  # one per worker: each loads its scanner

    def _await_ready(self, probes: list[Future[ScanResult]], timeout: float = 300.0) -> None:
        try:
            self.ready = all(f.result(timeout=timeout).status == "ok" for f in probes)
        except Exception:  # a worker that cannot load the model: not ready, and the log says why
            log.exception("the scanner workers failed to start")
            self.ready = False

    def submit(self, job: ScanJob) -> Future[ScanResult]:
        """Schedule ``job`` (on a new pool if the current one broke); read it with :meth:`outcome`."""
        pool = self._current()
        try:
            future = pool.submit(job)
        except RuntimeError:  # pebble: "Unexpected error within the Pool" / "The Pool is not active"
            if self._closing:
                raise
            self._replace(pool)
            pool = self._current()
            future = pool.submit(job)
        future.midian_pool = pool  # type: ignore[attr-defined]  # which pool to replace if it breaks
        return future

    def outcome(self, job: ScanJob, future: Future[ScanResult]) -> ScanResult | None:
        """The result of a finished future: the scan or a typed failure (crashed worker, timeout); None
        when a broken pool aborted the job before it ran (submit it again)."""
        with contextlib.suppress(concurrent.futures.CancelledError):
            if isinstance(future.exception(), BrokenProcessPool) and not self._closing:
                self._replace(getattr(future, "midian_pool", None))
                return None
        return self._current().collect(job, future, _failed)

    async def scan(self, job: ScanJob) -> ScanResult:
        """Scan one job in a worker without blocking the event loop."""
        for _ in range(2):
            future = self.submit(job)
            try:
                await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                future.cancel()
                raise
            except Exception:  # explained by outcome()
                pass
            result = self.outcome(job, future)
            if result is not None:
                return result
        return _failed(job, BrokenProcessPool("the worker pool broke twice while this file waited; retry it"))

    def _current(self) -> WorkerPool[ScanJob, ScanResult]:
        assert self._pool is not None, "pool not started"
        return self._pool

    def _replace(self, broken: WorkerPool[ScanJob, ScanResult] | None) -> None:
        """Swap in a new pool unless ``broken`` was already replaced."""
        with self._lock:
            if self._closing or broken is None or self._pool is not broken:
                return
            old, (self._pool, _) = self._pool, self._new_pool()
        log.error("the worker pool broke (a worker died while idle?); started a new one")
        threading.Thread(target=old.stop, name="midian-pool-stop", daemon=True).start()

    def recycle(self) -> None:
        """Replace the workers (after the registry changed); work in flight finishes on the old ones."""
        with self._lock:
            old, (self._pool, _) = self._pool, self._new_pool()
        if old is not None:
            threading.Thread(target=old.close, name="midian-pool-close", daemon=True).start()

    def close(self) -> None:
        self._closing = True
        if self._pool is not None:
            self._pool.close()

    def stop(self) -> None:
        """Stop at once, abandoning work in flight (its files are re-queued by the caller)."""
        self._closing = True
        if self._pool is not None:
            self._pool.stop()


class PoolSession:
    """An :class:`~scanner.engine.EngineSession` over the warm pool (the pool outlives the session)."""

    def __init__(self, pool: ScanPool, on_done: Callable[[], None] | None = None) -> None:
        self.pool = pool
        self.capacity = 2 * pool.workers
        self.on_done = on_done  # called from a pool thread when a file finishes (the runner wakes up)
        self._futures: dict[Future[ScanResult], tuple[ScanJob, Hashable]] = {}

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def submit(self, job: ScanJob, tag: Hashable) -> None:
        future = self.pool.submit(job)
        self._futures[future] = (job, tag)
        if self.on_done is not None:
            on_done = self.on_done
            future.add_done_callback(lambda _: on_done())

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        if not self._futures:
            return []
        finished, _ = concurrent.futures.wait(list(self._futures), timeout=None if wait else 0,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
        out = []
        for future in finished:
            job, tag = self._futures.pop(future)
            result = self.pool.outcome(job, future)
            if result is None:  # aborted by a broken pool before it ran: once more on the new one
                self.submit(job, tag)
            else:
                out.append((tag, result))
        return out


class PoolEngine:
    """The warm pool as an :class:`~scanner.engine.Engine` (``run`` in input order, or an open session)."""

    def __init__(self, pool: ScanPool) -> None:
        self.pool = pool

    def run(self, jobs: Iterable[ScanJob]) -> Iterator[ScanResult]:
        with self.open() as session:
            yield from ordered(session, jobs)

    @contextlib.contextmanager
    def open(self) -> Iterator[PoolSession]:
        yield PoolSession(self.pool)


def engine_for(settings: Settings, config: ScannerConfig, pool: ScanPool) -> Engine:
    """The engine that runs batch jobs: the Dask cluster at ``settings.scheduler``, else the warm pool."""
    if settings.scheduler:
        return DaskEngine(config, scheduler=settings.scheduler)
    return PoolEngine(pool)


def mask(result: ScanResult, policy: Policy) -> ScanResult:
    """``result`` with the finding text of the policy's masked categories hidden."""
    hidden = set(policy.mask.categories)
    if not hidden or not any(f.category in hidden for f in result.findings):
        return result
    findings = tuple(_masked(f) if f.category in hidden else f for f in result.findings)
    masked = sorted({f.category for f in result.findings if f.category in hidden})
    note = f"finding text of {', '.join(masked)} is masked by the policy"
    return replace(result, findings=findings, warnings=(*result.warnings, note))


def _masked(finding: Finding) -> Finding:
    text = "".join(c if c.isspace() else MASK_CHAR for c in finding.text)
    # Evidence details quote what matched after a colon ("pay figure (月薪): 月薪35000元"): keep the description.
    evidence = tuple(replace(e, detail=e.detail.split(": ", 1)[0]) if ": " in e.detail else e
                     for e in finding.evidence)
    return replace(finding, text=text, evidence=evidence)
