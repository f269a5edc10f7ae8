"""Shared test fixtures: the public data folder, temporary settings, small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.settings import Settings

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_data_dir() -> Path:
    """``../shared/data`` or ``$MIDIAN_SHARED_DATA``: real public documents, not part of the repository."""
    return Path(os.environ.get("MIDIAN_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is absent (set MIDIAN_SHARED_DATA to use it)")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the data directory in a temporary folder."""
    return Settings(data_dir=tmp_path / "data")
