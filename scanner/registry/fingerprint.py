"""Fingerprints of text: fold, cut into k-grams, winnow, hash with the registry's secret.

Folding
    The text is first normalised by :func:`scanner.normalize.normalize` (full → half width,
    traditional → simplified, lower case, Chinese numerals → digits); folding then drops everything
    but letters and digits (punctuation, symbols, whitespace), so ``价格：８，６５０元。`` and
    ``價格 8650 元`` fold to the same ``价格8650元``. :class:`Folded` keeps, for every folded
    character, its offset in the normalised text: a match is reported on the original characters.

Grams
    A gram starts at every folded character and is as long as it takes to reach :data:`GRAM_WEIGHT`:
    a Chinese (wide) character weighs :data:`WIDE_WEIGHT`, a Latin letter or digit
    :data:`NARROW_WEIGHT`. So a gram is 5 Chinese characters or 8 Latin ones — Chinese is dense,
    one character carries about as much as two English letters — and mixed text gets grams in
    between. Longer grams are more specific but every edit destroys more of them; these lengths
    were chosen by measurement (``bench/registry.py``, README).

Winnowing (Schleimer, Wilkerson, Aiken 2003)
    Of every :data:`WINDOW` consecutive grams the one with the smallest selection hash is kept.
    Any shared run of at least ``WINDOW + gram length − 1`` folded characters shares at least one
    fingerprint, whatever surrounds it, and a run of text yields the same fingerprints wherever it
    appears. The selection hash is a 64-bit polynomial hash (vectorised) whose base comes from the
    registry's secret.

Keyed hashing
    What is stored is ``blake2b(gram, key=secret, digest_size=8)``: without the secret a stored
    fingerprint cannot be tested against guessed text, and the same text registered in two
    registries gives unrelated fingerprints (see the README's threat model).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from ..normalize import normalize

WIDE_WEIGHT = 12  # a Chinese character ...
NARROW_WEIGHT = 8  # ... and a Latin letter or digit, in the same unit
GRAM_WEIGHT = 60  # one gram: 5 Chinese characters, or 8 Latin letters and digits
WINDOW = 4  # winnowing window, in grams
FINGERPRINT_BYTES = 8

_ALNUM_RUN = re.compile(r"[^\W_]+")
_WIDE_FROM = 0x2E80  # CJK radicals onwards: ideographs, kana, hangul weigh as "wide"
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Folded:
    """Letters and digits of a normalised text, and where each one came from.

    ``offsets[i]`` is the offset in the normalised text of folded character ``i``.
    """

    text: str
    offsets: np.ndarray

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The normalised-text span covering folded ``[start, end)``."""
        if end <= start:
            o = int(self.offsets[start]) if start < len(self.text) else (int(self.offsets[-1]) + 1 if len(self.text) else 0)
            return o, o
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1


def fold(normalized: str) -> Folded:
    """Keep letters and digits of already normalised text, with their offsets."""
    pieces: list[str] = []
    starts: list[int] = []
    lengths: list[int] = []
    for match in _ALNUM_RUN.finditer(normalized):
        pieces.append(match.group(0))
        starts.append(match.start())
        lengths.append(match.end() - match.start())
    text = "".join(pieces)
    if not pieces:
        return Folded("", np.zeros(0, dtype=np.int64))
    lengths_a = np.asarray(lengths, dtype=np.int64)
    # offsets: for each run, start + 0..len-1
    run_of_char = np.repeat(np.arange(len(pieces)), lengths_a)
    first_of_run = np.cumsum(lengths_a) - lengths_a
    offsets = np.asarray(starts, dtype=np.int64)[run_of_char] + (np.arange(len(text)) - first_of_run[run_of_char])
    return Folded(text, offsets)


def fold_text(text: str) -> Folded:
    """Normalise then fold; offsets point into the *normalised* text (``normalize(text).text``)."""
    return fold(normalize(text).text)


@dataclass(frozen=True, slots=True)
class Grams:
    """Every gram of a folded text: start and end (folded offsets) and selection hash."""

    starts: np.ndarray
    ends: np.ndarray
    hashes: np.ndarray  # uint64


class Fingerprinter:
    """Turns folded text into keyed, winnowed fingerprints. Cheap to build; holds only the secret.

    Args:
        secret: the registry's random secret (32 bytes).
        window: winnowing window in grams.
    """

    def __init__(self, secret: bytes, window: int = WINDOW) -> None:
        if len(secret) < 16:
            raise ValueError(f"the registry secret must be at least 16 bytes, got {len(secret)}")
        self._secret = secret
        self.window = window
        derived = hashlib.blake2b(b"midian selection base", key=secret, digest_size=16).digest()
        self._base = np.uint64(int.from_bytes(derived[:8], "little") | 1)  # odd
        self._salt = np.uint64(int.from_bytes(derived[8:], "little"))
        self._powers = self._power_table(64)

    def _power_table(self, n: int) -> np.ndarray:
        powers = np.ones(n + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(1, n + 1):
                powers[i] = powers[i - 1] * self._base
        return powers

    def grams(self, folded: Folded) -> Grams:
        """All grams of ``folded`` (none when it is shorter than one gram)."""
        text = folded.text
        n = len(text)
        empty = np.zeros(0, dtype=np.int64)
        if n == 0:
            return Grams(empty, empty, np.zeros(0, dtype=np.uint64))
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        weights = np.where(codes >= _WIDE_FROM, WIDE_WEIGHT, NARROW_WEIGHT).astype(np.int64)
        cumulative = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(weights, out=cumulative[1:])
        ends = np.searchsorted(cumulative, cumulative[:-1] + GRAM_WEIGHT, side="left")
        valid = ends <= n
        starts = np.flatnonzero(valid).astype(np.int64)
        ends = ends[valid].astype(np.int64)
        if len(starts) == 0:
            return Grams(empty, empty, np.zeros(0, dtype=np.uint64))
        lengths = ends - starts
        if int(lengths.max()) >= len(self._powers):
            self._powers = self._power_table(int(lengths.max()) + 1)
        prefix = _polynomial_prefix(codes + np.uint64(1), self._base)
        with np.errstate(over="ignore"):
            h = _mix((prefix[ends] - prefix[starts] * self._powers[lengths]) ^ self._salt)
        return Grams(starts, ends, h)

    def winnow(self, hashes: np.ndarray) -> np.ndarray:
        """Indices of the grams kept by winnowing (sorted, unique)."""
        n = len(hashes)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        if n <= self.window:
            return np.array([int(np.argmin(hashes))], dtype=np.int64)
        windows = np.lib.stride_tricks.sliding_window_view(hashes, self.window)
        chosen = windows.argmin(axis=1) + np.arange(len(windows))
        return np.unique(chosen)

    def keyed(self, text: str, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        """The stored form of the grams ``text[starts[i]:ends[i]]``: keyed BLAKE2b as signed 64-bit ints."""
        key = self._secret
        blake = hashlib.blake2b
        out = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            digest = blake(text[s:e].encode("utf-8"), key=key, digest_size=FINGERPRINT_BYTES).digest()
            out.append(int.from_bytes(digest, "little", signed=True))
        return out

    def fingerprints(self, folded: Folded) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Winnowed fingerprints of ``folded``: their folded starts, ends and keyed values."""
        grams = self.grams(folded)
        chosen = self.winnow(grams.hashes)
        starts, ends = grams.starts[chosen], grams.ends[chosen]
        return starts, ends, self.keyed(folded.text, starts, ends)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole word (uint64, wrapping)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _polynomial_prefix(values: np.ndarray, base: np.uint64) -> np.ndarray:
    """``prefix[i] = Σ_{j<i} values[j] · base^(i−1−j)`` mod 2⁶⁴, for i in 0..n, without a Python loop per item.

    Blocked Horner: within blocks of B items the partial sums are a matrix product with powers of
    the base; the block results are then chained, one step per block.
    """
    n = len(values)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    if n == 0:
        return prefix
    block = 64
    with np.errstate(over="ignore"):
        powers = np.ones(block + 1, dtype=np.uint64)
        for i in range(1, block + 1):
            powers[i] = powers[i - 1] * base
        padded = np.zeros(((n + block - 1) // block) * block, dtype=np.uint64)
        padded[:n] = values
        blocks = padded.reshape(-1, block)
        # local[b, t] = Σ_{j<=t} blocks[b, j] · base^(t−j): cumulative Horner inside each block
        local = np.zeros_like(blocks)
        acc = np.zeros(blocks.shape[0], dtype=np.uint64)
        for t in range(block):
            acc = acc * base + blocks[:, t]
            local[:, t] = acc
        # chain blocks: carry[b] = prefix value at the start of block b
        carry = np.zeros(blocks.shape[0], dtype=np.uint64)
        running = np.uint64(0)
        last = local[:, -1]
        step = powers[block]
        for b in range(blocks.shape[0]):
            carry[b] = running
            running = running * step + last[b]
        full = local + carry[:, None] * powers[1 : block + 1][None, :]
        prefix[1:] = full.reshape(-1)[:n]
    return prefix
