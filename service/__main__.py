"""``python -m service`` is ``midian serve``."""

import sys

from scanner.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
