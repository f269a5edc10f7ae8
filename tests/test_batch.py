"""Incremental, resumable batch scans: skip what did not change, resume after SIGKILL, same results on Dask."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Hashable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO

from scanner.batch import BatchRun
from scanner.data import ScanResult
from scanner.engine import InlineEngine, ScanJob, ScannerConfig, ordered
from scanner.progress import Progress
from scanner.settings import Settings
from scanner.state import Fingerprint, StateDB, path_key

SECRET = ("机密 内部资料 注意保密\n"
          "B线HX-220外壳缩痕问题：注射压力分四段调整为 88/76/64/40 MPa，保压 6.5 s，模温前模 65 ℃、后模 58 ℃。\n"
          "客户华东精密年用量120000件，单价3.85元，最低可以给到3.60元，再低就不做了，咱们成本在3.10左右。\n")
PUBLIC = "中华人民共和国反不正当竞争法第九条规定，经营者不得实施下列侵犯商业秘密的行为。\n"
BID = "CONFIDENTIAL - INTERNAL ONLY\nOur bid for the metro project: we will quote 12.4M USD, our floor is 11.9M.\n"


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def essence(r: ScanResult) -> tuple:
    """What must not depend on the engine: verdicts, scores, findings (not timings)."""
    return (Path(r.path).name, r.status, r.verdict, round(r.score, 4), r.level, r.categories,
            [(f.category, round(f.score, 4), f.text, f.location.to_json(f.block, f.start, f.end)) for f in r.findings])


def midian(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> ScannerConfig:
    return ScannerConfig(settings=Settings(data_dir=tmp_path_factory.mktemp("data"), workers=2))


FP = Fingerprint("0.1.0", "model", "policy")


def batch(db: StateDB, engine: object, paths: list[str], fingerprint: Fingerprint = FP, **kw: object) -> tuple[list[ScanResult], dict]:
    out: list[ScanResult] = []
    stats = BatchRun(db, engine, fingerprint, out.append, **kw).run(paths)  # type: ignore[arg-type]
    return out, stats.as_dict()


def test_model_version_is_read_from_the_shipped_manifest_without_loading_it(config: ScannerConfig) -> None:
    from scanner.engine import SHIPPED_MODEL_DIR
    from scanner.model import DEFAULT_MODEL_DIR, Model

    assert SHIPPED_MODEL_DIR == DEFAULT_MODEL_DIR
    assert config.model_version() == Model(DEFAULT_MODEL_DIR).load().version


# --- ordering and progress (no scanning) ---------------------------------------------------------

class ReversingSession:
    """Completes every job only when asked to wait, last submitted first."""

    capacity = 3

    def __init__(self) -> None:
        self.jobs: list[tuple[Hashable, ScanJob]] = []
        self.most_in_flight = 0

    @property
    def in_flight(self) -> int:
        return len(self.jobs)

    def submit(self, job: ScanJob, tag: Hashable) -> None:
        self.jobs.append((tag, job))
        self.most_in_flight = max(self.most_in_flight, len(self.jobs))

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        if not wait or not self.jobs:
            return []
        tag, job = self.jobs.pop()
        return [(tag, ScanResult(path=job.display, sha256=""))]


def test_ordered_restores_input_order_with_bounded_flight() -> None:
    session = ReversingSession()
    jobs = [ScanJob(path=f"{i}", display=f"{i}") for i in range(10)]
    assert [r.path for r in ordered(session, jobs)] == [str(i) for i in range(10)]
    assert session.most_in_flight <= session.capacity


class StuckHeadSession(ReversingSession):
    """Completes everything at once except job 0, which finishes only when nothing else is left."""

    capacity = 100

    def completed(self, wait: bool) -> list[tuple[Hashable, ScanResult]]:
        others = [(tag, job) for tag, job in self.jobs if tag != 0]
        finished = others or self.jobs
        self.jobs = [j for j in self.jobs if j not in finished]
        return [(tag, ScanResult(path=job.display, sha256="")) for tag, job in finished]


def test_ordered_bounds_results_held_back_by_a_slow_head() -> None:
    session = StuckHeadSession()
    submitted = []
    jobs = (submitted.append(i) or ScanJob(path=f"{i}", display=f"{i}") for i in range(50))  # type: ignore[func-returns-value]
    results = ordered(session, jobs, window=8)
    assert next(results).path == "0"
    assert len(submitted) <= 8  # the head was waited for once the window was full
    assert [r.path for r in results] == [str(i) for i in range(1, 50)]


def test_progress_lines_have_rates_and_eta() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(stream=stream, interval=5, clock=lambda: now[0])
    progress.set_total(4)
    for i, reused in enumerate([False, True, False]):
        now[0] = 2.0 * (i + 1)
        progress.update(ScanResult(path="x", sha256="", verdict="confidential" if i == 0 else "public", size=3_000_000),
                        reused=reused)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1  # one line per interval, not per file
    assert lines[0] == "midian: 3/4 files, 0.3 files/s, 1.0 MB/s, 1 unchanged, ETA 2 s; 1 confidential, 0 not scanned"
    progress.close()
    assert "done: 3 files" in stream.getvalue().splitlines()[-1]


def test_progress_estimate_gives_way_to_a_real_count() -> None:
    progress = Progress(stream=io.StringIO(), enabled=False)
    progress.set_total(100, estimated=True)
    assert "/~100 files" in progress.line()
    progress.set_total(120)
    progress.set_total(100, estimated=True)  # too late: the count is known
    assert "/120 files" in progress.line()


# --- incremental runs (in this process) ----------------------------------------------------------

def test_incremental_rescans_only_what_changed(tmp_path: Path, config: ScannerConfig) -> None:
    tree = make_tree(tmp_path / "share", {"a.txt": SECRET, "b.txt": PUBLIC, "sub/c.txt": BID, "d.txt": PUBLIC,
                                          "g.txt": "abcdef\n"})
    engine = InlineEngine(config)
    with StateDB(tmp_path / "s.db") as db:
        first, stats = batch(db, engine, [str(tree)])
        assert stats["scanned"] == 5 and stats["reused"] == 0
        assert [Path(r.path).name for r in first] == ["a.txt", "b.txt", "d.txt", "g.txt", "c.txt"]

        again, stats = batch(db, engine, [str(tree)])
        assert (stats["scanned"], stats["reused"]) == (0, 5)
        assert [r.to_json() for r in again] == [r.to_json() for r in first]  # re-emitted as stored

        (tree / "b.txt").write_text(PUBLIC + SECRET, encoding="utf-8")  # changed, other size
        st = os.stat(tree / "sub" / "c.txt")
        os.utime(tree / "sub" / "c.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))  # touched, same bytes
        (tree / "g.txt").write_text("ghijkl\n", encoding="utf-8")  # same size, other bytes
        os.utime(tree / "g.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 7 * 10**9))
        (tree / "d.txt").unlink()
        (tree / "e.txt").write_text(BID, encoding="utf-8")
        third, stats = batch(db, engine, [str(tree)])
        assert {k: stats[k] for k in ("files", "scanned", "reused", "touched", "removed")} == \
            {"files": 5, "scanned": 3, "reused": 1, "touched": 1, "removed": 1}
        assert [Path(r.path).name for r in third] == ["a.txt", "b.txt", "e.txt", "g.txt", "c.txt"]
        assert third[1].verdict == "confidential"
        counts = {Path(k).name: v for k, v in db.scan_counts().items()}
        assert counts == {"a.txt": 1, "b.txt": 2, "c.txt": 1, "d.txt": 1, "e.txt": 1, "g.txt": 2}
        assert [Path(r.result.path).name for r in db.rows() if r.removed_at] == ["d.txt"]

        _, stats = batch(db, engine, [str(tree)], fingerprint=Fingerprint("0.1.0", "model", "other policy"))
        assert stats["scanned"] == 5  # another policy: nothing is reused
        _, stats = batch(db, engine, [str(tree)], fingerprint=Fingerprint("0.1.0", "model", "other policy"), rescan=True)
        assert stats["scanned"] == 5
        assert [r["status"] for r in db.runs()] == ["done"] * 5


def test_errors_are_retried_other_statuses_kept(tmp_path: Path, config: ScannerConfig) -> None:
    tree = make_tree(tmp_path / "t", {"a.txt": PUBLIC, "b.txt": PUBLIC})
    with StateDB(tmp_path / "s.db") as db:
        first, _ = batch(db, InlineEngine(config), [str(tree)])
        run = db.runs()[-1]["id"]
        for r, status in zip(first, ("error", "corrupt"), strict=True):  # as if these had failed last time
            st = os.stat(r.path)
            db.record(path_key(r.path), replace(r, status=status, verdict="unknown"), st.st_size, st.st_mtime_ns, run, FP)
        second, stats = batch(db, InlineEngine(config), [str(tree)])
    assert (stats["scanned"], stats["reused"]) == (1, 1)
    assert [r.status for r in second] == ["ok", "corrupt"]


def test_bounded_window_keeps_order(tmp_path: Path, config: ScannerConfig) -> None:
    tree = make_tree(tmp_path / "t", {f"{i:02d}.txt": PUBLIC if i % 3 else BID for i in range(12)})
    with StateDB(tmp_path / "s.db") as db:
        first, _ = batch(db, InlineEngine(config), [str(tree)], window=2)
        (tree / "05.txt").write_text(SECRET, encoding="utf-8")
        second, stats = batch(db, InlineEngine(config), [str(tree)], window=2)
    assert [Path(r.path).name for r in second] == [f"{i:02d}.txt" for i in range(12)] == [Path(r.path).name for r in first]
    assert stats["scanned"] == 1


# --- the command line ----------------------------------------------------------------------------

def test_cli_state_output_is_complete_and_ordered_on_every_run(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "share", {"a.txt": SECRET, "b.txt": PUBLIC, "z/c.txt": BID})
    db = str(tmp_path / "scan.db")
    args = ("scan", str(tree), "--state", db, "--workers", "2", "--no-registry")
    first = midian(*args)
    assert first.returncode == 1, first.stderr  # confidential files found
    second = midian(*args)
    assert second.returncode == 1, second.stderr
    assert "0 scanned, 3 unchanged" in second.stderr
    assert second.stdout == first.stdout  # unchanged files are re-emitted: the output stays complete
    assert [Path(json.loads(line)["path"]).name for line in first.stdout.splitlines()] == ["a.txt", "b.txt", "c.txt"]
    report = midian("report", db, "--format", "jsonl")
    assert report.returncode == 0
    rows = [json.loads(line) for line in report.stdout.splitlines()]
    assert [r["verdict"] for r in rows] == [json.loads(line)["verdict"] for line in first.stdout.splitlines()]
    assert all(r["removed_at"] is None and r["scanned_at"] for r in rows)


@pytest.mark.parametrize("args", [("--rescan",), ("--engine", "local", "--scheduler", "tcp://127.0.0.1:1")])
def test_cli_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "a.txt").write_text(PUBLIC, encoding="utf-8")
    result = midian("scan", str(tmp_path / "a.txt"), *args)
    assert result.returncode == 2 and "midian: error:" in result.stderr


def test_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    names = [f"d{i // 20}/f{i:03d}.txt" for i in range(80)]
    tree = make_tree(tmp_path / "share", {n: (SECRET if i % 4 == 0 else PUBLIC) * 120 for i, n in enumerate(names)})
    db = tmp_path / "scan.db"
    args = [sys.executable, "-m", "scanner", "scan", str(tree), "--state", str(db), "--workers", "1", "-q", "--no-registry"]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def recorded() -> int:
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(db) as con:
                return int(con.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0

    deadline = time.monotonic() + 240
    while recorded() < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the scan and its workers, mid-run
    proc.wait()
    kept = recorded()
    assert 3 <= kept < len(names), f"the kill should land mid-scan ({kept} of {len(names)} recorded)"

    second = midian(*args[3:-1])  # same command, progress on
    assert second.returncode == 1, second.stderr
    assert "resuming an interrupted scan" in second.stderr
    out = [json.loads(line)["path"] for line in second.stdout.splitlines()]
    assert out == [str(tree / n) for n in sorted(names)]  # every file exactly once, in order
    with StateDB(db, writer=False) as state:
        assert set(state.scan_counts().values()) == {1}  # no file scanned twice, none lost
        assert len(state.scan_counts()) == len(names)
        runs = state.runs()
    assert [r["status"] for r in runs] == ["interrupted", "done"]
    assert (runs[1]["scanned"], runs[1]["reused"]) == (len(names) - kept, kept)


# --- Dask ----------------------------------------------------------------------------------------

def test_dask_local_cluster_gives_the_local_results(tmp_path: Path, config: ScannerConfig) -> None:
    pytest.importorskip("distributed")
    from scanner.engine import DaskEngine

    tree = make_tree(tmp_path / "share", {"a.txt": SECRET, "b.txt": PUBLIC, "c/d.txt": BID, "c/e.txt": SECRET + BID,
                                          "x.bin": "\x00\x01\x02" * 50})
    with StateDB(tmp_path / "local.db") as db:
        local, _ = batch(db, InlineEngine(config), [str(tree)])
    with StateDB(tmp_path / "dask.db") as db:
        dask, stats = batch(db, DaskEngine(config, workers=2), [str(tree)], engine_name="dask")
        assert stats["scanned"] == 5
        assert {Path(r.result.path).name for r in db.rows()} == {"a.txt", "b.txt", "d.txt", "e.txt", "x.bin"}
    assert [essence(r) for r in dask] == [essence(r) for r in local]
    assert {r.verdict for r in local} >= {"confidential", "public"}
