"""Worker processes for work that may hang, leak or crash in native code.

Parsers of hostile files fail in ways Python cannot catch: an endless loop inside a C library, a
segfault, memory that grows without bound. :class:`WorkerPool` runs each item in a pebble worker
process with a wall-clock timeout and an address-space ceiling; a worker that times out or dies is
replaced, the item gets a typed failure from ``on_failure``, and the batch goes on. Results come
back in input order while at most ``2 × workers`` items are in flight, so memory stays bounded
whatever the number of inputs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Generic, TypeVar

from pebble import ProcessExpired, ProcessPool

from .errors import ExtractionError, ExtractionTimeout, LimitExceededError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MiB = 1024 * 1024


class WorkerCrashed(ExtractionError):
    """The worker process handling the file died (native crash or killed by the OS)."""

    status = "error"


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * MiB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform, or a lower hard limit: keep it
        log.debug("could not set a memory ceiling of %d MiB", memory_mb)


def _initialise(memory_mb: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    # Workers share cores with each other: one thread each for numeric libraries.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if memory_mb:
        _limit_memory(memory_mb)
    if initializer is not None:
        initializer(*initargs)


def _describe(exc: BaseException, timeout: float) -> BaseException:
    if isinstance(exc, FutureTimeout | TimeoutError):
        return ExtractionTimeout(
            f"the file took longer than {timeout:g} s and its worker was stopped; raise MIDIAN_FILE_TIMEOUT_S to allow more time"
        )
    if isinstance(exc, ProcessExpired):
        return WorkerCrashed(f"the worker process died while reading the file (exit code {exc.exitcode}); the file is likely malformed")
    if isinstance(exc, MemoryError):
        return LimitExceededError("reading the file needed more memory than the worker's ceiling; raise MIDIAN_WORKER_MEMORY_MB")
    return exc


class WorkerPool(Generic[T, R]):
    """Apply ``fn`` to items in isolated worker processes, in input order.

    Args:
        fn: a picklable top-level function of one item.
        workers: number of processes (at least 1).
        timeout: seconds per item before its worker is killed and replaced.
        memory_mb: address-space ceiling of each worker (0: none).
        max_tasks: items per worker before it is replaced (bounds slow leaks).
        initializer: called once in each new worker (load models here), with ``initargs``.
    """

    def __init__(
        self,
        fn: Callable[[T], R],
        *,
        workers: int,
        timeout: float,
        memory_mb: int = 0,
        max_tasks: int = 0,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.fn = fn
        self.workers = max(1, workers)
        self.timeout = timeout
        self._pool = ProcessPool(
            max_workers=self.workers,
            max_tasks=max_tasks,
            initializer=_initialise,
            initargs=(memory_mb, initializer, initargs),
            # fork: workers start from the already-imported parent (no re-import); the parent loads no
            # models and runs no native threads before the pool starts
            context=multiprocessing.get_context("fork"),
        )

    def __enter__(self) -> WorkerPool[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def stop(self) -> None:
        """Stop at once, abandoning work in flight."""
        self._pool.stop()
        self._pool.join()

    def submit(self, item: T) -> Future[R]:
        """Schedule one item and return its future; read it with :meth:`collect` (callers that reorder)."""
        return self._pool.schedule(self.fn, args=(item,), timeout=self.timeout)  # type: ignore[no-any-return]

    def collect(self, item: T, future: Future[R], on_failure: Callable[[T, BaseException], R]) -> R:
        """The result of a future from :meth:`submit`, or ``on_failure(item, error)`` if the item failed."""
        return self._collect(item, future, on_failure)

    def map(self, items: Iterable[T], on_failure: Callable[[T, BaseException], R]) -> Iterator[R]:
        """Results of ``fn`` over ``items`` in input order; a failed item yields ``on_failure(item, error)``."""
        in_flight: deque[tuple[T, Any]] = deque()
        limit = 2 * self.workers
        for item in items:
            in_flight.append((item, self._pool.schedule(self.fn, args=(item,), timeout=self.timeout)))
            while len(in_flight) >= limit:
                yield self._collect(*in_flight.popleft(), on_failure)
        while in_flight:
            yield self._collect(*in_flight.popleft(), on_failure)

    def _collect(self, item: T, future: Any, on_failure: Callable[[T, BaseException], R]) -> R:
        try:
            return future.result()  # type: ignore[no-any-return]
        except Exception as exc:  # the item failed in its worker: report it and go on
            return on_failure(item, _describe(exc, self.timeout))
