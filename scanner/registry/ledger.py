"""The evidence log (存证): an append-only, hash-chained record of every registration and removal.

Each entry is a JSON object (sequence number, action, registry id, the document's SHA-256, time,
label, owner, category, fingerprint count, ...). Its hash is
``SHA-256(canonical JSON of the entry ‖ previous entry's hash)``, the first entry chaining
:data:`GENESIS`. Editing an entry changes its hash; deleting or reordering entries breaks the
sequence or the chain; :func:`verify` finds all three. A receipt (:func:`receipt`) carries an entry
with its own and its predecessor's hash, so a receipt kept outside the registry proves the entry
as it was written.

The chain is not keyed: whoever can write the database file can rebuild a whole consistent chain.
Keep receipts (or the head hash printed by ``midian registry verify``) outside the registry to
detect that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .store import Store

GENESIS = "0" * 64
RECEIPT_SCHEMA = "midian.registry.receipt/1"


def canonical(entry: dict[str, Any]) -> str:
    """The one byte-exact JSON form of an entry that its hash is computed over."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(entry_json: str, prev_hash: str) -> str:
    return hashlib.sha256((entry_json + "\n" + prev_hash).encode("utf-8")).hexdigest()


def append(store: Store, entry: dict[str, Any]) -> dict[str, Any]:
    """Append ``entry`` (``seq`` is assigned here) and return it with its hashes. Call inside a transaction."""
    last = store.last_ledger_row()
    seq, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    entry = {**entry, "seq": seq}
    text = canonical(entry)
    digest = entry_hash(text, prev)
    store.append_ledger(seq, text, prev, digest)
    return {**entry, "prev_hash": prev, "hash": digest}


@dataclass
class Verification:
    """The outcome of :func:`verify`: entries checked, the head hash, and every problem found."""

    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store) -> Verification:
    """Recompute the chain, then check that the documents table agrees with it."""
    result = Verification()
    prev = GENESIS
    expected_seq = 1
    active: dict[int, dict[str, Any]] = {}
    for seq, text, stored_prev, stored_hash in store.ledger_rows():
        result.entries += 1
        if seq != expected_seq:
            result.problems.append(f"entry {expected_seq} is missing (the next entry is {seq}): entries were deleted")
        expected_seq = seq + 1
        if stored_prev != prev:
            result.problems.append(f"entry {seq} does not chain to the entry before it: entries were deleted, inserted or reordered")
        if entry_hash(text, stored_prev) != stored_hash:
            result.problems.append(f"entry {seq} does not match its hash: it was edited after it was written")
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            result.problems.append(f"entry {seq} is not valid JSON: it was edited after it was written")
            entry = {}
        if entry.get("seq") != seq:
            result.problems.append(f"entry {seq} carries sequence number {entry.get('seq')!r}: it was moved")
        if entry.get("action") == "register":
            active[int(entry.get("registry_id", -1))] = entry
        elif entry.get("action") == "remove":
            active.pop(int(entry.get("registry_id", -1)), None)
        prev = stored_hash
    result.head = prev
    _check_documents(store, active, result)
    return result


def _check_documents(store: Store, active: dict[int, dict[str, Any]], result: Verification) -> None:
    documents = {int(str(d["id"])): d for d in store.documents()}
    for doc_id, doc in documents.items():
        entry = active.get(doc_id)
        if entry is None:
            result.problems.append(f"registered document #{doc_id} ({doc['label']}) has no entry in the evidence log")
            continue
        for key in ("sha256", "label", "category", "owner", "fingerprints"):
            if entry.get(key) != doc[key]:
                result.problems.append(
                    f"registered document #{doc_id}: {key} is {doc[key]!r} in the registry but {entry.get(key)!r} in the evidence log")
        stored = store.fingerprint_count(doc_id)
        if stored != doc["fingerprints"]:
            result.problems.append(f"registered document #{doc_id}: {stored} fingerprints stored, {doc['fingerprints']} registered")
    for doc_id in active.keys() - documents.keys():
        result.problems.append(f"the evidence log registers document #{doc_id}, which is missing from the registry")


def receipt(store: Store, doc_id: int) -> dict[str, Any] | None:
    """The JSON receipt of document ``doc_id``'s registration entry, with the chain hashes."""
    found = None
    for seq, text, prev, digest in store.ledger_rows():
        entry = json.loads(text)
        if entry.get("registry_id") == doc_id and entry.get("action") == "register":
            found = {"schema": RECEIPT_SCHEMA, "entry": entry, "prev_hash": prev, "hash": digest, "seq": seq}
    if found is not None:
        last = store.last_ledger_row()
        found["head"] = last[1] if last else GENESIS
        found["algorithm"] = "sha256(canonical_json(entry) + '\\n' + prev_hash)"
    return found
