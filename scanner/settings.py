"""Every default of Midian in one validated settings object.

Values come from keyword arguments, then ``MIDIAN_*`` environment variables (``MIDIAN_MAX_FILE_BYTES``,
``MIDIAN_DATA_DIR``, ...), then the defaults below. Library code receives a :class:`Settings` and never
reads the environment itself.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "midian"


class Settings(BaseSettings):
    """Limits, locations and service settings; override any field with ``MIDIAN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MIDIAN_", extra="ignore", frozen=True)

    # --- where things live -------------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="database, spool, registry, keys")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in data_dir")
    model_dir: Path | None = Field(None, description="model directory; default: the shipped models/")
    policy_file: Path | None = Field(None, description="policy TOML; default: the shipped policy")
    registry_path: Path | None = Field(None, description="registry database; default: data_dir/registry.db")

    # --- extraction safety limits ----------------------------------------------------------
    max_file_bytes: int = Field(512 * MiB, gt=0, description="largest input file read at all")
    max_pages: int = Field(5000, gt=0, description="PDF pages / slides / sheets read per document")
    max_blocks: int = Field(200_000, gt=0, description="text blocks kept per document")
    max_text_chars: int = Field(50_000_000, gt=0, description="characters extracted per document")
    max_archive_depth: int = Field(4, ge=0, description="nesting of archives, e-mails and embedded files")
    max_archive_members: int = Field(10_000, gt=0, description="members read from one archive")
    max_expansion_ratio: float = Field(200.0, gt=1, description="uncompressed/compressed size (zip bombs)")
    max_expanded_bytes: int = Field(1024 * MiB, gt=0, description="total bytes unpacked from one input")
    max_xml_part_bytes: int = Field(256 * MiB, gt=0, description="largest XML part parsed from a package")
    max_image_pixels: int = Field(60_000_000, gt=0, description="largest image handed to OCR")
    file_timeout_s: float = Field(120.0, gt=0, description="wall-clock limit per file, in a worker")
    worker_memory_mb: int = Field(4096, ge=256, description="address-space ceiling of a worker process")
    worker_max_tasks: int = Field(200, ge=1, description="files a worker handles before it is replaced")

    # --- extraction choices -----------------------------------------------------------------
    ocr: bool = Field(True, description="OCR image-only pages and images when the `ocr` extra is installed")
    ocr_max_pages: int = Field(50, ge=0, description="pages OCR'd per document")
    pdftotext: bool = Field(True, description="use poppler's pdftotext for PDF text when it is on PATH")

    # --- execution ----------------------------------------------------------------------------
    workers: int = Field(0, ge=0, description="worker processes; 0 means one per CPU core")
    progress_interval_s: float = Field(10.0, gt=0, description="seconds between progress lines when stderr is not a terminal")

    # --- reports ----------------------------------------------------------------------------
    report_detail_files: int = Field(200, ge=0, description="riskiest files shown passage by passage in the HTML report")

    # --- service ----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = Field(100 * MiB, gt=0)
    max_files_per_job: int = Field(10_000, gt=0)
    rate_limit_per_minute: int = Field(600, ge=0, description="requests per API key per minute; 0: off")
    allowed_roots: list[Path] = Field(default_factory=list, description="server-side roots jobs may scan")
    scheduler: str | None = Field(None, description="Dask scheduler address; the service's batch jobs run there when set")
    max_pending_scans: int = Field(64, gt=0, description="synchronous scans waiting for a worker before the service answers 503")
    max_connections: int = Field(256, gt=0, description="concurrent connections before the service answers 503")
    results_page_size: int = Field(100, gt=0, le=1000, description="job results per page unless the caller asks otherwise")
    shutdown_grace_s: float = Field(30.0, ge=0, description="on SIGTERM, time to finish files in flight before re-queueing them")

    def worker_count(self) -> int:
        """Worker processes to start: the setting, or one per core."""
        return self.workers or (os.cpu_count() or 1)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'midian.db'}"

    @property
    def registry_file(self) -> Path:
        return self.registry_path or self.data_dir / "registry.db"

    @property
    def spool_dir(self) -> Path:
        """Where the service keeps uploaded bytes until their file is scanned."""
        return self.data_dir / "spool"

    @property
    def keys_file(self) -> Path:
        """The service's API keys (hashed), written by ``midian keys create``."""
        return self.data_dir / "keys.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (cached)."""
    return Settings()
