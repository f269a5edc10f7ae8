"""The registry's SQLite database: secret, documents, fingerprints, document frequencies, evidence log.

Tables
    ``meta``         the schema version, the registry's random secret, the fingerprint parameters.
    ``document``     one row per registered document: label, category, owner, SHA-256, counts.
                     Never its text.
    ``fingerprint``  (fingerprint, document, position), clustered on the fingerprint
                     (``WITHOUT ROWID``): a lookup is a B-tree search, logarithmic in registry size.
    ``gram``         per fingerprint, how many registered documents have it (for down-weighting
                     boilerplate and skipping what is everywhere).
    ``ledger``       the append-only evidence log (:mod:`scanner.registry.ledger`).

WAL mode lets scans read while a registration writes.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import RegistryError

SCHEMA_VERSION = 1
SECRET_BYTES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS document (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    category TEXT NOT NULL,
    owner TEXT,
    public INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL,
    name TEXT,
    format TEXT,
    registered_at TEXT NOT NULL,
    chars INTEGER NOT NULL,
    fingerprints INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS document_label ON document(label);
CREATE INDEX IF NOT EXISTS document_sha256 ON document(sha256);
CREATE TABLE IF NOT EXISTS fingerprint (
    hash INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    PRIMARY KEY (hash, doc, pos)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gram (hash INTEGER PRIMARY KEY, docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


class Store:
    """One registry database file. Opening creates it (with a fresh secret) when ``create`` is true."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise RegistryError(f"no secret registry at {self.path}; create one with `midian registry add FILE --label TEXT`")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if fresh:
                self.db.executescript(_SCHEMA)
                with self.transaction():  # OR IGNORE: a concurrent creator's secret wins, once
                    self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                    self.db.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_bytes(SECRET_BYTES),))
                if os.name == "posix":
                    os.chmod(self.path, 0o600)  # the secret is in the file: readable by its owner only
            version = self._meta("schema")
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"{self.path} is not a readable registry database ({exc}); check the path") from exc
        if version is None or int(version) != SCHEMA_VERSION:
            raise RegistryError(f"{self.path}: registry schema {version!r}, this Midian reads {SCHEMA_VERSION}")

    # --- plumbing ----------------------------------------------------------------------------
    def transaction(self):  # type: ignore[no-untyped-def]
        return _Transaction(self.db)

    def _meta(self, key: str) -> bytes | str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    @property
    def secret(self) -> bytes:
        value = self._meta("secret")
        if not isinstance(value, bytes) or len(value) < 16:
            raise RegistryError(f"{self.path}: the registry secret is missing or damaged; the fingerprints cannot be used")
        return value

    def close(self) -> None:
        self.db.close()

    # --- documents ---------------------------------------------------------------------------
    def insert_document(self, row: dict[str, object]) -> int:
        cursor = self.db.execute(
            "INSERT INTO document (label, category, owner, public, sha256, name, format, registered_at, chars, fingerprints)"
            " VALUES (:label, :category, :owner, :public, :sha256, :name, :format, :registered_at, :chars, :fingerprints)",
            row,
        )
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def insert_fingerprints(self, doc: int, rows: Iterable[tuple[int, int]]) -> None:
        """Store ``(fingerprint, position)`` pairs of ``doc`` and count the document once per fingerprint."""
        pairs = list(rows)
        self.db.executemany("INSERT OR IGNORE INTO fingerprint (hash, doc, pos) VALUES (?, ?, ?)",
                            ((h, doc, p) for h, p in pairs))
        distinct = {h for h, _ in pairs}
        self.db.executemany("INSERT INTO gram (hash, docs) VALUES (?, 1) ON CONFLICT(hash) DO UPDATE SET docs = docs + 1",
                            ((h,) for h in distinct))

    def delete_document(self, doc: int) -> None:
        hashes = [h for (h,) in self.db.execute("SELECT DISTINCT hash FROM fingerprint WHERE doc = ?", (doc,))]
        self.db.executemany("UPDATE gram SET docs = docs - 1 WHERE hash = ?", ((h,) for h in hashes))
        self.db.execute("DELETE FROM gram WHERE docs <= 0")
        self.db.execute("DELETE FROM fingerprint WHERE doc = ?", (doc,))
        self.db.execute("DELETE FROM document WHERE id = ?", (doc,))

    def documents(self, where: str = "", params: Sequence[object] = ()) -> list[dict[str, object]]:
        cursor = self.db.execute(f"SELECT * FROM document {where} ORDER BY id", params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def count_documents(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM document").fetchone()[0])

    def fingerprint_count(self, doc: int) -> int:
        return int(self.db.execute("SELECT count(*) FROM fingerprint WHERE doc = ?", (doc,)).fetchone()[0])

    # --- lookups -----------------------------------------------------------------------------
    def lookup(self, keys: Iterable[int], max_documents: int) -> list[tuple[int, int, int, int]]:
        """``(fingerprint, documents sharing it, document, position)`` for every stored occurrence of ``keys``.

        One query for the whole batch: the keys travel as one JSON array and are joined on the
        clustered primary keys; fingerprints shared by more than ``max_documents`` are skipped.
        """
        payload = json.dumps(sorted(set(keys)))
        return self.db.execute(
            "SELECT g.hash, g.docs, f.doc, f.pos FROM json_each(?) AS q"
            " JOIN gram AS g ON g.hash = q.value"
            " JOIN fingerprint AS f ON f.hash = g.hash"
            " WHERE g.docs <= ?",
            (payload, max_documents),
        ).fetchall()

    # --- ledger ------------------------------------------------------------------------------
    def ledger_rows(self) -> list[tuple[int, str, str, str]]:
        return self.db.execute("SELECT seq, entry, prev_hash, hash FROM ledger ORDER BY seq").fetchall()

    def last_ledger_row(self) -> tuple[int, str] | None:
        row = self.db.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def append_ledger(self, seq: int, entry: str, prev_hash: str, digest: str) -> None:
        self.db.execute("INSERT INTO ledger (seq, entry, prev_hash, hash) VALUES (?, ?, ?, ?)", (seq, entry, prev_hash, digest))


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error); nested uses join the outer one."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.outer = False

    def __enter__(self) -> sqlite3.Connection:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if not self.outer:
            return
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
