"""Latency and throughput of `POST /v1/scan` for a one-page DOCX, next to `Scanner.scan` in-process.

    python bench/service.py [--requests 300] [--levels 1,8,32] [--workers N]

Builds a one-page Chinese DOCX with python-docx (headings, paragraphs, a price table), scans it in
this process with the library (what `midian scan` does per file, model already loaded), then starts
`midian serve` on a free 127.0.0.1 port with its own data directory and an API key, and sends the
same file as multipart uploads from 1, 8 and 32 concurrent httpx clients. Prints p50/p99 latency and
requests/s per level, next to the in-process figures of the same run; CPU time per file spent by the
service process itself (HTTP, upload, queueing) and by scanning (the workers; in-process: the whole
scan), which stays meaningful when other programs share the cores; the peak resident memory of the
service's whole process tree (parent and workers); and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def one_page_docx() -> bytes:
    """A realistic one-page business document: a quotation memo with a price table."""
    from docx import Document

    doc = Document()
    doc.add_heading("华东精密2024年度报价策略（内部）", level=1)
    doc.add_paragraph("密级：机密　　　分发范围：销售部、财务部　　　严禁外传")
    doc.add_paragraph(
        "经与财务部核算，2024年度对华东精密的氧化锆陶瓷结构件报价采取分档策略。标准件单价最低放到8,650元，"
        "再低就不做了，咱们成本在7,400左右；年采购量超过2,000件时可在此基础上再给3%的返点，但须由销售总监书面批准。")
    doc.add_paragraph(
        "竞争对手方面，据了解华南瓷业去年的中标价在8,900元上下，本次投标我方报价控制在8,780元以内即可保持优势。"
        "付款条件坚持预付30%，余款验收后60天内结清，违约金按合同总额的0.05%每日计算。")
    doc.add_heading("报价明细", level=2)
    table = doc.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ("型号", "规格", "单价（元）", "最低价（元）"), strict=True):
        cell.text = text
    for row in (("ZC-100", "Φ50×10", "9,200", "8,650"), ("ZC-200", "Φ80×12", "12,800", "11,900"),
                ("ZC-300", "100×100×8", "15,600", "14,300"), ("ZC-400", "Φ120×15", "21,000", "19,500")):
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    doc.add_paragraph(
        "工艺说明：烧结温度1350℃，保温4小时，升温速率5℃/min；粉体配比为ZrO2 94.5%、Y2O3 5.5%。以上参数为本公司"
        "核心工艺，不得向客户或供应商透露。联系人：销售部张经理，电话13800138000。")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def in_process(data: bytes, n: int) -> tuple[list[float], float, float]:
    """Latencies (s) of ``n`` scans with the library in this process, scans/s and CPU seconds per scan."""
    from scanner.scan import Scanner, Target

    scanner = Scanner().load()
    for _ in range(5):
        scanner.scan(Target("bench.docx", data))
    latencies = []
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        t = time.perf_counter()
        result = scanner.scan(Target("bench.docx", data))
        latencies.append(time.perf_counter() - t)
    assert result.status == "ok", result.error
    return latencies, n / (time.perf_counter() - started), (time.process_time() - cpu) / n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """`midian serve` in a subprocess, with peak RSS of its process tree sampled in a thread."""

    def __init__(self, data_dir: Path, workers: int, settings: dict[str, str]) -> None:
        from service.auth import KeyStore

        self.key = KeyStore(data_dir / "keys.json").create("bench", "scan")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIDIAN_")}
        env.update(MIDIAN_DATA_DIR=str(data_dir), MIDIAN_RATE_LIMIT_PER_MINUTE="0", **settings)
        self.proc = subprocess.Popen([sys.executable, "-m", "scanner", "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port), "--workers", str(workers), "--log-level", "warning"],
                                     env=env, cwd=REPO)
        self.peak_rss = 0
        self._sampling = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the service did not become ready")

    def sample(self) -> None:
        import psutil

        self._sampling.set()

        def loop() -> None:
            parent = psutil.Process(self.proc.pid)
            while self._sampling.is_set():
                with contextlib.suppress(psutil.Error):
                    rss = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
                    self.peak_rss = max(self.peak_rss, rss)
                time.sleep(0.05)

        threading.Thread(target=loop, daemon=True).start()

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the service process itself, and by its workers (live and reaped)."""
        import psutil

        parent = psutil.Process(self.proc.pid)
        times = parent.cpu_times()
        workers = times.children_user + times.children_system
        for child in parent.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                t = child.cpu_times()
                workers += t.user + t.system
        return times.user + times.system, workers

    def stop(self) -> None:
        self._sampling.clear()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def load(url: str, key: str, data: bytes, concurrency: int, total: int) -> tuple[list[float], float, int]:
    """Send ``total`` scans from ``concurrency`` clients; latencies (s), requests/s and non-200 answers."""
    import httpx

    latencies: list[float] = []
    errors = 0
    remaining = total

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            t = time.perf_counter()
            response = await client.post("/v1/scan", files={"file": ("bench.docx", data)})
            latencies.append(time.perf_counter() - t)
            if response.status_code != 200 or response.json()["status"] != "ok":
                errors += 1

    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        for _ in range(min(concurrency, 5)):  # warm the connections and the workers
            await client.post("/v1/scan", files={"file": ("bench.docx", data)})
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, total / elapsed, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per concurrency level (default 300)")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients (default 1,8,32)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="service worker processes")
    parser.add_argument("--worker-max-tasks", type=int, default=None,
                        help="files a worker scans before it is replaced (MIDIAN_WORKER_MAX_TASKS; default: the setting's)")
    args = parser.parse_args()
    data = one_page_docx()
    levels = [int(x) for x in args.levels.split(",")]
    print(f"one-page DOCX: {len(data):,} bytes; {os.cpu_count()} cores; service workers: {args.workers}; "
          f"load average before: {os.getloadavg()[0]:.1f}")

    latencies, rate, cpu = in_process(data, args.requests)
    rows = [("in-process Scanner.scan", percentile(latencies, 50), percentile(latencies, 99), rate, 0, None, cpu)]

    with tempfile.TemporaryDirectory(prefix="midian-bench-") as tmp:
        settings = {"MIDIAN_WORKER_MAX_TASKS": str(args.worker_max_tasks)} if args.worker_max_tasks else {}
        service = Service(Path(tmp) / "data", args.workers, settings)
        try:
            service.wait_ready()
            service.sample()
            for concurrency in levels:
                parent0, workers0 = service.cpu()
                latencies, rate, errors = asyncio.run(load(service.url, service.key, data, concurrency, args.requests))
                parent1, workers1 = service.cpu()
                warm = min(concurrency, 5)  # load() also sent these
                rows.append((f"POST /v1/scan, {concurrency} client(s)", percentile(latencies, 50), percentile(latencies, 99),
                             rate, errors, (parent1 - parent0) / (args.requests + warm),
                             (workers1 - workers0) / (args.requests + warm)))
        finally:
            service.stop()

    print(f"\n{'':34} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>6} {'CPU ms/file: service':>21} {'scanning':>9}")
    for name, p50, p99, rps, errors, parent_cpu, scan_cpu in rows:
        service_cpu = f"{parent_cpu * 1000:21.1f}" if parent_cpu is not None else f"{'-':>21}"
        print(f"{name:34} {p50 * 1000:8.1f} {p99 * 1000:8.1f} {rps:7.1f} {errors:6d} {service_cpu} {scan_cpu * 1000:9.1f}")
    print(f"\npeak RSS of the service's process tree: {service.peak_rss / 1e6:.0f} MB; "
          f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
