"""Render ``midian report`` in headless Chromium: check the summary's counts, save a screenshot.

Scans a small demo share (generated here, with confidential, public, unreadable and removed files)
into a state database, or takes ``--state DB`` from an earlier scan; writes the HTML report; loads it
in Chromium (``apt-get install -y chromium``) with networking disabled, compares the counts in the
rendered DOM (``#total-files``, ``#total-confidential``, ...) with the database, and prints the path
of a full-page PNG. Without Chromium it says so and exits 0.

    python bench/report_screenshot.py [--state scan.db] [--out bench/out/report]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEMO: dict[str, str | bytes] = {
    "销售部/2024报价单.txt": "内部资料 注意保密\n客户华东精密年用量120000件，单价3.85元，最低可以给到3.60元，再低就不做了，咱们成本在3.10左右。\n",
    "生产部/工艺/HX-220注塑参数.txt": "B线HX-220外壳缩痕问题：注射压力分四段调整为 88/76/64/40 MPa，保压 6.5 s，"
                               "模温前模 65 ℃、后模 58 ℃，冷却 18 s 后缺陷率从 4.1% 降到 0.6%。\n",
    "bids/metro-bid.txt": "CONFIDENTIAL - INTERNAL ONLY\nOur bid for the Shenzhen metro project: we will quote 12.4M USD, "
                          "our floor is 11.9M; margin at 14%. Do not share with the customer.\n",
    "人事部/薪酬.txt": "2024年薪酬调整：高级工程师月薪 45k-60k，总监年薪 900000 元，请勿转发。\n",
    "公开/法规摘录.txt": "中华人民共和国反不正当竞争法第九条规定，经营者不得实施下列侵犯商业秘密的行为。\n",
    "公开/通知.txt": "下周三组织消防演练，请各部门提前安排人员。\n",
    "public/newsletter.txt": "The quarterly newsletter is out: read about our volunteering day and the new cafeteria menu.\n",
    "archive/old-data.bin": bytes(range(256)) * 4,  # not a format Midian reads: "could not be scanned"
    "tmp/将被删除.txt": "客户南方机电底价 3.2 元，内部资料，注意保密。\n",
}

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--window-size=1280,2000"]


def chromium_binary() -> str | None:
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def midian(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def demo_state(out: Path) -> Path:
    """Scan the demo share twice (a file removed in between) into ``out/demo.db``."""
    share = out / "share"
    shutil.rmtree(share, ignore_errors=True)
    for name, text in DEMO.items():
        path = share / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    db = out / "demo.db"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    for _ in range(2):
        result = midian("scan", str(share), "--state", str(db), "--workers", "2", "--no-registry", "-q", "-o", "/dev/null")
        if result.returncode not in (0, 1, 3):
            raise SystemExit(f"midian scan failed:\n{result.stderr}")
        (share / "tmp" / "将被删除.txt").unlink(missing_ok=True)
    return db


def expected_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT verdict, COUNT(*) FROM files WHERE removed_at IS NULL GROUP BY verdict").fetchall()
        removed = con.execute("SELECT COUNT(*) FROM files WHERE removed_at IS NOT NULL").fetchone()[0]
    by = dict(rows)
    counts = {"total-files": sum(by.values()), "total-confidential": by.get("confidential", 0),
              "total-public": by.get("public", 0), "total-unknown": by.get("unknown", 0)}
    if removed:
        counts["total-removed"] = removed
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=None, help="an existing state database (default: scan a demo share)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "report")
    args = parser.parse_args()
    browser = chromium_binary()
    if browser is None:
        print("skipped: Chromium is not installed (apt-get install -y chromium)")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.state or demo_state(args.out)
    page = args.out / "report.html"
    result = midian("report", str(db), "--format", "html", "--output", str(page))
    if result.returncode != 0:
        raise SystemExit(f"midian report failed:\n{result.stderr}")

    import lxml.html

    with tempfile.TemporaryDirectory() as profile:
        flags = [browser, *FLAGS, f"--user-data-dir={profile}"]
        dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
        shot = args.out / "report.png"
        shot.unlink(missing_ok=True)
        subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    doc = lxml.html.fromstring(dom.stdout)
    rendered = {el.get("id"): int(el.find("b").text_content()) for el in doc.find_class("total")}
    expected = expected_counts(db)
    ok = all(rendered.get(k) == v for k, v in expected.items())
    print(f"report: {page} ({page.stat().st_size / 1024:.0f} KiB)")
    print(f"rendered summary: {rendered}")
    print(f"state database:   {expected} -> {'match' if ok else 'MISMATCH'}")
    if not shot.is_file():
        raise SystemExit("Chromium wrote no screenshot")
    print(f"screenshot: {shot}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
