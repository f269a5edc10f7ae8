"""The state database: keys, upserts, removed files, runs, the one-writer lock, schema checks."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from scanner.data import Evidence, Finding, Location, ScanResult
from scanner.errors import UsageError
from scanner.state import Fingerprint, StateDB, path_key

FP = Fingerprint("0.1.0", "model-1", "policy-1")


def result(path: str, verdict: str = "public", score: float = 0.1) -> ScanResult:
    findings = ()
    if verdict == "confidential":
        findings = (Finding("classifier", "business.pricing", "单价最低8,650元", 0, 0, 10, Location(part="body", line=3), score,
                            (Evidence("pattern", "price with floor wording", 0.3, 2, 10),)),)
    return ScanResult(path=path, sha256="ab" * 32, verdict=verdict, score=score, level="high" if score > 0.85 else "none",
                      categories=("business.pricing",) if findings else (), findings=findings, size=10,
                      model=FP.model, policy=FP.policy)


def test_new_database_is_wal_with_schema(tmp_path: Path) -> None:
    with StateDB(tmp_path / "s.db") as db:
        assert db.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.runs() == []


def test_record_is_keyed_by_path_and_counts_scans(tmp_path: Path) -> None:
    with StateDB(tmp_path / "s.db") as db:
        run = db.begin_run([str(tmp_path)], FP, "local", rescan=False)
        key = path_key(str(tmp_path / "a.txt"))
        db.record(key, result("a.txt"), 10, 111, run, FP)
        db.record(key, result("a.txt", "confidential", 0.93), 12, 222, run, FP)
        stored = db.lookup(key)
        assert stored is not None and (stored.size, stored.mtime_ns, stored.fingerprint) == (12, 222, FP.digest)
        assert db.scan_counts() == {"a.txt": 2}
        again = db.stored_result(key)
        assert again.verdict == "confidential" and again.findings[0].evidence[0].start == 2
        assert again.findings[0].location.line == 3


def test_results_survive_closing_without_finishing_the_run(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "s.db")
    run = db.begin_run(["x"], FP, "local", rescan=False)
    db.record(path_key("x/a"), result("x/a"), 1, 1, run, FP)
    db.db.close()  # as if killed: no finish_run, no orderly close
    os.close(db._lock_fd)  # type: ignore[arg-type]
    with StateDB(tmp_path / "s.db") as db2:
        assert db2.interrupted_results() == 1
        db2.begin_run(["x"], FP, "local", rescan=False)
        assert [r["status"] for r in db2.runs()] == ["interrupted", "running"]


def test_non_utf8_names_are_exact_keys(tmp_path: Path) -> None:
    raw = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad-\xff.txt")
    with StateDB(tmp_path / "s.db") as db:
        run = db.begin_run([str(tmp_path)], FP, "local", rescan=False)
        db.record(path_key(raw), result("bad-\ufffd.txt"), 1, 1, run, FP)
        assert db.lookup(path_key(raw)) is not None
        assert db.lookup(path_key(raw.replace("\udcff", "\ufffd"))) is None


@pytest.mark.parametrize(("root", "gone"), [
    ("share/hr", ["share/hr/a.txt", "share/hr/sub/b.txt"]),  # only under the root walked
    ("share/hr/a.txt", ["share/hr/a.txt"]),  # a file given by name
])
def test_mark_removed_is_scoped_to_the_roots_walked(tmp_path: Path, root: str, gone: list[str]) -> None:
    names = ["share/hr/a.txt", "share/hr/sub/b.txt", "share/hr2/c.txt", "share/d.txt"]
    with StateDB(tmp_path / "s.db") as db:
        first = db.begin_run(["share"], FP, "local", rescan=False)
        for name in names:
            db.record(path_key(str(tmp_path / name)), result(name), 1, 1, first, FP)
        second = db.begin_run([root], FP, "local", rescan=False)
        assert db.count_under([path_key(str(tmp_path / root))]) == len(gone)  # what a progress estimate uses
        assert db.mark_removed([path_key(str(tmp_path / root))], second) == len(gone)
        removed = {r.result.path for r in db.rows() if r.removed_at}
        assert removed == set(gone)
        assert {r.result.path for r in db.rows(include_removed=False)} == set(names) - set(gone)


def test_seen_and_record_clear_the_removed_flag(tmp_path: Path) -> None:
    with StateDB(tmp_path / "s.db") as db:
        key = path_key(str(tmp_path / "a"))
        one = db.begin_run([str(tmp_path)], FP, "local", rescan=False)
        db.record(key, result("a"), 1, 1, one, FP)
        two = db.begin_run([str(tmp_path)], FP, "local", rescan=False)
        db.mark_removed([path_key(str(tmp_path))], two)
        assert db.lookup(key).removed  # type: ignore[union-attr]
        three = db.begin_run([str(tmp_path)], FP, "local", rescan=False)
        db.seen(key, "a", three)
        db.commit()
        assert not db.lookup(key).removed  # type: ignore[union-attr]


def test_fingerprint_changes_with_model_policy_or_version() -> None:
    digests = {Fingerprint("0.1.0", "m1", "p1").digest, Fingerprint("0.1.0", "m2", "p1").digest,
               Fingerprint("0.1.0", "m1", "p2").digest, Fingerprint("0.2.0", "m1", "p1").digest}
    assert len(digests) == 4


def test_one_writer_at_a_time_but_readers_welcome(tmp_path: Path) -> None:
    with StateDB(tmp_path / "s.db") as writer:
        writer.begin_run(["x"], FP, "local", rescan=False)
        with pytest.raises(UsageError, match="another midian scan"):
            StateDB(tmp_path / "s.db")
        with StateDB(tmp_path / "s.db", writer=False) as reader:
            assert len(reader.runs()) == 1
    StateDB(tmp_path / "s.db").close()  # the lock is released with the writer


@pytest.mark.parametrize("setup", ["missing", "foreign", "garbage"])
def test_readers_refuse_what_is_not_a_state_database(tmp_path: Path, setup: str) -> None:
    path = tmp_path / "x.db"
    if setup == "foreign":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    elif setup == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError):
        StateDB(path, writer=False)
    if setup != "missing":
        with pytest.raises(UsageError):
            StateDB(path)
