"""Positioned lines into paragraphs: shared by the PDF text layer and OCR of pages and images.

PDF text engines and OCR give lines with boxes but not paragraphs. A new paragraph starts where the
vertical gap between two lines is clearly wider than the usual line pitch, where reading goes back up
the page (a new column), where a line is indented as a first line, or after a short line that ends a
sentence. Lines inside a paragraph are joined with a space, or with nothing where either side of the
break is Chinese or Japanese (a line break inside a CJK sentence is not a word break), where a
CJK line was broken inside a number, or where a hyphenated word was split.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

# Sentence-final punctuation: a short line ending with one of these closes its paragraph.
_FINAL = frozenset("。！？!?.:：;；…」』”)）")


class Line(NamedTuple):
    """One line of text and its box, in page units with y growing downwards (a tuple: pages have thousands)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


def is_cjk(ch: str) -> bool:
    """Han, kana and full-width forms: scripts written without spaces between words (Korean uses spaces)."""
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # extensions B and later
    )


_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]")
_SPACE = re.compile(r"\s")


def _mostly_cjk(line: str) -> bool:
    chars = len(line) - _SPACE.subn("", line)[1]
    return chars > 0 and _CJK.subn("", line)[1] * 2 >= chars


def join_lines(lines: Iterable[str]) -> str:
    """Lines of one paragraph as one string (see the module docstring for the joining rules)."""
    text = ""
    previous = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not text:
            text = line
        elif is_cjk(text[-1]) or is_cjk(line[0]):
            text += line
        elif text[-1] in "-\u00ad" and len(text) > 1 and text[-2].isalpha() and line[0].islower():
            text = text[:-1] + line  # a word hyphenated at the line end
        elif not (text[-1].isalpha() and line[0].isalpha()) and _mostly_cjk(previous):
            text += line  # Chinese typesetting breaks lines inside numbers ("2." / "5小时") too
        else:
            text += " " + line
        previous = line
    return text


def paragraphs(lines: Sequence[Line]) -> Iterator[list[Line]]:
    """Group lines given in reading order into paragraphs."""
    if not lines:
        return
    em = _em(lines)
    for run in _runs(lines, em):
        yield from _split_run(run, em)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _em(lines: Sequence[Line]) -> float:
    """The typical line height: the unit the layout rules are measured in."""
    heights = [ln.bottom - ln.top for ln in lines if ln.bottom > ln.top]
    return _median(heights) if heights else 10.0


def _runs(lines: Sequence[Line], em: float) -> Iterator[list[Line]]:
    """Split where reading jumps back up the page: a new column or a new box."""
    run = [lines[0]]
    for prev, line in zip(lines, lines[1:], strict=False):
        if line.top - prev.top < -0.5 * em:
            yield run
            run = []
        run.append(line)
    yield run


def _split_run(lines: list[Line], em: float) -> Iterator[list[Line]]:
    steps = [b.top - a.top for a, b in zip(lines, lines[1:], strict=False) if 0.3 * em < b.top - a.top < 4 * em]
    pitch = _median(steps) if steps else 1.2 * em
    gap = pitch * 1.35 + 0.1 * em
    left = min(ln.x0 for ln in lines)
    right = max(ln.x1 for ln in lines)
    current = [lines[0]]
    for line in lines[1:]:
        prev = current[-1]
        step = line.top - prev.top
        if abs(step) < 0.3 * em and line.x0 >= prev.x1 - 0.1 * em:
            # same baseline further right: the rest of the same line, after a gap that was a space
            current[-1] = Line(f"{prev.text} {line.text}", prev.x0, min(prev.top, line.top), line.x1,
                               max(prev.bottom, line.bottom))
            continue
        height, prev_height = line.bottom - line.top, prev.bottom - prev.top
        ends_sentence = prev.text[-1:] in _FINAL
        short = prev.x1 < right - 2.0 * em
        indented = line.x0 - left > 0.8 * em and prev.x0 - left < 0.3 * em
        if (
            step > gap  # a wider gap than between the lines of a paragraph
            or abs(height - prev_height) > 0.35 * max(height, prev_height)  # another font size
            or (indented and (ends_sentence or short))  # a first line indented after a finished one
            or (short and ends_sentence)  # the short last line of a paragraph
        ):
            yield current
            current = [line]
        else:
            current.append(line)
    yield current
