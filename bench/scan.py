"""Chinese plain-text throughput of `Scanner.scan`, next to raw `jieba.lcut` on the same text.

    python bench/scan.py [--mb 5] [--shared DIR]

Reads ≥ 5 MB of real Chinese text (PRC laws and news from ../shared/data, overridable with
MIDIAN_SHARED_DATA), scans it document by document in this process with the shipped model, tokenises
the same text with jieba (default settings, HMM on, as most users call it) in the same run, and
prints both times, the ratio (target ≤ 1.0: the whole scan at least as fast as tokenisation alone)
and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def load_texts(root: Path, target_bytes: int) -> list[str]:
    texts: list[str] = []
    size = 0
    news = root / "hard_negatives_zh" / "thucnews" / "cnews_1000.tsv"
    if news.is_file():
        for line in news.open(encoding="utf-8"):
            if "\t" in line:
                texts.append(line.split("\t", 1)[1].strip())
                size += len(texts[-1].encode())
    laws = root / "hard_negatives_zh" / "laws" / "lawrefbook_national.jsonl"
    with laws.open(encoding="utf-8") as fh:
        for line in fh:
            if size >= target_bytes:
                break
            text = json.loads(line)["text"]
            texts.append(text)
            size += len(text.encode())
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("MIDIAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    args = parser.parse_args()
    if not args.shared.is_dir():
        print(f"shared data folder {args.shared} is absent; set MIDIAN_SHARED_DATA", file=sys.stderr)
        return 2
    texts = load_texts(args.shared, int(args.mb * 1e6))
    total_bytes = sum(len(t.encode()) for t in texts)
    total_chars = sum(len(t) for t in texts)

    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()  # dictionary load is not counted
    started = time.perf_counter()
    for t in texts:
        jieba.lcut(t)
    jieba_s = time.perf_counter() - started
    started = time.perf_counter()
    for t in texts:
        jieba.lcut(t, HMM=False)
    jieba_nohmm_s = time.perf_counter() - started

    from scanner.scan import Scanner, Target

    scanner = Scanner().load()  # model and dictionary load is not counted
    scanner.scan(Target("warmup.txt", "预热文本。".encode()))
    started = time.perf_counter()
    verdicts: dict[str, int] = {}
    for i, t in enumerate(texts):
        r = scanner.scan(Target(f"doc{i}.txt", t.encode("utf-8")))
        verdicts[r.verdict] = verdicts.get(r.verdict, 0) + 1
    scan_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"text: {len(texts)} documents, {total_bytes / 1e6:.2f} MB UTF-8, {total_chars / 1e6:.2f} M characters")
    print(f"{'':28}{'seconds':>10}{'M chars/s':>12}")
    print(f"{'jieba.lcut (HMM on)':28}{jieba_s:10.2f}{total_chars / jieba_s / 1e6:12.2f}")
    print(f"{'jieba.lcut (HMM off)':28}{jieba_nohmm_s:10.2f}{total_chars / jieba_nohmm_s / 1e6:12.2f}")
    print(f"{'Scanner.scan (whole scan)':28}{scan_s:10.2f}{total_chars / scan_s / 1e6:12.2f}")
    print(f"ratio scan / jieba (HMM on):  {scan_s / jieba_s:.2f}   (target <= 1.0)")
    print(f"ratio scan / jieba (HMM off): {scan_s / jieba_nohmm_s:.2f}")
    print(f"peak RSS: {peak_mb:.0f} MB; verdicts: {verdicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
