"""Reading the upstream test suites' expected strings (``*/EXPECTED_FROM_TESTS.json``) for fixture tests.

The JSON lists every string literal the upstream tests assert about a file: text the parser must
find, but also MIME types, file names, HTML markup and error messages. :func:`text_expectations`
keeps the ones that are document text, with Java ``\\uXXXX`` escapes decoded, so a test can report
which share of them Midian finds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from scanner.data import Extraction

_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_FILE_NAME = re.compile(r"^[\w\-./\\:]+\.[A-Za-z0-9]{2,5}$")
_NOISE = ("metadata.get", "audio/", "$Build", "custom:", "org.apache", "application/", "text/", "x-tika", "vnd.", "Did not contain",
          "expected", "Exception", "Unable to", "WARNING", "actual {", "strategy ==", "_DocxPartitioner", "Invalid target")
_SPACE = re.compile(r"\s+")


def _unescape(text: str) -> str:
    text = _UNICODE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_DATE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:]+Z?$|^PT[\dHMS]+$")


def _is_text(text: str) -> bool:
    stripped = text.strip()
    return (not _DATE.match(stripped) and len(stripped) >= 4 and "<" not in text and ">" not in text and not _FILE_NAME.match(stripped)
            and not any(noise in text for noise in _NOISE) and not stripped.startswith(("http", "/", "(", ")", ",")))


@lru_cache(maxsize=8)
def _load(folder: Path) -> dict[str, list[str]]:
    path = folder / "EXPECTED_FROM_TESTS.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: [s for entry in entries for s in entry.get("asserted_strings", [])] for name, entries in data.items()}


def text_expectations(path: Path, root: Path) -> list[str]:
    """Distinct document-text strings the upstream tests expect in ``path`` (relative to its fixture folder)."""
    folder = root / path.relative_to(root).parts[0]
    strings = _load(folder).get(str(path.relative_to(folder)), [])
    out: list[str] = []
    for raw in strings:
        text = _unescape(raw)
        if _is_text(text) and text not in out:
            out.append(text)
    return out


def normalised(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def haystack(result: Extraction) -> str:
    return normalised(" ".join(block.text for block in result.blocks))


def found(expected: Iterable[str], result: Extraction) -> tuple[int, int]:
    """``(found, total)`` of the expected strings present in the extracted text (whitespace-insensitive)."""
    text = haystack(result)
    squeezed = text.replace(" ", "")
    total = hits = 0
    for string in expected:
        total += 1
        needle = normalised(string)
        hits += needle in text or needle.replace(" ", "") in squeezed
    return hits, total


def fixture_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Fixture files under ``root`` (format fixtures and the real Office files) with one of ``suffixes``."""
    folders = [root / "format_fixtures", root / "hard_negatives_zh" / "poi_real_docs", root / "hard_negatives_en" / "poi_real_docs"]
    return sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.suffix.lower() in suffixes)
