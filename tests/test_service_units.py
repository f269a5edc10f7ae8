"""The service's parts on their own: keys, rate limits, spool names, allowed roots, masking."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from scanner.data import Evidence, Finding, Location, ScanResult
from scanner.errors import UsageError
from scanner.policy import load_policy
from service.auth import KeyStore, RateLimiter
from service.errors import Problem
from service.jobs import allowed_root
from service.scanning import mask
from service.spool import Spool, display_name, safe_name

# --- API keys ---------------------------------------------------------------------------------


def test_key_is_shown_once_and_stored_only_as_a_hash(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key = store.create("gateway", "scan")
    text = (tmp_path / "keys.json").read_text()
    assert key.startswith("midian_") and len(key) > 50
    assert key not in text and key.rsplit("_", 1)[1] not in text
    assert stat.S_IMODE(os.stat(tmp_path / "keys.json").st_mode) == 0o600
    [stored] = json.loads(text)["keys"]
    assert stored["name"] == "gateway" and stored["role"] == "scan" and len(stored["sha256"]) == 64


def test_authenticate_accepts_only_the_exact_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key = store.create("a", "admin")
    other = store.create("b", "scan")
    assert store.authenticate(key).name == "a"
    assert store.authenticate(other).name == "b"
    key_id = key.split("_")[1]
    for wrong in (None, "", "midian", key[:-1] + ("A" if key[-1] != "A" else "B"), key + "x", f"midian_{key_id}_" + "A" * 43,
                  other.split("_", 2)[0] + "_" + key_id + "_" + other.split("_", 2)[2], "Bearer " + key, "ü" * 60):
        assert store.authenticate(wrong) is None, wrong


def test_keys_created_later_and_revoked_keys_take_effect_at_once(tmp_path: Path) -> None:
    service_view = KeyStore(tmp_path / "keys.json")
    cli = KeyStore(tmp_path / "keys.json")
    assert service_view.authenticate("anything") is None
    key = cli.create("late", "scan")
    assert service_view.authenticate(key) is not None
    assert cli.revoke("late") and not cli.revoke("late")
    assert service_view.authenticate(key) is None


@pytest.mark.parametrize(("name", "role"), [("ok", "root"), ("", "scan"), ("has space", "scan"), ("x" * 65, "scan"), ("../k", "admin")])
def test_key_creation_refuses_bad_names_and_roles(tmp_path: Path, name: str, role: str) -> None:
    with pytest.raises(UsageError):
        KeyStore(tmp_path / "keys.json").create(name, role)


def test_key_names_are_unique(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    store.create("gw", "scan")
    with pytest.raises(UsageError, match="exists"):
        store.create("gw", "admin")


def test_roles() -> None:
    from service.auth import ApiKey

    scan, admin = ApiKey("1", "s", "scan", "", ""), ApiKey("2", "a", "admin", "", "")
    assert scan.allows("scan") and not scan.allows("admin")
    assert admin.allows("scan") and admin.allows("admin")


# --- rate limit ----------------------------------------------------------------------------------


def test_rate_limit_allows_a_burst_then_asks_to_wait() -> None:
    limiter = RateLimiter(per_minute=5)
    assert [limiter.acquire("k") for _ in range(5)] == [0.0] * 5
    wait = limiter.acquire("k")
    assert 0 < wait <= 12
    assert limiter.acquire("other") == 0.0


def test_rate_limit_zero_is_off_and_memory_is_bounded() -> None:
    assert all(RateLimiter(0).acquire("k") == 0 for _ in range(1000))
    limiter = RateLimiter(10, max_callers=3)
    for caller in "abcde":
        limiter.acquire(caller)
    assert len(limiter._buckets) == 3


# --- spool names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("报价单.xlsx", "报价单.xlsx"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\合同.docx", "合同.docx"),
    ("..", "upload"),
    ("", "upload"),
    (None, "upload"),
    ("a\x00b\n.txt", "ab.txt"),
    ("dir/", "upload"),
])
def test_safe_name(given: str | None, expected: str) -> None:
    assert safe_name(given) == expected


def test_safe_name_bounds_long_names_and_keeps_the_extension() -> None:
    name = safe_name("长" * 300 + ".docx")
    assert name.endswith(".docx") and len(name.encode()) <= 180
    assert "/" not in safe_name("a/" * 500)


def test_display_name_keeps_the_callers_name_printable() -> None:
    assert display_name("outbound/报价单.xlsx") == "outbound/报价单.xlsx"
    assert display_name("a\x00b\x1b[31m") == "a b [31m"
    assert len(display_name("x" * 5000)) == 1024


def test_spool_discards_only_inside_itself(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool").create()
    outside = tmp_path / "keep" / "f.txt"
    outside.parent.mkdir()
    outside.write_text("x")
    spool.discard(outside)
    assert outside.exists()
    d = spool.scan_dir()
    (d / "f.txt").write_text("x")
    spool.discard(d / "f.txt")
    assert not d.exists()


def test_spool_sweep_keeps_live_jobs(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool").create()
    for job in ("live", "dead"):
        spool.file_dir(job, 0).mkdir(parents=True)
    spool.scan_dir()
    assert spool.sweep({"live"}) == 2
    assert spool.job_dir("live").exists() and not spool.job_dir("dead").exists()


# --- server-side roots -------------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    allowed = tmp_path / "share"
    (allowed / "dept").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.mkdir()
    (allowed / "escape").symlink_to(secret)
    return allowed, secret


def test_allowed_root_accepts_the_root_and_directories_inside(roots: tuple[Path, Path]) -> None:
    allowed, _ = roots
    assert allowed_root(str(allowed), [allowed]) == os.path.realpath(allowed)
    assert allowed_root(str(allowed / "dept"), [allowed]) == os.path.realpath(allowed / "dept")


@pytest.mark.parametrize(("requested", "status"), [
    ("{secret}", 403),
    ("{allowed}/../secret", 403),
    ("{allowed}/escape", 403),  # a link inside the root pointing outside
    ("{allowed}/dept/../../secret", 403),
    ("{allowed}x", 403),  # a sibling whose name starts like the root
    ("/", 403),
    ("relative/path", 400),
    ("", 400),
    ("{allowed}/dept\x00", 400),
    ("{allowed}/missing", 400),
])
def test_allowed_root_refuses_traversal_and_outside_paths(roots: tuple[Path, Path], requested: str, status: int) -> None:
    allowed, secret = roots
    with pytest.raises(Problem) as caught:
        allowed_root(requested.format(allowed=allowed, secret=secret), [allowed])
    assert caught.value.status == status


def test_no_allowed_roots_means_no_server_side_jobs(roots: tuple[Path, Path]) -> None:
    with pytest.raises(Problem) as caught:
        allowed_root(str(roots[0]), [])
    assert caught.value.status == 403


# --- masking ----------------------------------------------------------------------------------------


def _finding(category: str, text: str, detail: str) -> Finding:
    return Finding("d", category, text, 0, 0, len(text), Location(), 0.9, (Evidence("pattern", detail, 0.5, 0, len(text)),))


def test_mask_hides_text_of_masked_categories_only() -> None:
    policy = load_policy()
    assert "personal_info" in policy.mask.categories and "business.pricing" not in policy.mask.categories
    result = ScanResult("a.txt", "0" * 64, findings=(
        _finding("personal_info", "身份证 110101199003074514", "居民身份证 number: 110101199003074514"),
        _finding("business.pricing", "单价最低8650元", "price with floor wording: 最低8650元"),
    ))
    masked = mask(result, policy)
    hidden, kept = masked.findings
    assert hidden.text == "*** ******************" and len(hidden.text) == len(result.findings[0].text)
    assert hidden.evidence[0].detail == "居民身份证 number"
    assert "110101199003074514" not in json.dumps(masked.to_json(), ensure_ascii=False)
    assert kept == result.findings[1]
    assert any("masked" in w for w in masked.warnings)


def test_mask_leaves_results_without_masked_categories_alone() -> None:
    result = ScanResult("a.txt", "0" * 64, findings=(_finding("business.pricing", "8650元", "price: 8650元"),))
    assert mask(result, load_policy()) is result
    assert mask(replace(result, findings=()), load_policy()).warnings == ()


# --- the command line -----------------------------------------------------------------------------


def test_keys_command_creates_lists_and_revokes(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MIDIAN_")}, "MIDIAN_DATA_DIR": str(tmp_path)}

    def midian(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "scanner", "keys", *args], capture_output=True, text=True, env=env, timeout=120)

    created = midian("create", "--name", "ci", "--role", "admin")
    key = created.stdout.strip()
    assert created.returncode == 0 and key.startswith("midian_") and "\n" not in key and key not in created.stderr
    assert KeyStore(tmp_path / "keys.json").authenticate(key).role == "admin"
    listed = midian("list")
    assert json.loads(listed.stdout)["name"] == "ci" and key not in listed.stdout
    assert midian("create", "--name", "ci", "--role", "scan").returncode == 2  # duplicate name: usage error
    assert midian("create", "--name", "x", "--role", "root").returncode == 2
    assert midian("revoke", "--name", "ci").returncode == 0
    assert midian("revoke", "--name", "ci").returncode == 1


# --- the warm pool ----------------------------------------------------------------------------------


def test_pool_recovers_when_an_idle_worker_dies(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import signal
    import time

    import psutil

    from scanner.engine import ScanJob, ScannerConfig
    from scanner.settings import Settings
    from service.scanning import ScanPool

    pool = ScanPool(ScannerConfig(Settings(data_dir=tmp_path)), workers=1).start()
    try:
        deadline = time.monotonic() + 120
        while not pool.ready:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for child in psutil.Process().children():
            os.kill(child.pid, signal.SIGKILL)  # idle: pebble then declares the whole pool broken
        time.sleep(0.5)
        job = ScanJob(path="a.txt", display="a.txt", data="单价最低放到8,650元".encode())
        assert asyncio.run(pool.scan(job)).status == "ok"
        assert "worker pool broke" in caplog.text  # it did break, and was replaced
        assert pool.outcome(job, pool.submit(job)).status == "ok"
    finally:
        pool.close()
