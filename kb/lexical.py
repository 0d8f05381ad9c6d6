"""Exact-term retrieval: BM25 (bm25s) over jieba words, with numbers and Latin terms kept whole.

Dense vectors miss exact facts (5G, PM2.5, 81.5亿斤, 科尔沁沙地); BM25 finds
them. Text is folded first (traditional → simplified with OpenCC, full-width →
half-width with NFKC, Latin to lower case) so 瀋陽 finds 沈阳 and ＰＭ２．５ finds PM2.5.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

# Question words and particles that say nothing about what is asked for.
STOP_WORDS = frozenset(
    "什么 多少 哪些 哪个 哪里 怎么 怎样 如何 为什么 是否 有没有 几个 几位 几 哪 谁 啥 吗 呢 吧 啊 "
    "的 了 是 有 在 和 与 及 或 等 对 为 把 被 让 给 就 都 也 还 又 很 更 最 得 地 着 过 "
    "我们 你们 他们 我 你 他 她 它 这 那 这个 那个 这些 那些 其 之 个 去 来 做 "
    "情况 方面 问题 请问 一下 介绍 说说 关于 有关 相关 "
    "what which how many much is are was were the a an of in on for to and or did does do "
    "with by at from as be this that these those it its about".split()
)
# how text is cut into terms: a build does not reuse the terms of an earlier cut (2: the whole text,
# where folding changes its length)
CUT_VERSION = 2
UNITS = ("亿元", "万元", "元", "亿斤", "万斤", "亿", "万", "千", "百", "个", "人", "户", "家", "项", "座", "条",
         "公里", "平方公里", "亩", "万亩", "吨", "倍", "年", "月", "日", "天", "所", "张", "套", "次", "场")


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


class WordTable(Mapping):
    """jieba's prefix dictionary (word → frequency, prefixes → 0) as two sorted arrays on disk.

    jieba unpickles its 580k-entry dictionary at start: 0.6 s and ~100 MB before a one-line query
    is cut. A query needs only the entries for its own substrings, so a process that answers
    queries reads this table instead (memory-mapped, a few milliseconds) and looks words up by a
    64-bit hash: the same entries, so the same words as jieba's own dictionary gives. A build,
    which cuts whole reports, switches to jieba's dictionary (`full_dictionary`), where a lookup
    costs nanoseconds instead of microseconds."""

    def __init__(self, keys: np.ndarray, freqs: np.ndarray):
        self.keys, self.freqs = keys, freqs
        self._seen: dict[str, int] = {}  # words already looked up: a query's substrings recur

    @staticmethod
    def key(word: str) -> int:
        import hashlib

        return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")

    def _find(self, word: str) -> int:
        i = self._seen.get(word)
        if i is None:
            h = self.key(word)
            i = int(np.searchsorted(self.keys, np.uint64(h)))
            i = i if i < len(self.keys) and int(self.keys[i]) == h else -1
            if len(self._seen) > 200_000:
                self._seen.clear()
            self._seen[word] = i
        return i

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self._find(word) >= 0

    def __getitem__(self, word: str) -> int:
        i = self._find(word)
        if i < 0:
            raise KeyError(word)
        return int(self.freqs[i])

    def get(self, word, default=None):
        i = self._find(word) if isinstance(word, str) else -1
        return int(self.freqs[i]) if i >= 0 else default

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self):
        raise TypeError("a WordTable answers lookups only")


def _table_path(jieba) -> Path:
    import os

    from .provision import user_cache

    dictionary = Path(jieba.dt.dictionary or jieba.DEFAULT_DICT) if jieba.dt.dictionary != jieba.DEFAULT_DICT \
        else Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    st = dictionary.stat()
    return user_cache() / "jieba" / f"words-{jieba.__version__}-{st.st_size}-{int(st.st_mtime)}-{os.name}.npz"


def _write_table(jieba, path: Path) -> None:
    import os
    import tempfile

    keys = np.fromiter((WordTable.key(w) for w in jieba.dt.FREQ), dtype=np.uint64, count=len(jieba.dt.FREQ))
    freqs = np.fromiter(jieba.dt.FREQ.values(), dtype=np.int64, count=len(jieba.dt.FREQ))
    order = np.argsort(keys)
    keys, freqs = keys[order], freqs[order]
    if len(np.unique(keys)) != len(keys):
        return  # two words with one hash (never seen): keep using jieba's own dictionary
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, keys=keys, freqs=freqs, total=np.int64(jieba.dt.total))
    os.replace(tmp, path)


@lru_cache(maxsize=1)
def _jieba():
    """jieba, with its dictionary read from the compact table when there is one (made from
    jieba's own dictionary the first time it is loaded)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    try:
        path = _table_path(jieba)
        data = np.load(path)
        jieba.dt.FREQ = WordTable(data["keys"], data["freqs"])
        jieba.dt.total = int(data["total"])
        jieba.dt.initialized = True
    except (OSError, ValueError, KeyError):
        jieba.initialize()
        try:
            _write_table(jieba, _table_path(jieba))
        except OSError:
            pass  # a read-only cache only costs time
    return jieba


def full_dictionary() -> None:
    """Before cutting many texts (a build): jieba's own dictionary, as fast as jieba is."""
    jieba = _jieba()
    if isinstance(jieba.dt.FREQ, WordTable):
        jieba.dt.initialized = False
        jieba.dt.initialize()


def simplified(text: str) -> str:
    """Traditional characters as Simplified; nothing else changed."""
    return _converter().convert(text)


@lru_cache(maxsize=16384)  # the same chunk texts are folded for query after query (ranker, highlights)
def fold(text: str) -> str:
    """The form both queries and passages are matched in."""
    return simplified(unicodedata.normalize("NFKC", text)).lower()


def _alnum(word: str, start: int) -> list[tuple[str, int, int]]:
    """A Latin or numeric run as a whole token (5g, pm2.5, 6%), plus its letter and number parts."""
    word = word.rstrip(".-+")
    out = [(word, start, start + len(word))]
    for part in re.finditer(r"\d+(?:\.\d+)?%?|[a-z]+", word):
        if part.group() != word:
            out.append((part.group(), start + part.start(), start + part.end()))
    return out


@lru_cache(maxsize=4096)  # one query is cut by BM25, the ranker and the highlighter
def tokens_with_spans(text: str) -> tuple[tuple[str, int, int], ...]:
    """Index terms of `text` with their character spans in `text` (for highlighting), stop words dropped."""
    folded, at = _folded_at(text)
    out: list[tuple[str, int, int]] = []
    jieba = _jieba()
    for m in re.finditer(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9][a-z0-9.%‰+\-]*", folded):
        run, s = m.group(), m.start()
        if run[0].isascii():
            out += _alnum(run, s)
            continue
        for word, ws, we in jieba.tokenize(run, mode="search"):
            out.append((word, s + ws, s + we))
    # numbers with their units that straddle a run boundary (81.5亿斤)
    for m in re.finditer(r"\d+(?:\.\d+)?%?", folded):
        tail = folded[m.end():]
        unit = next((u for u in UNITS if tail.startswith(u)), None)
        if unit:
            out.append((m.group() + unit, m.start(), m.end() + len(unit)))
    return tuple((w, at[s], at[e - 1] + 1) for w, s, e in dict.fromkeys(out) if w.strip() and w not in STOP_WORDS)


def _folded_at(text: str) -> tuple[str, list[int] | range]:
    """`text` folded, and for each character of the folded text the position in `text` it came from.
    Folding keeps lengths for CJK and ASCII; where NFKC does not (the "…" of a shortened heading in what
    BM25 sees of every chunk below it is "...", ㎡ is "m2"), each character is folded on its own, so the
    whole text is cut, not all but its last characters."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, range(len(text))
    pieces = [unicodedata.normalize("NFKC", ch) for ch in text]
    joined = simplified("".join(pieces)).lower()
    at = [i for i, piece in enumerate(pieces) for _ in piece]
    if len(joined) != len(at):  # a conversion changed the length again: the old approximation
        return folded[: len(text)].ljust(len(text)), range(len(text))
    return joined, at


def tokenize(text: str) -> list[str]:
    return [w for w, _, _ in tokens_with_spans(text)]


class LexicalIndex:
    """A BM25 index over chunk texts, saved as bm25s's own arrays (no pickle)."""

    def __init__(self, retriever):
        self.retriever = retriever

    @classmethod
    def from_tokens(cls, corpus: list[list[str]]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index([tokens or ["\x00"] for tokens in corpus], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False))

    @staticmethod
    def query_words(query: str) -> tuple[list[str], set[str], int]:
        """The words BM25 looks up for a question, those of them that count as missing where no chunk
        has them, and how many English words the lexicon never met. An English word is looked up as
        the report terms the lexicon gives for it (cut as the chunks were), and as written too: a name
        ("Metro这个名字是什么意思", iPhone) that a paragraph writes as it is. As written it counts only
        where the index has it (on CMRC 2018 train's Chinese questions with English words, R@1
        0.9842 → 0.9943; the training side's English and report questions alike either way)."""
        from .lexicon import expand, unknown_words

        found = tokenize(query)
        english = tokenize(" ".join(expand(query)))
        never_met = len(unknown_words(query)) if english else 0
        literal: list[str] = []
        if english:  # an English word counts as known when the report term it stands for is
            literal = [t for t in found if t.isascii() and t.isalpha()]
            found = [t for t in found if not (t.isascii() and t.isalpha())] + english
        counted = set(found)
        return list(dict.fromkeys(found + literal)), counted, never_met

    def _postings(self, query: str, mask: np.ndarray | None):
        """The query's words, and for each one the index knows within `mask`: the chunks
        that have it, their BM25 values, its IDF within the mask and in the whole index."""
        vocab = self.retriever.vocab_dict
        words, counted, never_met = self.query_words(query)
        stored = self.retriever.scores
        n = int(stored["num_docs"])
        n_in = n if mask is None else int(mask.sum())
        indptr, indices, data = stored["indptr"], stored["indices"], stored["data"]
        postings, found = [], 0
        for t in words:
            if t not in vocab:
                continue
            start, end = int(indptr[vocab[t]]), int(indptr[vocab[t] + 1])
            rows, values = indices[start:end], data[start:end]
            if mask is not None:
                inside = mask[rows]
                rows, values = rows[inside], values[inside]
            if len(rows):
                postings.append((rows, values, _idf(n_in, len(rows)), _idf(n, end - start)))
                found += t in counted
        # unmatched words, and English words the lexicon never met, count as rare ones
        unknown = _idf(n_in, 0) * (len(counted) - found + never_met)
        return n, postings, unknown

    def scores(self, query: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """BM25 score of every chunk for the query, and how much of the query the index
        knows (the IDF-weighted share of its terms). An English question over Chinese
        reports matches only "2024", a term in half the chunks: its BM25 ranking says little.

        With a `mask` (a search within some reports) the chunks outside score 0 and each
        term's weight is the IDF it has within the mask: a word common in the other reports
        can be rare in this one, and a search within a report should rank as that report
        would alone.
        """
        n, postings, unknown = self._postings(query, mask)
        out = np.zeros(n, dtype=np.float32)
        for rows, values, idf, idf_all in postings:
            out[rows] += values * (idf / idf_all)  # a chunk appears once per term
        known = sum(p[2] for p in postings)
        total = known + unknown
        return out, known / total if total else 0.0

    def matched(self, query: str, rows: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """For each chunk of `rows`, the IDF-weighted share of the query's words it contains."""
        n, postings, unknown = self._postings(query, mask)
        total = sum(p[2] for p in postings) + unknown
        held = np.zeros(n, dtype=np.float32)  # per chunk of the index: a chunk holds each word once
        for chunk_rows, _, idf, _ in postings:
            held[chunk_rows] += idf
        out = held[rows]
        return out / total if total else out

    def words(self):
        return self.retriever.vocab_dict.keys()

    def frequency(self, word: str) -> int:
        """In how many chunks `word` is (0: the reports do not use it)."""
        row = self.retriever.vocab_dict.get(fold(word))
        if row is None:
            return 0
        indptr = self.retriever.scores["indptr"]
        return int(indptr[row + 1] - indptr[row])


def _idf(n: int, df: int) -> float:
    """bm25s's (Lucene's) IDF."""
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
