"""API keys, roles and per-key rate limits.

A key looks like ``midian_<id>_<secret>``: ``id`` names the key (it appears in logs and job owners),
``secret`` carries 256 bits from :mod:`secrets`. ``midian keys create`` prints the key once; the data
directory keeps only its SHA-256 (a fast hash is enough for a random 256-bit secret: there is nothing
to guess word by word) in ``keys.json``, written atomically with mode 0600 under a file lock.
Verification looks the key up by id and compares digests in constant time, so a caller learns
nothing from timing or from the answer: every failure is the same 401.

Roles: ``scan`` may scan and manage its own jobs; ``admin`` may do everything, including the secret
registry and other keys' jobs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from scanner.errors import UsageError

ROLES = ("scan", "admin")
KEY_PREFIX = "midian"
_KEY_RE = re.compile(r"^midian_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    """A stored key: its public id and name, its role and the SHA-256 of the full key."""

    id: str
    name: str
    role: str
    sha256: str
    created: str

    def allows(self, role: str) -> bool:
        return self.role == "admin" or self.role == role


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The API keys of one data directory.

    The service calls :meth:`authenticate` on every request; the file is re-read only when its
    modification time changes, so keys created or revoked while the service runs take effect at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_id: dict[str, ApiKey] = {}

    # --- management (the command line) -------------------------------------------------------
    def create(self, name: str, role: str) -> str:
        """Create a key and return it; only its hash is stored. Raises :class:`UsageError`."""
        if role not in ROLES:
            raise UsageError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not _NAME_RE.match(name):
            raise UsageError(f"key name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-'")
        with self._locked():
            keys = self._read()
            if any(k.name == name for k in keys):
                raise UsageError(f"a key named {name!r} exists; revoke it first or choose another name")
            key_id = secrets.token_hex(6)
            key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
            created = datetime.now(UTC).isoformat(timespec="seconds")
            keys.append(ApiKey(key_id, name, role, _digest(key), created))
            self._write(keys)
        return key

    def entries(self) -> list[ApiKey]:
        return self._read()

    def revoke(self, name: str) -> bool:
        """Delete the key named ``name``; False when there is none."""
        with self._locked():
            keys = self._read()
            kept = [k for k in keys if k.name != name]
            if len(kept) == len(keys):
                return False
            self._write(kept)
        return True

    # --- verification (the service) ----------------------------------------------------------
    def authenticate(self, token: str | None) -> ApiKey | None:
        """The key that ``token`` is, or None; constant time in the secret."""
        match = _KEY_RE.match(token or "")
        found = self._current().get(match.group(1)) if match else None
        expected = found.sha256 if found else "0" * 64
        ok = hmac.compare_digest(_digest(token or ""), expected)
        return found if ok and found else None

    def _current(self) -> dict[str, ApiKey]:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._by_id = {k.id: k for k in self._read()} if stamp else {}
                self._stamp = stamp
            return self._by_id

    # --- storage ------------------------------------------------------------------------------
    def _read(self) -> list[ApiKey]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path}: not a readable key file ({exc}); restore it or delete it and create new keys") from exc
        return [ApiKey(**k) for k in data.get("keys", [])]

    def _write(self, keys: list[ApiKey]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "keys": [asdict(k) for k in keys]}, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests a minute, in bursts of up to as many.

    Memory is bounded: at most ``max_callers`` buckets, the least recently seen dropped first.
    """

    def __init__(self, per_minute: int, max_callers: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, caller: str) -> float:
        """0 when ``caller`` may go on, else the seconds until its next request is allowed."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, seen = self._buckets.pop(caller, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - seen) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[caller] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
        return wait
