"""The ``midian`` command line.

Each sub-command is a module in this package with ``NAME``, ``HELP``, ``configure(parser)`` and
``run(args) -> int``; this module discovers them, so adding a command is one new module.
Exit codes follow ``../shared/INTERFACE.md``: 2 for usage errors, the command's own code otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import MidianError, UsageError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep its message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"midian: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="midian", description="Midian (秘点): find trade secrets in documents before they leave.")
    parser.add_argument("--version", action="version", version=f"midian {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more diagnostics on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(command)
        command.set_defaults(_run=module.run)
    return parser


def _command_modules() -> list:  # type: ignore[type-arg]
    """This package's command modules, then those other packages register under ``midian.commands``.

    ``training`` (train, eval) and ``service`` (serve, keys) import ``scanner``, never the reverse, so
    they plug their commands in through entry points declared in pyproject.toml.
    """
    from importlib.metadata import entry_points

    modules = [importlib.import_module(f"{__name__}.{info.name}")
               for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name) if not info.name.startswith("_")]
    names = {m.NAME for m in modules}
    for entry in sorted(entry_points(group="midian.commands"), key=lambda e: e.name):
        try:
            module = entry.load()
        except ImportError as exc:  # an optional part that is not installed: say so, keep the rest working
            logging.getLogger(__name__).debug("command %s unavailable: %s", entry.name, exc)
            continue
        if module.NAME not in names:
            modules.append(module)
            names.add(module.NAME)
    return modules


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="midian: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except UsageError as exc:
        print(f"midian: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MidianError as exc:
        print(f"midian: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("midian: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `midian ... | head`: stop quietly
        return 0


if __name__ == "__main__":
    sys.exit(main())
