"""Midian's HTTP service: synchronous checks for gateways and durable batch jobs (``midian serve``).

This package only translates HTTP into library calls: :mod:`service.app` (routes, lifespan),
:mod:`service.auth` (hashed API keys, roles, rate limits), :mod:`service.db` (SQLAlchemy models and
sessions), :mod:`service.jobs` (the durable queue and its runner), :mod:`service.scanning` (the warm
worker pool, the batch engine, masking), :mod:`service.spool` (uploads on disk),
:mod:`service.metrics` (Prometheus) and :mod:`service.errors` (problem+json).
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: `midian keys` needs service.auth alone, without FastAPI and the scanner behind the app.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
