"""The durable job queue and its runner, on SQLite and on a real PostgreSQL server.

PostgreSQL tests start a throwaway cluster from the system's packages (``tests/_service.py``) and
skip, saying why, when that is impossible.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from _service import Server, all_results, create_database, make_key, postgres_cluster, wait_for_job

from scanner.data import ScanResult
from scanner.engine import InlineEngine, ScannerConfig
from scanner.policy import load_policy
from scanner.settings import Settings
from service.db import Database, JobFile, Result
from service.jobs import MAX_ATTEMPTS, JobQueue, JobRunner, NewFile
from service.metrics import Metrics
from service.spool import Spool


@pytest.fixture(scope="module")
def pg_admin_url() -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_cluster())
        except RuntimeError as exc:
            pytest.skip(f"no PostgreSQL server for the tests: {exc}")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'midian.db'}"
    else:
        url = create_database(request.getfixturevalue("pg_admin_url"), f"t_{uuid.uuid4().hex[:12]}")
    database = Database(url).create_all()
    yield database
    database.dispose()


def files(n: int, spooled: bool = False) -> list[NewFile]:
    return [NewFile(f"doc{i}.txt", f"/nowhere/doc{i}.txt", spooled) for i in range(n)]


def result(name: str, verdict: str = "public", status: str = "ok", categories: tuple[str, ...] = ()) -> ScanResult:
    return ScanResult(name, "0" * 64, status=status, verdict=verdict, categories=categories)


def test_each_file_is_recorded_exactly_once(db: Database) -> None:
    queue = JobQueue(db)
    queue.create("a" * 32, "owner", "upload", files(5))
    claimed = queue.claim(3)
    assert [c.seq for c in claimed] == [0, 1, 2] and all(c.attempts == 1 for c in claimed)
    assert queue.status("a" * 32)["state"] == "running"
    assert queue.record(claimed[0], result("doc0.txt")) == (True, False)
    assert queue.record(claimed[0], result("doc0.txt")) == (False, False)  # a second result is ignored
    rest = claimed[1:] + queue.claim(10)
    outcomes = [queue.record(c, result(c.name)) for c in rest]
    assert outcomes[-1] == (True, True) and all(o == (True, False) for o in outcomes[:-1])
    view = queue.status("a" * 32)
    assert (view["state"], view["done"], view["total"], view["queued"], view["running"]) == ("done", 5, 5, 0, 0)
    with db.read() as s:
        assert s.query(Result).count() == 5


def test_files_left_running_by_a_dead_service_are_requeued(db: Database) -> None:
    queue = JobQueue(db)
    queue.create("b" * 32, "owner", "upload", files(4))
    first = queue.claim(2)
    restarted = JobQueue(db)  # a new service on the same database
    assert restarted.requeue_running() == 2
    again = restarted.claim(10)
    assert [(c.seq, c.attempts) for c in again] == [(0, 2), (1, 2), (2, 1), (3, 1)]
    assert restarted.record(first[0], result("doc0.txt"))[0]  # the old claim's result still lands once
    assert not restarted.record(again[0], result("doc0.txt"))[0]


def test_graceful_requeue_does_not_count_an_attempt(db: Database) -> None:
    queue = JobQueue(db)
    queue.create("c" * 32, "owner", "upload", files(2))
    claimed = queue.claim(2)
    assert queue.requeue([c.key for c in claimed]) == 2
    assert [c.attempts for c in queue.claim(2)] == [1, 1]


def test_results_pages_and_filters(db: Database) -> None:
    queue = JobQueue(db)
    job = "d" * 32
    queue.create(job, "owner", "upload", files(7))
    rows = [("confidential", "ok", ("business.pricing",)), ("public", "ok", ()), ("unknown", "corrupt", ()),
            ("confidential", "ok", ("business.pricing", "marking")), ("public", "ok", ()),
            ("confidential", "ok", ("technical.process",)), ("unknown", "encrypted", ())]
    for c, (verdict, status, cats) in zip(queue.claim(7), rows, strict=True):
        queue.record(c, result(c.name, verdict, status, cats))
    seen, after = [], -1
    while True:
        bodies, nxt = queue.results(job, after=after, limit=3)
        seen += bodies
        if nxt is None:
            break
        after = nxt
    assert len(seen) == 7 and len(set(seen)) == 7
    names = lambda bodies: [b.split('"path": "')[1].split('"')[0] for b in bodies]  # noqa: E731
    assert names(queue.results(job, after=-1, limit=100, verdict="confidential")[0]) == ["doc0.txt", "doc3.txt", "doc5.txt"]
    assert names(queue.results(job, after=-1, limit=100, category="business.pricing")[0]) == ["doc0.txt", "doc3.txt"]
    assert names(queue.results(job, after=-1, limit=100, status="encrypted")[0]) == ["doc6.txt"]
    assert queue.results(job, after=-1, limit=100, category="business.pricing%")[0] == []  # no wildcards
    view = queue.status(job)
    assert view["verdicts"] == {"confidential": 3, "public": 2, "unknown": 2} and view["not_ok"] == 2


def test_cancel_purges_files_and_results(db: Database) -> None:
    queue = JobQueue(db)
    job = "e" * 32
    queue.create(job, "owner", "upload", files(3))
    claimed = queue.claim(3)
    queue.record(claimed[0], result("doc0.txt"))
    assert queue.cancel(job)
    assert queue.status(job)["state"] == "cancelled"
    assert queue.record(claimed[1], result("doc1.txt")) == (False, False)  # in flight when cancelled: dropped
    with db.read() as s:
        assert s.query(Result).count() == 0 and s.query(JobFile).count() == 0
    assert queue.claim(10) == []


def test_concurrent_claims_never_share_a_file(db: Database) -> None:
    queue = JobQueue(db)
    queue.create("f" * 32, "owner", "upload", files(60))
    got: list[int] = []
    lock = threading.Lock()

    def claimer() -> None:
        while batch := queue.claim(3):
            with lock:
                got.extend(c.seq for c in batch)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(60))


def test_jobs_are_served_oldest_first_and_depth_counts_queued_files(db: Database) -> None:
    queue = JobQueue(db)
    queue.create("1" * 32, "owner", "upload", files(2))
    queue.create("2" * 32, "owner", "upload", files(2))
    assert queue.depth() == 4
    assert [c.job_id[0] for c in queue.claim(3)] == ["1", "1", "2"]
    assert queue.depth() == 1
    assert queue.active_jobs() == {"1" * 32, "2" * 32}


# --- the runner, with the real scanner in this process ---------------------------------------------


def test_runner_scans_spooled_files_masks_results_and_deletes_uploads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    db = Database(f"sqlite:///{tmp_path / 'midian.db'}").create_all()
    queue, spool = JobQueue(db), Spool(tmp_path / "spool").create()
    texts = ["员工张三，身份证号110101199003074514，月薪35000元。机密 严禁外传", "今天天气很好，我们去公园散步。"]
    new = []
    for i, text in enumerate(texts):
        path = spool.file_dir("a" * 32, i) / f"f{i}.txt"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        new.append(NewFile(f"f{i}.txt", str(path), True))
    queue.create("a" * 32, "owner", "upload", new)
    runner = JobRunner(queue, InlineEngine(ScannerConfig(settings)), spool, load_policy(), Metrics(), idle_s=0.05)
    runner.start()
    try:
        for _ in range(600):
            if queue.status("a" * 32)["state"] == "done":
                break
            threading.Event().wait(0.05)
    finally:
        assert runner.stop(30)
    bodies, _ = queue.results("a" * 32, after=-1, limit=10)
    assert len(bodies) == 2
    assert "110101199003074514" not in bodies[0] and "masked" in bodies[0]
    assert not spool.job_dir("a" * 32).exists()
    db.dispose()


def test_runner_gives_up_on_a_file_that_keeps_killing_the_service(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    db = Database(f"sqlite:///{tmp_path / 'midian.db'}").create_all()
    queue = JobQueue(db)
    queue.create("b" * 32, "owner", "roots", [NewFile("/srv/x.txt", "/srv/x.txt", False)])
    for _ in range(MAX_ATTEMPTS):  # claimed, then the service died, MAX_ATTEMPTS times
        queue.claim(1)
        queue.requeue_running()
    runner = JobRunner(queue, InlineEngine(ScannerConfig(settings)), Spool(tmp_path / "spool").create(), load_policy(),
                       Metrics(), allowed_roots=[Path("/srv")], idle_s=0.05).start()
    try:
        for _ in range(200):
            if queue.status("b" * 32)["state"] == "done":
                break
            threading.Event().wait(0.05)
    finally:
        runner.stop(10)
    [body] = queue.results("b" * 32, after=-1, limit=10)[0]
    assert '"status": "error"' in body and "ServiceInterrupted" in body
    db.dispose()


# --- the live service on PostgreSQL ------------------------------------------------------------------


def test_live_service_on_postgresql(tmp_path: Path, pg_admin_url: str) -> None:
    url = create_database(pg_admin_url, f"svc_{uuid.uuid4().hex[:12]}")
    data = tmp_path / "data"
    key = make_key(data, "pg", "scan")
    server = Server(data, {"MIDIAN_DATABASE_URL": url}).start()
    try:
        with server.client(key) as client:
            assert client.get("/readyz").json()["checks"] == {"model": True, "database": True}
            uploads = [("files", (f"n{i}.txt", f"第{i}号文件：烧结温度1350℃，保温4小时。".encode())) for i in range(6)]
            job = client.post("/v1/jobs", files=uploads).json()["id"]
            assert wait_for_job(client, job)["state"] == "done"
            items = all_results(client, job, limit=4)
            assert sorted(i["path"] for i in items) == sorted(f"n{i}.txt" for i in range(6))
            # New workers are forked while the service holds PostgreSQL connections: they must leave them alone.
            for pid in server.worker_pids():
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            again = client.post("/v1/jobs", files=uploads).json()["id"]
            assert wait_for_job(client, again)["state"] == "done"
            assert len(all_results(client, again)) == 6 and client.get("/readyz").status_code == 200
    finally:
        assert server.stop() in (0, -15)
    assert not (data / "midian.db").exists()  # everything went to PostgreSQL


def test_runner_on_a_dask_cluster_when_a_scheduler_is_set(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import dask
    from distributed import LocalCluster

    from service.scanning import engine_for

    db = Database(f"sqlite:///{tmp_path / 'midian.db'}").create_all()
    queue, spool = JobQueue(db), Spool(tmp_path / "spool").create()
    texts = ["单价最低放到8,650元，再低就不做了，咱们成本在7,400左右。", "今天天气很好。", "烧结温度1350℃，保温4小时。"]
    new = []
    for i, text in enumerate(texts):
        path = spool.file_dir("d" * 32, i) / f"f{i}.txt"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        new.append(NewFile(f"f{i}.txt", str(path), True))
    queue.create("d" * 32, "owner", "upload", new)
    with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        settings = Settings(data_dir=tmp_path / "data", scheduler=cluster.scheduler_address)
        engine = engine_for(settings, ScannerConfig(settings), pool=None)  # type: ignore[arg-type]
        assert type(engine).__name__ == "DaskEngine"
        runner = JobRunner(queue, engine, spool, load_policy(), Metrics(), idle_s=0.05).start()
        try:
            for _ in range(1200):
                if queue.status("d" * 32)["state"] == "done":
                    break
                time.sleep(0.05)
        finally:
            assert runner.stop(30)
    bodies, _ = queue.results("d" * 32, after=-1, limit=10)
    assert [json.loads(b)["path"] for b in bodies] == ["f0.txt", "f1.txt", "f2.txt"]
    assert all(json.loads(b)["status"] == "ok" for b in bodies)
    db.dispose()
