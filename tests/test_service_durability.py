"""Jobs survive the service: SIGKILL mid-job, SIGTERM mid-job, and a worker that dies under a file.

One data directory for the module; each test starts from a running service and leaves one running
(restarting it on the same data directory when the test kills it).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _service import Server, all_results, make_key, wait_for_job

PARAGRAPH = ("第{i}号工艺文件：烧结温度{t}℃，保温4小时，升温速率5℃/min，氧化锆粉体配比为ZrO2 94.5%、Y2O3 5.5%。"
             "客户华东精密的单价最低放到{p}元，再低就不做了，咱们成本在7,400左右。本文件仅供内部使用。\n")


def document(i: int, paragraphs: int = 6) -> bytes:
    return "".join(PARAGRAPH.format(i=i, t=1300 + i, p=8000 + i * 7 + k) for k in range(paragraphs)).encode()


class Holder:
    """The module's current server (tests replace it when they kill it)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.key = make_key(data, "durable", "scan")
        self.server = self.start()

    def start(self) -> Server:
        # grace 0: SIGTERM re-queues whatever is in flight at once, so the test sees that path
        return Server(self.data, {"MIDIAN_SHUTDOWN_GRACE_S": "0"}).start()

    def client(self) -> httpx.Client:
        return self.server.client(self.key)

    def file_states(self, job: str) -> dict[str, int]:
        with sqlite3.connect(self.data / "midian.db") as conn:
            return dict(conn.execute("SELECT state, count(*) FROM job_files WHERE job_id = ? GROUP BY state", (job,)).fetchall())


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Holder]:
    data = tmp_path_factory.mktemp("durable") / "data"
    data.mkdir()
    h = Holder(data)
    yield h
    h.server.stop()


def submit(client: httpx.Client, docs: dict[str, bytes]) -> str:
    response = client.post("/v1/jobs", files=[("files", (name, data)) for name, data in docs.items()])
    assert response.status_code == 202, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


def wait_until_partly_done(client: httpx.Client, job: str, total: int, at_least: int) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = client.get(f"/v1/jobs/{job}").json()["done"]
        if done >= at_least:
            assert done < total, "the job finished before the service could be stopped in the middle of it"
            return int(done)
        time.sleep(0.02)
    raise AssertionError("the job made no progress")


def assert_exactly_once(client: httpx.Client, job: str, docs: dict[str, bytes]) -> None:
    view = wait_for_job(client, job)
    assert (view["state"], view["done"], view["total"]) == ("done", len(docs), len(docs))
    items = all_results(client, job, limit=37)
    assert [i["path"] for i in items] == list(docs)  # every file, once, in order
    assert all(i["status"] == "ok" for i in items), [i for i in items if i["status"] != "ok"][:1]
    assert [i["sha256"] for i in items] == [hashlib.sha256(d).hexdigest() for d in docs.values()]


def test_sigkill_in_the_middle_of_a_200_file_job(holder: Holder) -> None:
    docs = {f"doc{i:03d}.txt": document(i) for i in range(200)}
    with holder.client() as c:
        job = submit(c, docs)
        done_at_kill = wait_until_partly_done(c, job, 200, at_least=20)
    holder.server.kill()
    states = holder.file_states(job)
    assert states.get("done", 0) >= done_at_kill and sum(states.values()) == 200
    holder.server = holder.start()
    with holder.client() as c:
        assert_exactly_once(c, job, docs)
    assert not (holder.data / "spool" / "jobs" / job).exists()


def test_sigterm_requeues_work_in_flight_and_the_next_start_finishes_it(holder: Holder) -> None:
    docs = {f"term{i:03d}.txt": document(i) for i in range(150)}
    with holder.client() as c:
        job = submit(c, docs)
        wait_until_partly_done(c, job, 150, at_least=8)
    assert holder.server.stop() in (0, -signal.SIGTERM)
    states = holder.file_states(job)
    assert "running" not in states and 0 < states.get("done", 0) < 150, states  # finished or back in the queue
    holder.server = holder.start()
    with holder.client() as c:
        assert_exactly_once(c, job, docs)
    with sqlite3.connect(holder.data / "midian.db") as conn:
        assert conn.execute("SELECT max(attempts) FROM job_files WHERE job_id = ?", (job,)).fetchone()[0] == 1


def test_a_crashed_worker_fails_its_file_and_the_job_goes_on(holder: Holder) -> None:
    big = document(0, paragraphs=20_000)  # several seconds of scanning
    docs = {"s1.txt": document(1), "s2.txt": document(2), "s3.txt": document(3), "big.txt": big,
            "s4.txt": document(4), "s5.txt": document(5)}
    with holder.client() as c:
        job = submit(c, docs)
        deadline = time.monotonic() + 60
        while (view := c.get(f"/v1/jobs/{job}").json())["done"] < 3 or view["running"] < 1:
            assert time.monotonic() < deadline, view
            time.sleep(0.02)
        time.sleep(0.3)  # the big file is now the only one in flight
        for pid in holder.server.worker_pids():
            os.kill(pid, signal.SIGKILL)
        view = wait_for_job(c, job)
        items = {i["path"]: i for i in all_results(c, job)}
        assert view["state"] == "done" and list(items) == list(docs)
        assert items["big.txt"]["status"] == "error" and items["big.txt"]["verdict"] == "unknown"
        assert items["big.txt"]["error"]["type"] == "WorkerCrashed"
        assert all(items[n]["status"] == "ok" for n in docs if n != "big.txt"), [(n, i["status"], i["error"]) for n, i in items.items() if i["status"] != "ok"][1:]
        assert c.post("/v1/scan", json={"text": "测试"}).json()["status"] == "ok"  # the pool replaced its workers
