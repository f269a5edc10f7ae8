"""``midian train --confidential DIR --public DIR [--labels FILE] --out MODEL_DIR`` (see training/retrain.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "train"
HELP = "train a model on your own confidential and public documents (needs the `train` extra)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--confidential", type=Path, required=True, metavar="DIR", help="folder of confidential documents")
    parser.add_argument("--public", type=Path, required=True, metavar="DIR", help="folder of public documents")
    parser.add_argument("--labels", type=Path, default=None, metavar="FILE",
                        help="optional passage labels (midian eval format, paths relative to the folders)")
    parser.add_argument("--out", type=Path, required=True, metavar="MODEL_DIR", help="where to write the model")


def run(args: argparse.Namespace) -> int:
    from scanner.errors import UsageError
    from scanner.settings import get_settings

    try:
        from .retrain import retrain
    except ImportError as exc:
        raise UsageError(f"training needs the `train` extra: pip install 'midian[train]' ({exc})") from exc
    for folder in (args.confidential, args.public):
        if not folder.is_dir():
            raise UsageError(f"{folder}: no such directory")
    manifest = retrain(args.confidential, args.public, args.out, get_settings(), args.labels)
    m = manifest["metrics"]["cross_validated_company"]
    print(json.dumps(manifest["metrics"], ensure_ascii=False, indent=1))
    print(f"model written to {args.out}; cross-validated on your files: precision {m['precision']}, recall {m['recall']}, "
          f"false-positive rate {m['false_positive_rate']}. Use it with: midian scan --model {args.out} PATH", file=sys.stderr)
    return 0
