"""Normalisation before matching, with a way back to the original offsets.

Detectors and the classifier see one canonical form of the text:

- full-width ASCII → half-width (``８６５０元`` → ``8650元``, ``，`` → ``,``), ideographic space → space;
- traditional → simplified Chinese (OpenCC ``t2s``);
- lower case;
- Chinese numerals and amounts → Arabic (``壹佰万元`` → ``1000000元``, ``3.5万元`` → ``35000元``,
  ``十二月`` → ``12月``) and thousands separators dropped (``8,650`` → ``8650``).

The first three keep the length of the text; the numeral rewrite does not. :class:`Normalized` keeps a
piecewise map from normalised offsets to original offsets, so a match found in the normalised text is
reported on the exact original characters.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

# full-width ASCII variants and the ideographic space
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH[0x3000] = 0x20
_WIDTH[0x00A0] = 0x20  # no-break space

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
}
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_FINANCIAL = set("壹贰叁肆伍陆柒捌玖拾佰仟")
_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)
# what may follow a numeral for a lone digit character (一, 三) to count as a number
_COUNTERS = "元块角分%个件台吨套次人天月年日号段级只条组批箱桶瓶克斤米度倍层道名位家项期季周"

# Chinese numbers worth rewriting: any with financial digits (壹贰叁); digits with a unit (三千二百,
# 十五); or digits before a counter (四段, 二〇二四年). A lone 一 in 统一 or 万 in 万一 never matches.
_D = "".join(_DIGITS)
_U = "十百千万亿拾佰仟"
_CN_NUMBER = re.compile(
    f"[{_D}十拾]*[壹贰叁肆伍陆柒捌玖拾佰仟][{_NUMERAL_CHARS}]*"
    f"|[{_D}十拾][{_NUMERAL_CHARS}]*[{_U}][{_NUMERAL_CHARS}]*|[十拾][{_NUMERAL_CHARS}]*"
    f"|(?<![{_D}十拾])[{_D}]+(?=[{_COUNTERS}])"
)
_ARABIC_MULTIPLIED = re.compile(r"(\d+(?:\.\d+)?)\s?([万亿])")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
_COMBINED = re.compile(f"{_THOUSANDS.pattern}|{_ARABIC_MULTIPLIED.pattern}|{_CN_NUMBER.pattern}")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


_WIDE = re.compile("[\uff01-\uff5e\u3000\u00a0]")


def width_fold(text: str) -> str:
    """Full-width ASCII to half-width; the length never changes."""
    return text.translate(_WIDTH) if _WIDE.search(text) else text


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese, keeping the length (character-wise where phrases would change it)."""
    if text.isascii():
        return text
    converted: str = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(ch if len(c := _t2s().convert(ch)) != 1 else c for ch in text)


def lower(text: str) -> str:
    """Lower case, keeping the length (characters whose lower case is longer are left alone)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c := ch.lower()) == 1 else ch for ch in text)


def chinese_number(numeral: str) -> int | None:
    """The value of a Chinese numeral (``三千二百零五`` → 3205, ``二〇二四`` → 2024), or None."""
    if not numeral:
        return None
    if all(ch in _DIGITS for ch in numeral):  # digit by digit: 二〇二四
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total = 0
    section = 0
    largest = 0  # the largest big unit seen so far
    digit: int | None = None
    for ch in numeral:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch in _BIG_UNITS:
            section += digit or 0
            unit = _BIG_UNITS[ch]
            if unit < largest:  # 一亿二千万: the 万 section scales only itself
                total += section * unit
            else:
                total = (total + section) * unit
                largest = unit
            section = 0
            digit = None
        else:
            return None
    if digit is not None and len(numeral) >= 2:
        previous = numeral[-2]
        # 一万二 = 12000, 三千五 = 3500: a trailing digit counts in the next lower unit
        scale = _SMALL_UNITS.get(previous) or _BIG_UNITS.get(previous)
        if scale and scale >= 100:
            digit *= scale // 10
    return total + section + (digit or 0)


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")


def _rewrite_number(match: re.Match[str], text: str) -> str | None:
    token = match.group(0)
    if token[0].isdigit():
        if "," in token:  # 8,650.50 -> 8650.50
            return token.replace(",", "")
        inner = _ARABIC_MULTIPLIED.fullmatch(token)
        if inner:  # 3.5万 -> 35000
            return _format_number(float(inner.group(1)) * _BIG_UNITS[inner.group(2)])
        return None
    following = text[match.end() : match.end() + 1]
    has_unit = any(ch in _SMALL_UNITS or ch in _BIG_UNITS for ch in token)
    if not (set(token) & _FINANCIAL or (len(token) >= 2 and has_unit) or (following and following in _COUNTERS)):
        return None  # 一 in 统一, 万 in 万一: words, not numbers
    if len(token) == 1 and token in _BIG_UNITS:
        return None
    value = chinese_number(token)
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text and the map back to the original.

    ``_norm_starts``/``_orig_starts`` hold the start of each piece in both texts; inside an unchanged
    piece offsets move together, a rewritten piece (a numeral) maps as a whole.
    """

    text: str
    original: str
    _norm_starts: tuple[int, ...] = (0,)
    _orig_starts: tuple[int, ...] = (0,)
    _rewritten: tuple[bool, ...] = (False,)

    def to_original(self, offset: int) -> int:
        """The original offset of normalised ``offset`` (start of a rewritten piece for offsets inside it)."""
        if len(self._norm_starts) == 1:
            return offset
        i = bisect.bisect_right(self._norm_starts, offset) - 1
        if self._rewritten[i] and offset != self._norm_starts[i]:
            end = self._orig_starts[i + 1] if i + 1 < len(self._orig_starts) else len(self.original)
            return end if offset >= self._piece_end(i) else self._orig_starts[i]
        return self._orig_starts[i] + (offset - self._norm_starts[i])

    def _piece_end(self, i: int) -> int:
        return self._norm_starts[i + 1] if i + 1 < len(self._norm_starts) else len(self.text)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering normalised ``[start, end)``; rewritten pieces are covered whole."""
        if len(self._norm_starts) == 1:
            return start, end
        o_start = self.to_original(start)
        if end <= start:
            return o_start, o_start
        i = bisect.bisect_right(self._norm_starts, end - 1) - 1
        if self._rewritten[i]:
            o_end = self._orig_starts[i + 1] if i + 1 < len(self._orig_starts) else len(self.original)
        else:
            o_end = self._orig_starts[i] + (end - self._norm_starts[i])
        return o_start, max(o_end, o_start)


def normalize(text: str) -> Normalized:
    """The canonical form of ``text`` for matching, with the map back (see the module docstring)."""
    folded = lower(to_simplified(width_fold(text)))
    if not _COMBINED.search(folded):
        return Normalized(folded, text)
    parts: list[str] = []
    norm_starts: list[int] = [0]
    orig_starts: list[int] = [0]
    rewritten: list[bool] = [False]
    pos = 0
    npos = 0
    for match in _COMBINED.finditer(folded):
        replacement = _rewrite_number(match, folded)
        if replacement is None or replacement == match.group(0):
            continue
        if match.start() > pos:
            parts.append(folded[pos : match.start()])
            npos += match.start() - pos
        if not (norm_starts[-1] == npos and orig_starts[-1] == match.start()):
            norm_starts.append(npos)
            orig_starts.append(match.start())
            rewritten.append(True)
        else:
            rewritten[-1] = True
        parts.append(replacement)
        npos += len(replacement)
        pos = match.end()
        norm_starts.append(npos)
        orig_starts.append(pos)
        rewritten.append(False)
    if pos == 0 and len(norm_starts) == 1:
        return Normalized(folded, text)
    parts.append(folded[pos:])
    return Normalized("".join(parts), text, tuple(norm_starts), tuple(orig_starts), tuple(rewritten))
