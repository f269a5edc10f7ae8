"""``python -m training COMMAND ...``: the training tools behind one entry point.

build    rebuild ``models/`` from the corpus (cross-validated metrics, ONNX export, manifest)
corpus   check or count the corpus (``check`` fails on invalid files and near-duplicate wording)
card     write models/MODEL_CARD.md: manifest metrics plus a fresh run on the held-out evaluation set
render   render YAML documents into real files plus ``labels.jsonl`` (for ``midian eval``)
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {"build": "training.build", "card": "training.card", "corpus": "training.corpus", "render": "training.render"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    return int(importlib.import_module(COMMANDS[argv[0]]).main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
