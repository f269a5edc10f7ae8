"""``midian eval LABELS.jsonl DIR``: measure Midian on any labelled folder (see training/evaluate.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "eval"
HELP = "measure precision, recall and category accuracy on a labelled folder"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", type=Path, metavar="LABELS.jsonl", help="one JSON object per file: path, label, ...")
    parser.add_argument("root", type=Path, metavar="DIR", help="folder the label paths are relative to")
    parser.add_argument("--model", default=None, metavar="DIR", help="model directory (default: the shipped model)")
    parser.add_argument("--policy", default=None, metavar="FILE", help="policy TOML")
    parser.add_argument("--threshold", type=float, default=None, help="document threshold (default: the policy's)")
    parser.add_argument("--workers", type=int, default=None, metavar="N")
    parser.add_argument("--output", "-o", type=Path, default=None, metavar="FILE", help="also write the full report as JSON")
    parser.add_argument("--results", type=Path, default=None, metavar="FILE", help="write every scan result (JSON lines)")


def run(args: argparse.Namespace) -> int:
    from scanner.engine import ScannerConfig
    from scanner.errors import UsageError
    from scanner.settings import get_settings

    from .evaluate import evaluate, markdown

    if not args.labels.is_file():
        raise UsageError(f"{args.labels}: no such labels file")
    if not args.root.is_dir():
        raise UsageError(f"{args.root}: no such directory")
    config = ScannerConfig(settings=get_settings(), policy_file=args.policy, model_dir=args.model, registry_path=None)
    summary, pairs = evaluate(args.labels, args.root, config, args.workers, args.threshold)
    print(markdown(summary))
    if args.output:
        args.output.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.results:
        with args.results.open("w", encoding="utf-8") as fh:
            for record, result in pairs:
                data = result.to_json()
                data["label"] = record["label"]
                fh.write(json.dumps(data, ensure_ascii=False) + "\n")
    overall = summary["overall"]
    print(f"\nrecall {overall['recall']}, false-positive rate {overall['false_positive_rate']}, "
          f"passage recall {overall['passage_recall']}, category accuracy {overall['category_accuracy']}", file=sys.stderr)
    return 0
