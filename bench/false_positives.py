"""False-positive rate on real public text, per source, through the full scanner.

    python bench/false_positives.py [--all] [--workers N]

Scans the public documents of ../shared/data/hard_negatives_* (PRC laws including the trade-secret
provisions, THUCNews, FewCLUE abstracts and headlines, Chinese open-source docs, Wikipedia articles
— many about trade secrets and NDAs —, AG News, open-source READMEs), the real public Office/PDF files
and the real test-suite files of ../shared/data/format_fixtures (every format), and prints, per
source, the share judged confidential. Files that cannot be read (encrypted, corrupt) are counted
under "unscanned" and not as flagged. By default only the half the shipped
model never trained on is scanned (``training.dataset.held_out``); ``--all`` scans everything.
Target (issue 3): ≤ 3% per source.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.engine import LocalEngine, ScanJob, ScannerConfig  # noqa: E402
from scanner.settings import get_settings  # noqa: E402
from training.dataset import held_out, public_documents, public_file_paths, shared_data_dir  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also scan the half the model was trained on")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--per-source", type=int, default=200, help="documents sampled per text source")
    parser.add_argument("--show", type=int, default=3, help="flagged documents to show per source")
    args = parser.parse_args()
    root = shared_data_dir()
    if not root.is_dir():
        print(f"shared data folder {root} is absent; set MIDIAN_SHARED_DATA", file=sys.stderr)
        return 2
    jobs: list[ScanJob] = []
    sources: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for doc in public_documents(root, per_source=args.per_source):
            if not args.all and not held_out(doc.id):
                continue
            path = Path(tmp) / f"{doc.id}.txt"
            path.write_text("\n\n".join(b.text for b in doc.blocks), encoding="utf-8")
            jobs.append(ScanJob(path=str(path), display=doc.id))
            sources[doc.id] = doc.source
        for doc_id, source, path in public_file_paths(root):
            if not args.all and not held_out(doc_id):
                continue
            display = str(path.relative_to(root))
            jobs.append(ScanJob(path=str(path), display=display))
            sources[display] = source
        config = ScannerConfig(settings=get_settings(), registry_path=None)
        results = list(LocalEngine(config, args.workers).run(jobs))
    total: Counter[str] = Counter()
    flagged: dict[str, list[tuple[float, str, str]]] = {}
    unscanned: Counter[str] = Counter()
    for r in results:
        source = sources[r.path]
        total[source] += 1
        if r.status != "ok":
            unscanned[source] += 1
        if r.verdict == "confidential":
            top = max(r.findings, key=lambda f: f.score, default=None)
            flagged.setdefault(source, []).append((r.score, r.path, f"{top.category}: {top.text[:60]!r}" if top else ""))
    print(f"{'source':36}{'documents':>10}{'flagged':>9}{'rate':>8}{'unscanned':>11}")
    for source in sorted(total):
        n, f = total[source], len(flagged.get(source, []))
        print(f"{source:36}{n:10}{f:9}{f / max(1, n - unscanned[source]):8.1%}{unscanned[source]:11}")
    n_all, f_all, u_all = sum(total.values()), sum(len(v) for v in flagged.values()), sum(unscanned.values())
    print(f"{'all':36}{n_all:10}{f_all:9}{f_all / max(1, n_all - u_all):8.1%}{u_all:11}")
    print("rate = flagged / scanned; unscanned files (encrypted, corrupt, unsupported) fail closed in a gateway")
    for source, items in sorted(flagged.items()):
        for score, path, top in sorted(items, reverse=True)[: args.show]:
            print(f"  {source}: {score:.2f} {path} — {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
