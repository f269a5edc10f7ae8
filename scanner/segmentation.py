"""Segmentation: blocks → normalised, tokenised, sentence-split passages (segment once, share everywhere).

spaCy is the backbone: ``spacy.blank("zh")`` with :class:`MixedTokenizer` (jieba for Chinese runs, a
rule tokenizer for Latin text and numbers, so mixed zh/en text needs no language switch) and
``spacy.blank("en")`` for blocks without Chinese; both run a sentencizer that knows Chinese sentence
ends. Tokenisation uses rjieba (jieba-rs) with HMM off — the same tokens as jieba with HMM off (proved
by ``tests/test_segmentation.py``) at ~20× the speed — and the domain dictionary in
``scanner/resources/userdict.txt`` so 保温时间, 毛利率, 统一社会信用代码 stay one token.

A :class:`Passage` is a run of sentences inside one block (at most :data:`MAX_PASSAGE_CHARS`), or one
table row carrying its header row as context. Detectors and the classifier all read the same
passages: the same normalised text, the same tokens, the same offsets back into the block.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from spacy.language import Language

from .data import Block, Location
from .normalize import Normalized, normalize

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

MAX_PASSAGE_CHARS = 400  # a passage longer than this is split at sentence ends
MIN_PASSAGE_CHARS = 120  # short sentences are grouped up to about this length
SENTENCE_ENDS = [".", "!", "?", ";", "。", "！", "？", "；", "…", "\u2029", "\n", "\n\n", "\n\n\n", " \n", "\n "]
USER_DICT_FREQ = 20_000
VOCAB_LIMIT = 500_000
BLOCK_SEPARATOR = "\n"  # joins the blocks of a document in its one Doc; a sentence end

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
# Chinese runs go to jieba; the rest is split into numbers, words, and single symbols.
_PIECES = re.compile(
    rf"(?P<cjk>[{_CJK}]+)"
    r"|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<word>[^\W\d_](?:[\w]|['’\-](?=\w))*)"
    r"|(?P<nl>\n)"
    r"|(?P<space>[^\S\n]+)"
    r"|(?P<sym>.)",
    re.S,
)


def _user_words() -> list[str]:
    text = resources.files("scanner").joinpath("resources/userdict.txt").read_text(encoding="utf-8")
    return [line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]


class _Jieba:
    """One jieba-rs instance with the domain dictionary, loaded once per process."""

    _lock = threading.Lock()
    _instance = None

    @classmethod
    def get(cls):  # type: ignore[no-untyped-def]
        if cls._instance is None:
            with cls._lock:
                if cls._instance is None:
                    import rjieba

                    jieba = rjieba.Jieba()
                    for word in _user_words():
                        jieba.add_word(word, USER_DICT_FREQ, None)
                    cls._instance = jieba
        return cls._instance


def cut(text: str) -> list[str]:
    """Tokens of a Chinese run: jieba-rs, HMM off, with the domain dictionary."""
    return _Jieba.get().cut(text, hmm=False)  # type: ignore[no-any-return]


def split_words(text: str) -> tuple[list[str], list[bool]]:
    """spaCy ``words``/``spaces`` for mixed Chinese/English text (no language switch needed)."""
    words: list[str] = []
    spaces: list[bool] = []
    for match in _PIECES.finditer(text):
        kind = match.lastgroup
        piece = match.group(0)
        if kind == "space":
            if words and not spaces[-1] and piece == " ":
                spaces[-1] = True
            else:
                words.append(piece)
                spaces.append(False)
        elif kind == "cjk":
            tokens = cut(piece) if len(piece) > 1 else [piece]
            words.extend(tokens)
            spaces.extend([False] * len(tokens))
        else:
            words.append(piece)
            spaces.append(False)
    return words, spaces


class MixedTokenizer:
    """spaCy tokenizer for Chinese with embedded English: jieba runs plus a rule tokenizer.

    The token texts are also kept as a plain list in ``doc.user_data["words"]`` so that passages
    read their tokens without creating a spaCy ``Token`` object per token (the hot path).
    """

    def __init__(self, vocab) -> None:  # type: ignore[no-untyped-def]
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        from spacy.tokens import Doc

        words, spaces = split_words(text)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc.user_data["words"] = words
        return doc

    # spaCy serialisation hooks (the tokenizer has no state beyond the shared dictionary)
    def to_bytes(self, **_: object) -> bytes:
        return b""

    def from_bytes(self, _data: bytes, **__: object) -> MixedTokenizer:
        return self

    def to_disk(self, _path: Path, **__: object) -> None:
        return None

    def from_disk(self, _path: Path, **__: object) -> MixedTokenizer:
        return self


_LATIN = re.compile(r"[A-Za-z]")


@Language.factory("midian_sentencizer", default_config={"punct_chars": SENTENCE_ENDS})
def make_sentencizer(nlp: Language, name: str, punct_chars: list[str]) -> Sentencizer:
    return Sentencizer(nlp, punct_chars)


class Sentencizer:
    """Rule sentencizer that knows Chinese and English sentence ends, vectorised over token hashes.

    A sentence starts at the first token after a run of sentence-ending tokens (。！？；… . ! ? ; and
    line breaks), like spaCy's ``sentencizer`` but without a Python object per token.
    """

    def __init__(self, nlp: Language, punct_chars: list[str]) -> None:
        self.ends = np.array(sorted(nlp.vocab.strings.add(p) for p in punct_chars), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        from spacy.attrs import ORTH, SENT_START

        n = len(doc)
        if n == 0:
            return doc
        is_end = np.isin(doc.to_array(ORTH), self.ends)
        starts = np.full(n, -1, dtype=np.int64)  # -1: not a sentence start
        starts[0] = 1
        # token i starts a sentence when token i-1 ends one and token i does not
        starts[1:][is_end[:-1] & ~is_end[1:]] = 1
        doc.from_array([SENT_START], starts.reshape(-1, 1).astype(np.uint64))
        return doc


def _token_offsets(doc: Doc) -> np.ndarray:
    """Start offset of every token plus the text length, from the tokenizer's word list."""
    words: list[str] = doc.user_data["words"]
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    spaces = doc.to_array("SPACY").astype(np.int64)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(lengths + spaces, out=offsets[1:])
    return offsets


def detect_language(text: str) -> str:
    """``zh``, ``en`` or ``mixed`` from the share of Chinese characters and Latin letters."""
    cjk = len(_HAS_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0:
        return "en"
    if latin > 2 * cjk and latin > 20:
        return "mixed"
    if latin > cjk / 2 and latin > 20:
        return "mixed"
    return "zh"


@dataclass(eq=False)
class Passage:
    """A unit of detection: sentences of one block, or one table row, with shared tokens and offsets.

    ``start``/``end`` are offsets in the block's original text; ``norm_start``/``norm_end`` the same
    span in the block's normalised text. Detectors match on :attr:`norm_text` and report with
    :meth:`block_span`, which maps normalised offsets of this passage back to the block.
    """

    index: int
    block_index: int
    block: Block
    norm: Normalized
    start: int
    end: int
    norm_start: int
    norm_end: int
    span: Span
    lang: str
    header_tokens: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.block.text[self.start : self.end]

    @cached_property
    def norm_text(self) -> str:
        return self.norm.text[self.norm_start : self.norm_end]

    @property
    def location(self) -> Location:
        return self.block.location

    @property
    def kind(self) -> str:
        return self.block.kind

    @property
    def header(self) -> str | None:
        return self.block.header

    @cached_property
    def tokens(self) -> list[str]:
        """Normalised token texts, without whitespace tokens."""
        words: list[str] = self.span.doc.user_data["words"]
        return [w for w in words[self.span.start : self.span.end] if not w.isspace()]

    def block_span(self, start: int, end: int) -> tuple[int, int]:
        """Block offsets of the passage-relative normalised span ``[start, end)``."""
        return self.norm.span(self.norm_start + start, self.norm_start + end)


class Segmenter:
    """Turns blocks into passages. Constructing is cheap; :meth:`load` builds the pipelines once."""

    def __init__(self, max_chars: int = MAX_PASSAGE_CHARS, min_chars: int = MIN_PASSAGE_CHARS) -> None:
        self.max_chars = max_chars
        self.min_chars = min_chars
        self._zh: Language | None = None
        self._en: Language | None = None
        self._header_cache: dict[str, tuple[str, ...]] = {}

    def load(self) -> Segmenter:
        """Build the spaCy pipelines (blank zh and en, mixed tokenizer, sentencizer) and jieba's dictionary."""
        import spacy

        zh = spacy.blank("zh")
        en = spacy.blank("en")
        # One tokenizer for both: text mixes languages freely, and tokens must mean the same thing
        # to the classifier whichever pipeline read them. Nothing downstream reads spaCy's lexical
        # attributes (like_num, shape, stop words), and computing them for every new word was a
        # fifth of the scan's time on varied text (bench/scan.py): the getters are dropped.
        for nlp in (zh, en):
            nlp.vocab.lex_attr_getters = {}
            nlp.tokenizer = MixedTokenizer(nlp.vocab)
            nlp.add_pipe("midian_sentencizer")
        _Jieba.get()
        self._zh, self._en = zh, en
        return self

    def _refresh_if_grown(self) -> None:
        # spaCy's vocabulary keeps every string it has seen; a long batch of unique numbers and
        # names would grow it without bound, so the pipelines are rebuilt past a size.
        assert self._zh is not None and self._en is not None
        if len(self._zh.vocab.strings) + len(self._en.vocab.strings) > VOCAB_LIMIT:
            self.load()

    @property
    def loaded(self) -> bool:
        return self._zh is not None

    def pipeline_for(self, text: str) -> Language:
        if self._zh is None or self._en is None:
            self.load()
        assert self._zh is not None and self._en is not None
        return self._zh if _HAS_CJK.search(text) else self._en

    def segment(self, blocks: Sequence[Block]) -> list[Passage]:
        """Passages of all ``blocks`` in order.

        All blocks of a document go into ONE spaCy ``Doc`` (block texts joined by a line break, which
        is a sentence end), so per-block costs — a Doc, a sentencizer pass — are paid once per
        document; passages never cross a block boundary.
        """
        if self._zh is None:
            self.load()
        self._refresh_if_grown()
        if not blocks:
            return []
        norms = [normalize(block.text) for block in blocks]
        words: list[str] = []
        spaces: list[bool] = []
        token_ranges: list[tuple[int, int]] = []
        char_bases: list[int] = []
        position = 0
        for norm in norms:
            w, sp = split_words(norm.text)
            token_ranges.append((len(words), len(words) + len(w)))
            char_bases.append(position)
            words.extend(w)
            spaces.extend(sp)
            position += len(norm.text)
            words.append(BLOCK_SEPARATOR)
            spaces.append(False)
            position += len(BLOCK_SEPARATOR)
        nlp = self.pipeline_for("".join(n.text[:2000] for n in norms))
        from spacy.tokens import Doc

        doc = Doc(nlp.vocab, words=words, spaces=spaces)
        doc.user_data["words"] = words
        for _, component in nlp.pipeline:
            doc = component(doc)
        offsets = _token_offsets(doc)
        sentence_starts = np.flatnonzero(doc.to_array("SENT_START") == 1)
        passages: list[Passage] = []
        for block_index, (block, norm) in enumerate(zip(blocks, norms, strict=True)):
            tok_start, tok_end = token_ranges[block_index]
            if tok_start == tok_end:
                continue
            base = char_bases[block_index]
            header_tokens = self._header(block.header) if block.header else ()
            if block.kind == "table_row" and len(norm.text) <= 4 * self.max_chars:
                groups: Iterable[tuple[int, int]] = [(tok_start, tok_end)]
            else:
                lo = int(np.searchsorted(sentence_starts, tok_start, side="right"))
                hi = int(np.searchsorted(sentence_starts, tok_end, side="left"))
                starts = [tok_start] + [int(i) for i in sentence_starts[lo:hi]]
                groups = self._group(offsets, starts, tok_end)
            for g_start, g_end in groups:
                n_start, n_end = int(offsets[g_start]) - base, int(offsets[g_end]) - base
                n_end = min(n_end, len(norm.text))
                # trim whitespace so the passage text starts and ends on content
                while n_start < n_end and norm.text[n_start].isspace():
                    n_start += 1
                while n_end > n_start and norm.text[n_end - 1].isspace():
                    n_end -= 1
                if n_start >= n_end:
                    continue
                start, end = norm.span(n_start, n_end)
                passages.append(Passage(
                    index=len(passages),
                    block_index=block_index,
                    block=block,
                    norm=norm,
                    start=start,
                    end=end,
                    norm_start=n_start,
                    norm_end=n_end,
                    span=doc[g_start:g_end],
                    lang=detect_language(norm.text[n_start:n_end]),
                    header_tokens=header_tokens,
                ))
        return passages

    def _group(self, offsets: np.ndarray, starts: list[int], end: int) -> Iterator[tuple[int, int]]:
        """Token ranges of passages: whole sentences grouped to ``min_chars``, split above ``max_chars``.

        ``starts`` are the sentence starts inside one block (the first is the block's first token),
        ``end`` the block's end token; works on arrays, not on spaCy ``Token`` objects.
        """
        bounds = starts + [end]
        group_start: int | None = None
        for sent_start, sent_end in zip(bounds[:-1], bounds[1:], strict=True):
            if group_start is None:
                group_start = sent_start
            length = offsets[sent_end] - offsets[group_start]
            if length > self.max_chars and sent_start > group_start:
                yield group_start, sent_start  # flush, then start a new group with this sentence
                group_start = sent_start
                length = offsets[sent_end] - offsets[group_start]
            if length > self.max_chars:
                yield from self._split_long(offsets, group_start, sent_end)
                group_start = None
            elif length >= self.min_chars:
                yield group_start, sent_end
                group_start = None
        if group_start is not None:
            yield group_start, end

    def _split_long(self, offsets: np.ndarray, start: int, end: int) -> Iterator[tuple[int, int]]:
        """A sentence longer than ``max_chars`` cut at token boundaries."""
        while start < end:
            limit = offsets[start] + self.max_chars
            cut_at = int(np.searchsorted(offsets, limit, side="right")) - 1
            cut_at = min(max(cut_at, start + 1), end)
            yield start, cut_at
            start = cut_at

    def _header(self, header: str) -> tuple[str, ...]:
        cached = self._header_cache.get(header)
        if cached is None:
            norm = normalize(header).text
            words, _ = split_words(norm)
            cached = tuple(w for w in words if not w.isspace())
            if len(self._header_cache) < 10_000:
                self._header_cache[header] = cached
        return cached


_default: Segmenter | None = None


def default_segmenter() -> Segmenter:
    """A process-wide loaded segmenter."""
    global _default
    if _default is None:
        _default = Segmenter().load()
    return _default
