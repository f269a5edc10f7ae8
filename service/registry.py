"""The secret registry behind ``/v1/registry``: a thin adapter over :mod:`scanner.registry`.

:class:`scanner.registry.Registry` (``add``, ``documents``, ``remove``, ``verify``) is the only thing
this module calls; it turns what those return into JSON and serialises writers. An installation
without ``scanner.registry`` answers 501.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from .errors import Problem

T = TypeVar("T")


def available() -> bool:
    """True when this installation has the registry library."""
    try:
        return importlib.util.find_spec("scanner.registry") is not None
    except ImportError:
        return False


class Registry:
    """Register, list, remove and verify secret points in the registry file of the data directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def add(self, file: Path, *, label: str, category: str | None, owner: str | None) -> Any:
        """Register ``file``; a file that does not extract cleanly is a 422 naming why."""
        from scanner.errors import RegistryError

        def action(r: Any) -> Any:
            try:
                return r.add(file, label, category=category or None, owner=owner or None)
            except RegistryError as error:
                raise Problem(422, str(error).replace(str(file), file.name)) from error

        return plain(self._with(action))

    def list(self) -> list[Any]:
        return [plain(e) for e in self._with(lambda r: r.documents())]

    def remove(self, entry: str) -> bool:
        """Remove entry ``entry`` (its numeric id); False when there is no such entry."""
        if not entry.isdigit():
            return False
        from scanner.errors import RegistryError

        def action(r: Any) -> bool:
            try:
                r.remove(int(entry))
            except RegistryError:
                return False
            return True

        return self._with(action)

    def verify(self) -> Any:
        def action(r: Any) -> dict[str, Any]:
            outcome = r.verify()
            return {"ok": outcome.ok, "entries": outcome.entries, "head": outcome.head,
                    "problems": list(outcome.problems)}

        return self._with(action)

    def _with(self, action: Callable[[Any], T]) -> T:
        if not available():
            raise Problem(501, "this installation has no secret registry (scanner.registry)")
        from scanner.registry import open_registry  # type: ignore[import-not-found]

        with self._lock:
            registry = open_registry(self.path, create=True)
            try:
                return action(registry)
            finally:
                close = getattr(registry, "close", None)
                if callable(close):
                    close()


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data (the registry's records may be dataclasses or have ``to_json``)."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
