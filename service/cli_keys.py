"""``midian keys create|list|revoke``: the service's API keys, stored hashed in the data directory."""

from __future__ import annotations

import argparse
import json
import sys

from scanner.settings import get_settings

NAME = "keys"
HELP = "create, list and revoke API keys of the HTTP service"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a key and print it once on standard output")
    create.add_argument("--name", required=True, help="who or what uses the key (unique)")
    create.add_argument("--role", required=True, choices=("scan", "admin"),
                        help="scan: scan and manage own jobs; admin: everything, including the registry")
    sub.add_parser("list", help="list keys (names, roles, ids; never the keys themselves) as JSON lines")
    revoke = sub.add_parser("revoke", help="delete a key; callers using it get 401 at once")
    revoke.add_argument("--name", required=True)


def run(args: argparse.Namespace) -> int:
    from .auth import KeyStore

    store = KeyStore(get_settings().keys_file)
    if args.action == "create":
        key = store.create(args.name, args.role)
        print(key)
        print(f"midian: created key {args.name!r} (role {args.role}); it is shown only this once", file=sys.stderr)
        return 0
    if args.action == "list":
        for k in store.entries():
            print(json.dumps({"id": k.id, "name": k.name, "role": k.role, "created": k.created}, ensure_ascii=False))
        return 0
    if not store.revoke(args.name):
        print(f"midian: error: no key named {args.name!r}", file=sys.stderr)
        return 1
    print(f"midian: revoked key {args.name!r}", file=sys.stderr)
    return 0
