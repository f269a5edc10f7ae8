"""The command line: version, extract output formats, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scanner import __version__
from scanner.cli import main


def midian(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], input=stdin, capture_output=True, timeout=300)


def test_version() -> None:
    result = midian("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"midian {__version__}"


def test_extract_jsonl_one_object_per_file_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("乙", encoding="utf-8")
    (tmp_path / "a.txt").write_text("甲", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("丙", encoding="utf-8")
    result = midian("extract", str(tmp_path), "--format", "jsonl", "--workers", "1")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [Path(obj["path"]).name for obj in lines] == ["a.txt", "b.txt", "c.txt"]
    assert all(obj["schema"] == "midian.extract/1" and obj["status"] == "ok" for obj in lines)
    assert lines[0]["blocks"][0]["text"] == "甲"
    assert lines[0]["blocks"][0]["location"]["part"] == "body"


def test_extract_reads_standard_input() -> None:
    result = midian("extract", "-", "--format", "jsonl", stdin="机密文件".encode())
    assert result.returncode == 0
    assert json.loads(result.stdout)["blocks"][0]["text"] == "机密文件"


def test_missing_path_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["extract", "/definitely/not/here"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_unreadable_file_gets_status_and_exit_code_3(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(bytes(range(256)) * 4)
    result = midian("extract", str(tmp_path / "x.bin"), "--format", "jsonl", "--workers", "1")
    assert result.returncode == 3
    obj = json.loads(result.stdout)
    assert obj["status"] == "unsupported" and obj["error"]["type"] == "UnsupportedFormatError"
    assert result.stderr  # diagnostics on stderr, never stdout


def test_hostile_file_names_are_reported_as_valid_utf8(tmp_path: Path) -> None:
    import os

    with open(os.fsencode(tmp_path) + b"/bad-\xff\xfe-name.txt", "wb") as fh:
        fh.write("秘密".encode())
    result = midian("extract", str(tmp_path), "--format", "jsonl", "--workers", "1")
    assert result.returncode == 0
    obj = json.loads(result.stdout.decode("utf-8"))
    assert obj["path"].endswith("bad-\ufffd\ufffd-name.txt")
