"""The spool: uploaded bytes on disk until their file is scanned, then deleted.

Uploads are streamed from the request straight into the spool (never held whole in memory), one
directory per file so that the file keeps its own name — extraction reports and sniffs with it —
while the directory name, not the caller, decides where it lands:

    spool/scan/<random>/<name>          a synchronous /v1/scan upload, deleted when the answer is sent
    spool/jobs/<job id>/<seq>/<name>    a job's file, deleted when its result is recorded

The caller's file name is only a label: it is reduced to a safe base name for the spool and never
used as a path. On start the service sweeps whatever a crash left behind (:meth:`Spool.sweep`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from .errors import Problem

MAX_NAME_BYTES = 180
MAX_DISPLAY_CHARS = 1024
MAX_FIELDS = 16
MAX_FIELD_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_name(filename: str | None) -> str:
    """A base name safe to create in a spool directory (no separators, no control characters)."""
    name = _CONTROL.sub("", (filename or "").replace("\\", "/")).rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return "upload"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext.encode()) <= 16 else ""
        stem = (stem if dot else name).encode("utf-8")[: MAX_NAME_BYTES - len(ext.encode()) - 1].decode("utf-8", "ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name


def display_name(filename: str | None) -> str:
    """The caller's file name as results report it: printable, bounded, never a path we open."""
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in (filename or ""))
    return name.strip()[:MAX_DISPLAY_CHARS] or "upload"


@dataclass
class Upload:
    """One uploaded file in the spool."""

    name: str  # the caller's name (display)
    path: Path  # where it sits in the spool
    size: int = 0
    sha256: str = ""


@dataclass
class Form:
    """A parsed multipart body: its files (in order) and its text fields."""

    files: list[Upload] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


class Spool:
    """The spool directory of one data directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.scans = self.root / "scan"
        self.jobs = self.root / "jobs"

    def create(self) -> Spool:
        for d in (self.root, self.scans, self.jobs):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self

    def scan_dir(self) -> Path:
        """A fresh directory for one synchronous scan."""
        path = self.scans / secrets.token_hex(8)
        path.mkdir(mode=0o700)
        return path

    def job_dir(self, job_id: str) -> Path:
        return self.jobs / job_id

    def file_dir(self, job_id: str, seq: int) -> Path:
        return self.jobs / job_id / str(seq)

    def discard(self, path: Path | str) -> None:
        """Delete a spooled file's directory (only ever inside the spool)."""
        directory = Path(path).parent
        if self._inside(directory):
            shutil.rmtree(directory, ignore_errors=True)

    def discard_dir(self, directory: Path) -> None:
        if self._inside(directory):
            shutil.rmtree(directory, ignore_errors=True)

    def sweep(self, active_jobs: set[str]) -> int:
        """Delete what no live job or request owns (left by a crash); returns the entries removed."""
        removed = 0
        for parent, keep in ((self.scans, set()), (self.jobs, active_jobs)):
            for entry in os.scandir(parent) if parent.is_dir() else ():
                if entry.name not in keep:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed += 1
        return removed

    def _inside(self, path: Path) -> bool:
        root = os.path.realpath(self.root)
        return os.path.realpath(path).startswith(root + os.sep)


async def read_multipart(
    request: Request,
    *,
    file_field: str,
    max_files: int,
    place: Callable[[int, str], Path],
    text_fields: tuple[str, ...] = (),
) -> Form:
    """Stream a ``multipart/form-data`` body into the spool.

    Args:
        request: the request whose body to read.
        file_field: the form field that carries files (``file`` or ``files``).
        max_files: more files than this is a 413.
        place: ``(index, safe name) -> path`` of the spool file for the index-th file (its
            directory is created here).
        text_fields: the text fields the caller may send; others are refused.

    Raises:
        Problem: 400 for a malformed body or an unexpected field, 413 for too many files. Files
        already written stay where ``place`` put them: the caller removes them.
    """
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise Problem(400, "multipart body without a boundary")
    reader = _FormReader(file_field, max_files, place, text_fields)
    try:
        parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
            if reader.problem is not None:
                raise reader.problem
        parser.finalize()
    except MultipartParseError as exc:
        raise Problem(400, "malformed multipart body") from exc
    except ClientDisconnect as exc:  # nobody to answer; the caller cleans up
        raise Problem(400, "the client disconnected during the upload") from exc
    finally:
        reader.close()
    if reader.problem is not None:
        raise reader.problem
    if reader.open_part:
        raise Problem(400, "the multipart body ends in the middle of a part")
    return reader.form


class _FormReader:
    """python-multipart callbacks that write file parts into the spool as they arrive."""

    def __init__(self, file_field: str, max_files: int, place: Callable[[int, str], Path],
                 text_fields: tuple[str, ...]) -> None:
        self.file_field = file_field
        self.max_files = max_files
        self.place = place
        self.text_fields = text_fields
        self.form = Form()
        self.problem: Problem | None = None
        self.open_part = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._field: str | None = None
        self._text: bytearray | None = None
        self._out: IO[bytes] | None = None
        self._hash: hashlib._Hash | None = None
        self._upload: Upload | None = None

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_cb,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _fail(self, problem: Problem) -> None:
        if self.problem is None:
            self.problem = problem

    def _part_begin(self) -> None:
        self.open_part = True
        self._disposition = b""
        self._field = None
        self._text = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        if self.problem is not None:
            return
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            self._fail(Problem(400, "a multipart part has no Content-Disposition name"))
            return
        self._field = name.decode("utf-8", "replace")
        if self._field == self.file_field:
            if len(self.form.files) >= self.max_files:
                self._fail(Problem(413, f"more than {self.max_files} file(s) in one request"))
                return
            raw = options.get(b"filename")
            filename = raw.decode("utf-8", "replace") if raw is not None else None
            path = self.place(len(self.form.files), safe_name(filename))
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._upload = Upload(display_name(filename), path)
            self.form.files.append(self._upload)
            self._out = open(path, "xb")  # noqa: SIM115 - closed in _part_end or close()
            self._hash = hashlib.sha256()
        elif self._field in self.text_fields and len(self.form.fields) < MAX_FIELDS:
            self._text = bytearray()
        else:
            expected = ", ".join([self.file_field, *self.text_fields])
            self._fail(Problem(400, f"unexpected form field {self._field[:64]!r}; this endpoint takes {expected}"))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.problem is not None:
            return
        chunk = data[start:end]
        if self._out is not None and self._upload is not None and self._hash is not None:
            self._out.write(chunk)
            self._hash.update(chunk)
            self._upload.size += len(chunk)
        elif self._text is not None:
            if len(self._text) + len(chunk) > MAX_FIELD_BYTES:
                self._fail(Problem(413, f"form field {self._field!r} is longer than {MAX_FIELD_BYTES} bytes"))
                return
            self._text.extend(chunk)

    def _part_end(self) -> None:
        self.open_part = False
        if self._out is not None and self._upload is not None and self._hash is not None:
            self._out.close()
            self._upload.sha256 = self._hash.hexdigest()
            self._out = None
        elif self._text is not None and self._field is not None and self.problem is None:
            self.form.fields[self._field] = self._text.decode("utf-8", "replace")
            self._text = None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
