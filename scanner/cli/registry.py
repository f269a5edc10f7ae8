"""``midian registry add|list|remove|verify|export``: the secret registry (秘点登记) and its evidence log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import RegistryError, UsageError
from ..inputs import check_inputs, iter_inputs
from ..registry import Registry, open_registry
from ..settings import get_settings
from ..taxonomy import SUBSTANTIVE

NAME = "registry"
HELP = "register secret documents (or known-public ones) and check the evidence log"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    add = sub.add_parser("add", help="register files or directories as secret points (or, with --public, as known public)")
    add.add_argument("paths", nargs="+", metavar="PATH", help="file or directory (recursed); any format Midian reads")
    add.add_argument("--label", required=True, help="what the document is, e.g. 烧结工艺SOP v3")
    add.add_argument("--category", choices=SUBSTANTIVE, default=None,
                     help="taxonomy category (default: the one the classifier finds most likely)")
    add.add_argument("--owner", default=None, help="who owns the secret (department, person)")
    add.add_argument("--public", action="store_true",
                     help="register known-public text (website, published patents, public price list): matches are negative evidence")
    add.add_argument("--password", default=None, metavar="SECRET", help="password for encrypted documents")
    listing = sub.add_parser("list", help="list registered documents")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    remove = sub.add_parser("remove", help="remove registered documents (the evidence log records the removal)")
    remove.add_argument("ids", nargs="*", type=int, metavar="ID")
    remove.add_argument("--label", default=None, help="remove every document registered under this label")
    sub.add_parser("verify", help="recompute the evidence log's hash chain; exit 1 if anything was tampered with")
    export = sub.add_parser("export", help="print the JSON receipt of a registration (entry and chain hashes)")
    export.add_argument("id", type=int, metavar="ID")
    for command in (add, listing, remove, sub.choices["verify"], export):
        command.add_argument("--registry", default=None, metavar="DB",
                             help="registry database (default: registry.db in the data directory, MIDIAN_DATA_DIR)")


def _path(args: argparse.Namespace) -> Path:
    return Path(args.registry) if args.registry else get_settings().registry_file


def run(args: argparse.Namespace) -> int:
    if not getattr(args, "action", None):
        raise UsageError("say what to do: midian registry add|list|remove|verify|export (see --help)")
    if args.action == "add":
        return _add(args)
    with open_registry(_path(args), create=False) as registry:
        if args.action == "list":
            return _list(registry, args.format)
        if args.action == "remove":
            return _remove(registry, args)
        if args.action == "verify":
            return _verify(registry)
        print(json.dumps(registry.receipt(args.id), ensure_ascii=False, indent=2))
        return 0


def _add(args: argparse.Namespace) -> int:
    check_inputs(args.paths)
    inputs = [item for item in iter_inputs(args.paths)]
    if any(item.path == "-" for item in inputs):
        raise UsageError("registry add reads files and directories, not standard input")
    path = _path(args)
    with open_registry(path, create=True) as registry:
        # read everything first: one unreadable file registers nothing
        extractions = []
        failed = []
        for item in inputs:
            try:
                extractions.append((item, registry.extract(item.path, args.password)))
            except RegistryError as exc:
                failed.append(str(exc))
        if failed:
            for message in failed:
                print(f"midian: error: {message}", file=sys.stderr)
            print(f"midian: nothing registered: {len(failed)} of {len(inputs)} file(s) could not be read", file=sys.stderr)
            return 1
        with registry.batch():
            done = [(item, registry.add_extraction(extraction, args.label, category=args.category, owner=args.owner,
                                                   public=args.public)) for item, extraction in extractions]
    for item, doc in done:
        state = "already registered" if doc.existing else "registered"
        kind = "public" if doc.public else doc.category
        print(f"{state} #{doc.id} {item.display} ({kind}, {doc.fingerprints} fingerprints) as {doc.label!r}", file=sys.stderr)
    print(json.dumps([doc.to_json() for _, doc in done], ensure_ascii=False))
    return 0


def _list(registry: Registry, fmt: str) -> int:
    documents = registry.documents()
    if fmt == "json":
        print(json.dumps([d.to_json() for d in documents], ensure_ascii=False, indent=2))
        return 0
    if not documents:
        print("the registry is empty", file=sys.stderr)
        return 0
    print(f"{'id':>5}  {'category':<22} {'fingerprints':>12}  {'registered':<25} label (owner) — file")
    for d in documents:
        kind = "public (allow-list)" if d.public else d.category
        owner = f" ({d.owner})" if d.owner else ""
        print(f"{d.id:>5}  {kind:<22} {d.fingerprints:>12}  {d.registered_at:<25} {d.label}{owner} — {d.name or ''}")
    return 0


def _remove(registry: Registry, args: argparse.Namespace) -> int:
    if not args.ids and not args.label:
        raise UsageError("say what to remove: registry remove ID... or --label TEXT")
    removed = [registry.remove(i) for i in args.ids]
    if args.label:
        found = registry.remove_label(args.label)
        if not found:
            raise RegistryError(f"no registered document has the label {args.label!r}")
        removed.extend(found)
    for doc in removed:
        print(f"removed #{doc.id} {doc.label!r}", file=sys.stderr)
    return 0


def _verify(registry: Registry) -> int:
    result = registry.verify()
    if result.ok:
        print(f"evidence log ok: {result.entries} entries, head {result.head}")
        return 0
    print(f"evidence log FAILED verification ({len(result.problems)} problem(s) in {result.entries} entries):")
    for problem in result.problems:
        print(f"  - {problem}")
    return 1
