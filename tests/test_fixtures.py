"""The public format fixtures through the real pipeline: every file ends with ok or a typed status.

Runs a representative subset (every fixture with a known bad outcome plus the first files of each
format) in worker processes, as ``midian extract`` does; ``bench/fixtures_report.py`` runs them all.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from bench.fixtures_report import (
    extensions_with_extractor,
    fixture_files,
    format_of,
    java_unescape,
    known_outcome,
    missed_outcomes,
    published_password,
    run,
)

pytestmark = pytest.mark.fixtures

TYPED = {"ok", "encrypted", "corrupt", "unsupported", "too_large"}
PER_FORMAT = 2


def subset(files: list[str]) -> list[str]:
    chosen: list[str] = []
    per_format: dict[str, int] = defaultdict(int)
    for relative in files:
        fmt = format_of(relative)
        if known_outcome(relative) is not None or per_format[fmt] < PER_FORMAT:
            chosen.append(relative)
            per_format[fmt] += 1
    return chosen


@pytest.fixture(scope="module")
def results(shared_data):  # type: ignore[no-untyped-def]
    root = shared_data / "format_fixtures"
    return run(root, subset(fixture_files(root)), workers=2, timeout=60)


def test_every_file_ends_ok_or_with_a_typed_status(results) -> None:  # type: ignore[no-untyped-def]
    untyped = [(r.relative, r.status, r.error) for r in results if r.status not in TYPED]
    assert untyped == []
    assert all(r.status == "ok" or r.error for r in results)


def test_known_corrupt_encrypted_and_bomb_fixtures_are_not_ok(results) -> None:  # type: ignore[no-untyped-def]
    assert any(known_outcome(r.relative) for r in results)
    missed = [(r.relative, r.status, sorted(wanted)) for r, wanted, covered in missed_outcomes(results) if covered]
    assert missed == []


def test_encrypted_fixtures_open_with_their_published_passwords(shared_data, results) -> None:  # type: ignore[no-untyped-def]
    covered = extensions_with_extractor()
    retry = {r.relative: pw for r in results if r.status == "encrypted" and format_of(r.relative) in covered
             and (pw := published_password(r.relative))}
    assert retry, "no encrypted fixture with a published password in the subset"
    reopened = run(shared_data / "format_fixtures", sorted(retry), workers=2, timeout=60, passwords=retry)
    assert [(r.relative, r.status) for r in reopened if r.status != "ok" and r.relative not in UNDECRYPTABLE] == []
    assert all(r.status == "unsupported" for r in reopened if r.relative in UNDECRYPTABLE)


# Encryption variants msoffcrypto-tool cannot decrypt even with the right password: reported as
# `unsupported` (a clear status), not silently read.
UNDECRYPTABLE = {"poi/bug53475-password-is-pass.docx"}  # agile encryption with a 160-bit AES key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("\\u8868", "表"), ('width=\\"2\\"', 'width="2"'), ("a\\\\u00e9", "aé"), ("plain", "plain")],
)
def test_java_unescape(raw: str, expected: str) -> None:
    assert java_unescape(raw) == expected
