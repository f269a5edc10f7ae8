"""The policy: every threshold, switch and allow-list of the verdict, in one TOML file users can override.

The shipped default is ``scanner/resources/policy.toml``; ``--policy FILE`` (or ``MIDIAN_POLICY_FILE``)
replaces it. A user file may set only what it changes: missing keys keep their defaults.
"""

from __future__ import annotations

import fnmatch
import hashlib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import PolicyError
from .normalize import normalize
from .taxonomy import CATEGORIES


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: float = Field(0.5, ge=0, le=1)
    confidential: float = Field(0.5, ge=0, le=1)
    high: float = Field(0.85, ge=0, le=1)
    medium: float = Field(0.65, ge=0, le=1)
    low: float = Field(0.35, ge=0, le=1)
    registry: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if not self.low <= self.medium <= self.high:
            raise ValueError(f"levels must satisfy low <= medium <= high, got {self.low}, {self.medium}, {self.high}")
        return self


class Allow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()


class Mask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[str, ...] = ()

    @field_validator("categories")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}; see TAXONOMY.md")
        return value


class Policy(BaseModel):
    """Validated policy; build with :func:`load_policy`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: Thresholds = Thresholds()
    categories: dict[str, bool] = Field(default_factory=lambda: dict.fromkeys(CATEGORIES, True))
    allow: Allow = Allow()
    mask: Mask = Mask()
    source: str = "default"

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}; the categories are {list(CATEGORIES)}")
        return {c: value.get(c, True) for c in CATEGORIES}

    def enabled(self, category: str) -> bool:
        return self.categories.get(category, True)

    def level(self, score: float) -> str:
        t = self.thresholds
        if score >= t.high:
            return "high"
        if score >= t.medium:
            return "medium"
        if score >= t.low:
            return "low"
        return "none"

    def allowed_terms(self) -> tuple[str, ...]:
        return tuple(normalize(term).text for term in self.allow.terms if term.strip())

    def allows_document(self, path: str, sha256: str) -> str | None:
        """The allow-list entry that marks this document public, if any."""
        for entry in self.allow.documents:
            if entry.lower() == sha256.lower() or fnmatch.fnmatch(path, entry):
                return entry
        return None

    def fingerprint(self) -> str:
        """A short hash of the policy's content: results from another policy are not reused."""
        data = self.model_dump_json(exclude={"source"}).encode()
        return hashlib.sha256(data).hexdigest()[:16]


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def default_policy_text() -> str:
    return resources.files("scanner").joinpath("resources/policy.toml").read_text(encoding="utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """The default policy, overridden by the TOML file at ``path``; raises :class:`PolicyError`."""
    data = tomllib.loads(default_policy_text())
    source = "default"
    if path is not None:
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise PolicyError(f"{path}: policy file not found") from exc
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PolicyError(f"{path}: not a readable TOML policy ({exc})") from exc
        data = _merge(data, user)
        source = str(path)
    try:
        return Policy(**data, source=source)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{path or 'default policy'}: {problems}") from exc
