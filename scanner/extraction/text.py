"""Plain text, Markdown, CSV and TSV, with encoding detection for Chinese files.

Encodings are found in this order: a byte-order mark; UTF-16 without a mark (NUL bytes on alternate
positions); strict UTF-8; then the Chinese legacy encodings GB18030 and Big5, decided by how many of the
decoded characters are common Chinese characters (GB2312 level 1 or Big5 frequent characters: a wrong
guess decodes to rare ones); then charset-normalizer for everything else.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterator
from functools import lru_cache

from ..data import Block, Location
from ..errors import CorruptDocumentError
from .base import Context, Extractor, Source, register
from .tables import next_header, row_block

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@lru_cache(maxsize=1)
def _common_cjk() -> frozenset[str]:
    """The ~3,755 most common simplified and ~5,400 most common traditional characters."""
    chars: set[str] = set()
    for b1 in range(0xB0, 0xD8):  # GB2312 level 1
        for b2 in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((b1, b2)).decode("gb2312"))
    for b1 in range(0xA4, 0xC7):  # Big5 frequently used characters
        for b2 in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((b1, b2)).decode("big5"))
    return frozenset(chars)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _common_share(text: str) -> tuple[float, int]:
    common = _common_cjk()
    cjk = [ch for ch in text if _is_cjk(ch)]
    if not cjk:
        return 0.0, 0
    return sum(ch in common for ch in cjk) / len(cjk), len(cjk)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_nul = sample[0::2].count(0) / (len(sample) // 2)
    odd_nul = sample[1::2].count(0) / (len(sample) // 2)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def detect_encoding(data: bytes) -> str:
    """The most plausible text encoding of ``data`` (see the module docstring)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if (utf16 := _utf16_without_bom(data)) is not None:
        return utf16
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a file cut in the middle of a character is still UTF-8
        if (exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
                and not data[: exc.start].isascii()):
            return "utf-8"
    sample = data[: 1 << 16]
    best: tuple[float, str] | None = None
    candidates = ["gb18030", "big5"] + (["utf-16-le", "utf-16-be"] if len(data) % 2 == 0 else [])
    for name in candidates:
        try:
            text = sample.decode(name)
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 2:  # not just a truncated last character
                continue
            text = sample[: exc.start].decode(name)
        share, count = _common_share(text)
        if count >= 2 and share >= 0.6 and (best is None or share > best[0]):
            best = (share, name)
    if best is not None:
        return best[1]
    from charset_normalizer import from_bytes

    match = from_bytes(sample).best()
    if match is not None and match.encoding:
        return match.encoding
    return "latin-1"


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``; undecodable bytes become U+FFFD rather than an error."""
    encoding = detect_encoding(data)
    text = data.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


# every byte except C0 control characters (TAB, LF, VT, FF, CR and ESC count as text)
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32) or b == 27)


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if not sample:
        return False
    if _utf16_without_bom(sample) or any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    control = len(sample.translate(None, _NOT_CONTROL))
    if b"\x00" not in sample and control / len(sample) <= 0.1:
        return False
    # UTF-16 Chinese without a byte-order mark has NULs and control bytes but decodes to common characters
    even = sample[: len(sample) // 2 * 2]
    for name in ("utf-16-le", "utf-16-be"):
        share, count = _common_share(even.decode(name, errors="replace"))
        if count >= 2 and share >= 0.6:
            return False
    return True


_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def paragraph_blocks(text: str, location: Location | None = None) -> Iterator[Block]:
    """One block per paragraph (text between blank lines), each with its first line number."""
    location = location or Location()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pos = 0
    line = 1
    for match in _BLANK_LINE.finditer(text):
        chunk = text[pos : match.start()]
        if chunk.strip():
            yield Block(text=chunk.strip("\n"), location=_at_line(location, line + _leading_newlines(chunk)))
        line += text.count("\n", pos, match.end())
        pos = match.end()
    chunk = text[pos:]
    if chunk.strip():
        yield Block(text=chunk.strip("\n"), location=_at_line(location, line + _leading_newlines(chunk)))


def _leading_newlines(chunk: str) -> int:
    return len(chunk) - len(chunk.lstrip("\n"))


def _at_line(location: Location, line: int) -> Location:
    from dataclasses import replace

    return replace(location, line=line)


@register
class TextExtractor(Extractor):
    """Any text file: paragraphs with line numbers."""

    name = "text"
    extensions = (".txt", ".text", ".log", ".ini", ".cfg", ".conf", ".json", ".xml", ".yaml", ".yml", ".tex", ".srt")
    priority = 90

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return not _looks_binary(source.data)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        if _looks_binary(source.data):
            raise CorruptDocumentError(f"{source.name}: binary data where text was expected")
        text, encoding = decode_text(source.data)
        if "\ufffd" in text and text.count("\ufffd") > len(text) / 100:
            ctx.warn(f"text decoded as {encoding} with {text.count(chr(0xFFFD))} undecodable bytes")
        yield from paragraph_blocks(text)


_FENCE = re.compile(r"^(```|~~~)")


@register
class MarkdownExtractor(Extractor):
    """Markdown: paragraphs, fenced code as ``code`` blocks, pipe tables as table rows."""

    name = "markdown"
    extensions = (".md", ".markdown", ".mdown", ".rst")
    priority = 85

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.suffix in cls.extensions and not _looks_binary(source.data)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        text, _ = decode_text(source.data)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        buf: list[str] = []
        buf_line = 1
        table = 0
        i = 0

        def flush() -> Iterator[Block]:
            if buf and any(s.strip() for s in buf):
                yield Block(text="\n".join(buf).strip("\n"), location=Location(line=buf_line),
                            kind="heading" if len(buf) == 1 and buf[0].lstrip().startswith("#") else "text")
            buf.clear()

        while i < len(lines):
            line = lines[i]
            if _FENCE.match(line.strip()):
                yield from flush()
                start = i + 1
                i += 1
                while i < len(lines) and not _FENCE.match(lines[i].strip()):
                    i += 1
                code = "\n".join(lines[start:i])
                if code.strip():
                    yield Block(text=code, location=Location(line=start + 1), kind="code")
                i += 1
                buf_line = i + 1
                continue
            if line.lstrip().startswith("|") and line.count("|") >= 2:
                yield from flush()
                table += 1
                header: str | None = None
                row = 0
                while i < len(lines) and lines[i].lstrip().startswith("|"):
                    cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                    if not all(re.fullmatch(r":?-{2,}:?", c) or not c for c in cells):
                        row += 1
                        block = row_block(list(enumerate(cells, 1)), row=row, location=Location(line=i + 1),
                                          header=header, table=table, spreadsheet=False)
                        if block is not None:
                            header = next_header(header, block)
                            yield block
                    i += 1
                buf_line = i + 1
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                yield from flush()
                if line.strip():
                    buf.append(line)
                    buf_line = i + 1
                    yield from flush()
                buf_line = i + 2
            else:
                if not buf:
                    buf_line = i + 1
                buf.append(line)
            i += 1
        yield from flush()


@register
class DelimitedExtractor(Extractor):
    """CSV and TSV: one table-row block per record, cells addressed like a sheet (A1, B2, ...)."""

    name = "csv"
    extensions = (".csv", ".tsv", ".tab")
    priority = 80

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.suffix in cls.extensions and not _looks_binary(source.data)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        text, _ = decode_text(source.data)
        if source.suffix in (".tsv", ".tab"):
            delimiter = "\t"
        else:
            try:
                delimiter = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        csv.field_size_limit(ctx.settings.max_text_chars)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header: str | None = None
        location = Location(part="body")
        try:
            for row_number, record in enumerate(reader, 1):
                if row_number % 1000 == 0:
                    ctx.check_time()
                block = row_block(list(enumerate(record, 1)), row=row_number, location=location, header=header, table=1)
                if block is None:
                    continue
                header = next_header(header, block)
                yield block
        except csv.Error as exc:
            raise CorruptDocumentError(f"{source.name}: malformed CSV at line {reader.line_num}: {exc}") from exc
