"""Fixture report: every file of the public format fixtures through the real extraction pipeline.

Usage::

    python bench/fixtures_report.py [FIXTURES_DIR] [--workers N] [--timeout S] [--details] [--json FILE]

FIXTURES_DIR defaults to ``$MIDIAN_SHARED_DATA/format_fixtures`` (``../shared/data/format_fixtures``
next to the repository). Files run in worker processes (:class:`scanner.sandbox.WorkerPool`, as
``midian extract`` runs them) with a per-file time limit, so no file can crash or hang the report.

Printed per format (by file name ending): files, how many ended ``ok``, each non-ok status, and the
share of the fixture's ``EXPECTED_FROM_TESTS.json`` strings found in the extracted text. Those strings
come from the upstream projects' test assertions: Java escapes (``\\uXXXX``) are decoded, HTML tags
stripped, and MIME types (which are metadata in Tika, never text) left out; comparison is after
whitespace normalisation. Then: every file that did not end ``ok`` and why, the fixtures whose known
outcome (corrupt, encrypted, bomb) was not met, and the encrypted fixtures re-read with the passwords
their upstream tests publish. Exits 1 when a file ended in ``error``/``timeout`` or a known outcome
was missed for a format Midian has an extractor for.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from scanner.errors import STATUSES, error_info, status_of  # noqa: E402
from scanner.settings import Settings  # noqa: E402

EXPECTED_FILE = "EXPECTED_FROM_TESTS.json"
SKIPPED_NAMES = {EXPECTED_FILE}
SKIPPED_PREFIXES = ("LICENSE",)

# Fixtures whose outcome is known: corrupt, truncated, encrypted, bombs. A gateway must not see them "ok".
KNOWN_OUTCOMES: list[tuple[str, frozenset[str]]] = [
    ("pdfminer/zen_of_python_corrupted.pdf", frozenset({"corrupt"})),
    ("pdfminer/encryption/aes-*.pdf", frozenset({"encrypted"})),
    ("pdfminer/encryption/rc4-*.pdf", frozenset({"encrypted"})),
    ("pdfplumber/password-example.pdf", frozenset({"encrypted"})),
    ("tika/testWORD_truncated.docx", frozenset({"corrupt"})),
    ("tika/droste.zip", frozenset({"too_large", "corrupt"})),
    ("tika/testZIP_corrupted_oom.zip", frozenset({"too_large", "corrupt"})),
    ("tika/testZipEncrypted.zip", frozenset({"encrypted"})),
    ("tika/*protected_pass[tT]ika*", frozenset({"encrypted"})),
    ("tika/testODTEncrypted.odt", frozenset({"encrypted"})),
    ("poi/password_password_cryptoapi.doc", frozenset({"encrypted"})),
    ("poi/bug53475-password-is-pass.docx", frozenset({"encrypted"})),
    ("poi/protected_sha512.xlsx", frozenset({"encrypted"})),
    ("unstructured/password_protected.xlsx", frozenset({"encrypted"})),
]

# Passwords published by the fixtures' upstream tests (../shared/data/README.md); first match wins.
PASSWORDS: list[tuple[str, str]] = [
    ("*/test7Z_protected_passTika.7z", "Tika"),
    ("*_passtika.*", "tika"),
    ("pdfminer/encryption/*.pdf", "foo"),
    ("pdfplumber/password-example.pdf", "test"),
    ("*_owner_user.pdf", "user"),
    ("poi/bug53475-password-is-pass.docx", "pass"),
    ("poi/password_password_cryptoapi.doc", "password"),
]

_JAVA_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)")
_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>@]*)?/?>")
_MIME = re.compile(r"^[a-z]+/[\w.+-]+(?:;.*)?$")


def default_fixtures_dir() -> Path:
    shared = os.environ.get("MIDIAN_SHARED_DATA")
    base = Path(shared) if shared else REPO.parent / "shared" / "data"
    return base / "format_fixtures"


def normalise(text: str) -> str:
    return " ".join(text.split())


def java_unescape(text: str) -> str:
    """``\\u8868`` -> 表, ``\\"`` -> ``"``, as the strings were written in Java test sources."""
    simple = {"n": "\n", "t": "\t", "r": "\r"}

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        return simple.get(match.group(2), match.group(2))

    # decode twice: some strings were escaped once more on their way into the JSON file
    return _JAVA_ESCAPE.sub(replace, _JAVA_ESCAPE.sub(replace, text))


def expected_strings(raw: list[str]) -> list[str]:
    """The asserted strings that should appear in extracted text (markup and MIME types left out)."""
    wanted: list[str] = []
    for item in raw:
        text = normalise(_TAG.sub(" ", java_unescape(item)))
        if not text or _MIME.match(text) or text in wanted:
            continue
        wanted.append(text)
    return wanted


def load_expectations(root: Path) -> dict[str, list[str]]:
    """Relative path -> expected strings, from every ``EXPECTED_FROM_TESTS.json`` under ``root``."""
    expectations: dict[str, list[str]] = {}
    for path in sorted(root.rglob(EXPECTED_FILE)):
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        folder = path.parent.relative_to(root)
        for name, asserts in entries.items():
            strings = [s for entry in asserts for s in entry.get("asserted_strings", [])]
            expectations[(folder / name).as_posix()] = expected_strings(strings)
    return expectations


def fixture_files(root: Path) -> list[str]:
    """Every fixture under ``root`` as a sorted relative POSIX path (the expectation files left out)."""
    files = []
    for path in root.rglob("*"):
        if path.is_file() and path.name not in SKIPPED_NAMES and not path.name.startswith(SKIPPED_PREFIXES):
            files.append(path.relative_to(root).as_posix())
    return sorted(files)


def known_outcome(relative: str) -> frozenset[str] | None:
    for pattern, statuses in KNOWN_OUTCOMES:
        if fnmatch.fnmatchcase(relative, pattern):
            return statuses
    return None


def published_password(relative: str) -> str | None:
    for pattern, password in PASSWORDS:
        if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase("*/" + relative, pattern):
            return password
    return None


def format_of(relative: str) -> str:
    return PurePosixPath(relative).suffix.lower() or "(none)"


@dataclass
class Task:
    root: str
    relative: str
    settings: Settings
    expected: list[str] = field(default_factory=list)
    password: str | None = None


@dataclass
class FileResult:
    relative: str
    status: str
    error: dict[str, str] | None = None
    extractor: str | None = None
    blocks: int = 0
    chars: int = 0
    expected: int = 0
    found: int = 0
    missing: list[str] = field(default_factory=list)
    member_errors: int = 0
    seconds: float = 0.0
    password: str | None = None

    @property
    def share(self) -> float | None:
        return self.found / self.expected if self.expected else None


def run_one(task: Task) -> FileResult:
    """Extract one fixture and score its expected strings (runs inside a worker process)."""
    from scanner.extraction import extract_path

    start = time.perf_counter()
    result = extract_path(os.path.join(task.root, task.relative), settings=task.settings, password=task.password)
    text = normalise("\n".join(block.text for block in result.blocks))
    missing = [s for s in task.expected if s not in text]
    return FileResult(
        relative=task.relative,
        status=result.status,
        error=result.error,
        extractor=result.format,
        blocks=len(result.blocks),
        chars=len(text),
        expected=len(task.expected),
        found=len(task.expected) - len(missing),
        missing=missing,
        member_errors=len(result.member_errors),
        seconds=time.perf_counter() - start,
        password=task.password,
    )


def run(root: Path, files: list[str], *, workers: int = 2, timeout: float = 60.0,
        passwords: dict[str, str] | None = None) -> list[FileResult]:
    """Results for ``files`` (relative to ``root``) in order; a crash or hang costs only its own file."""
    from scanner.sandbox import WorkerPool

    settings = Settings(file_timeout_s=timeout)
    expectations = load_expectations(root)
    passwords = passwords or {}
    tasks = [Task(str(root), rel, settings, expectations.get(rel, []), passwords.get(rel)) for rel in files]

    def failed(task: Task, exc: BaseException) -> FileResult:
        return FileResult(relative=task.relative, status=status_of(exc), error=error_info(exc),
                          expected=len(task.expected), missing=list(task.expected), password=task.password)

    # the pool's own limit sits a little above the in-process one, which reports a cleaner timeout
    with WorkerPool(run_one, workers=workers, timeout=timeout + 15, memory_mb=settings.worker_memory_mb,
                    max_tasks=settings.worker_max_tasks) as pool:
        return list(pool.map(tasks, failed))


def extensions_with_extractor() -> set[str]:
    from scanner.extraction import registered

    return {ext for cls in registered().values() for ext in cls.extensions}


def missed_outcomes(results: list[FileResult]) -> list[tuple[FileResult, frozenset[str], bool]]:
    """``(result, wanted statuses, extractor exists)`` for known fixtures that ended otherwise."""
    covered = extensions_with_extractor()
    missed = []
    for result in results:
        wanted = known_outcome(result.relative)
        if wanted is not None and result.status not in wanted:
            missed.append((result, wanted, format_of(result.relative) in covered))
    return missed


# --- printing -----------------------------------------------------------------------------------
def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def print_report(root: Path, results: list[FileResult], retried: list[FileResult], elapsed: float,
                 workers: int, timeout: float, details: bool) -> None:
    out = sys.stdout
    out.write(f"Midian fixture report: {len(results)} files from {root} ({workers} workers, {timeout:g} s per file), "
              f"{elapsed:.1f} s\n\n")
    statuses = [s for s in STATUSES if s != "ok"]
    by_format: dict[str, list[FileResult]] = defaultdict(list)
    for result in results:
        by_format[format_of(result.relative)].append(result)
    header = f"{'format':<10}{'files':>6}{'ok':>5}" + "".join(f"{s:>12}" for s in statuses) + f"{'expected found':>17}"
    out.write(header + "\n" + "-" * len(header) + "\n")

    def row(label: str, group: list[FileResult]) -> str:
        counts = Counter(r.status for r in group)
        shares = [r.share for r in group if r.share is not None]
        mean = sum(shares) / len(shares) if shares else None
        scored = f"{_percent(mean)} ({len(shares)} files)" if shares else "-"
        return (f"{label:<10}{len(group):>6}{counts['ok']:>5}" + "".join(f"{counts[s] or '':>12}" for s in statuses)
                + f"{scored:>17}")

    for fmt in sorted(by_format):
        out.write(row(fmt, by_format[fmt]) + "\n")
    out.write("-" * len(header) + "\n" + row("total", results) + "\n")
    total_expected = sum(r.expected for r in results)
    total_found = sum(r.found for r in results)
    if total_expected:
        out.write(f"\nexpected strings found over all fixtures: {total_found}/{total_expected} "
                  f"({_percent(total_found / total_expected)})\n")

    failed = [r for r in results if r.status != "ok"]
    out.write(f"\nFiles that did not end ok ({len(failed)}):\n")
    for result in failed:
        message = (result.error or {}).get("message", "").replace("\n", " ")
        out.write(f"  {result.status:<12} {result.relative}: {(result.error or {}).get('type', '')}: {message[:160]}\n")

    missed = missed_outcomes(results)
    out.write(f"\nKnown corrupt/encrypted/bomb fixtures that missed their outcome ({len(missed)}):\n")
    for result, wanted, covered in missed:
        note = "" if covered else "  (no extractor for this format yet)"
        out.write(f"  {result.relative}: {result.status}, wanted {'/'.join(sorted(wanted))}{note}\n")

    if retried:
        out.write("\nEncrypted fixtures re-read with their published passwords:\n")
        for result in retried:
            out.write(f"  {result.status:<12} {result.relative} (password {result.password!r}), {result.blocks} blocks, "
                      f"expected {_percent(result.share)}\n")

    if details:
        out.write("\nExpected strings not found (per file):\n")
        for result in results:
            if result.missing and result.status == "ok":
                shown = ", ".join(repr(s[:60]) for s in result.missing[:8])
                out.write(f"  {result.relative} [{_percent(result.share)}]: {shown}\n")
        slow = sorted(results, key=lambda r: r.seconds, reverse=True)[:10]
        out.write("\nSlowest files:\n")
        for result in slow:
            out.write(f"  {result.seconds:7.2f} s  {result.relative} ({result.status})\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=None, help="fixtures folder (default: shared data)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per file")
    parser.add_argument("--details", action="store_true", help="list missing expected strings and the slowest files")
    parser.add_argument("--json", type=Path, default=None, help="also write every result to this file")
    args = parser.parse_args(argv)
    root = args.root or default_fixtures_dir()
    if not root.is_dir():
        print(f"fixtures folder {root} not found; pass it or set MIDIAN_SHARED_DATA", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = run(root, fixture_files(root), workers=args.workers, timeout=args.timeout)
    retry = {r.relative: pw for r in results if r.status == "encrypted" and (pw := published_password(r.relative))}
    retried = run(root, sorted(retry), workers=args.workers, timeout=args.timeout, passwords=retry) if retry else []
    elapsed = time.perf_counter() - start
    print_report(root, results, retried, elapsed, args.workers, args.timeout, args.details)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results + retried], ensure_ascii=False, indent=1),
                             encoding="utf-8")
    broken = [r for r in results if r.status in ("error", "timeout")]
    missed = [m for m in missed_outcomes(results) if m[2]]
    return 1 if broken or missed else 0


if __name__ == "__main__":
    sys.exit(main())
