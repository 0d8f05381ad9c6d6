"""A character typed for another of the same sound (扶务 for 服务), read as the word it stands for.

Chinese is typed through pinyin: a reader picks a character from the candidates of its sound and,
in a hurry, sometimes the wrong one. What comes out is no word (居家养老扶务全覆盖 cuts as 扶务全;
就夜 as 就 and 夜), BM25 cannot match it, and the rest of the question counts for less: the answer
drops below paragraphs that match the other words. Where no word of the question (a word of the
reports or of the dictionary) covers two characters or more in a row, a character there is read as
another of its sound that makes a word of the reports inside that stretch, when the reports do not
write it as typed (a name: 王法慧), when neither is a character questions use far more than text
(哪, 多, 什么: learned, scripts/make_question_characters.py) and when that makes the question far
more likely as Chinese (jieba's word frequencies: by at least MARGIN in log-probability, the price
of a typo, chosen on generated typos of training questions, scripts/check_spelling.py). A real word
the reports do not use (大学 for 高等院校, 烂尾楼) is left as it is. The search says which question it
answered (Results.corrected), as search engines do.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from .lexical import _jieba, fold

CJK = re.compile(r"[\u3400-\u9fff]")
RUN = re.compile(r"[\u3400-\u9fff]+")
LONGEST = 4  # the longest word a corrected character may form
QUESTION_CHARACTERS = Path(__file__).with_name("weights") / "question-characters.json"
MARGIN = 3.0  # log-probability a reading must gain over the question as typed (scripts/check_spelling.py)


@lru_cache(maxsize=1)
def _by_sound() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Each character's common sound (its first toneless reading, as a pinyin keyboard offers it
    first: 立 is lì, not its classical wèi) and the characters of each sound."""
    from pypinyin.pinyin_dict import pinyin_dict

    sounds: dict[str, str] = {}
    chars: dict[str, set[str]] = {}
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        if CJK.fullmatch(ch):
            sounds[ch] = _toneless(readings.split(",")[0])
            chars.setdefault(sounds[ch], set()).add(ch)
    return sounds, {s: frozenset(c) for s, c in chars.items()}


def _toneless(reading: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", reading) if not unicodedata.combining(c))


def homophones(ch: str) -> frozenset[str]:
    """The characters of the same common sound as `ch` (not `ch` itself)."""
    sounds, chars = _by_sound()
    return frozenset(c for c in chars.get(sounds.get(ch, ""), ()) if c != ch)


def sound(word: str) -> tuple[str, ...]:
    """How `word` is read, each character as the word has it (pypinyin's phrases: 银行 yin hang)."""
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(word))


def sounds_of(typed: str) -> set[tuple[str, ...]]:
    """How a reader may have meant `typed` to sound: as it reads in context, or each character by its
    common sound."""
    sounds, _ = _by_sound()
    return {sound(typed), tuple(sounds.get(ch, ch) for ch in typed)}


def sound_table(words: Iterable[str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Words of two to four characters by their sound: where a mistyped word finds the words it
    could have meant, in one lookup per way of reading it."""
    table: dict[tuple[str, ...], list[str]] = {}
    for w in words:
        if 2 <= len(w) <= LONGEST and RUN.fullmatch(w):
            table.setdefault(sound(w), []).append(w)
    return {k: tuple(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def question_characters() -> frozenset[str]:
    """Characters questions use far more than the text they ask about (哪, 什么, 多, 几), learned from
    CMRC 2018 train (scripts/make_question_characters.py): the question's own, never a mistyped one
    (哪种 is not 那种 mistyped)."""
    try:
        return frozenset(json.loads(QUESTION_CHARACTERS.read_text(encoding="utf-8"))["characters"])
    except (OSError, ValueError, KeyError):
        return frozenset()


def likelihood(text: str) -> float:
    """Log-probability of the best cut of `text` into jieba's words (its unigram model)."""
    jieba = _jieba()
    route: dict = {}
    jieba.dt.calc(text, jieba.dt.get_DAG(text), route)
    return route[0][0]


def is_word(word: str) -> bool:
    return (_jieba().dt.FREQ.get(word) or 0) > 0


class Speller:
    """Reads a question as the reports of one index would spell it (__call__). Their words by sound
    and their text are gathered at the first question with a stretch no word covers."""

    def __init__(self, words: Callable[[], Iterable[str]], frequency: Callable[[str], int],
                 texts: Callable[[], Iterable[str]], margin: float = MARGIN):
        self._words, self._frequency, self._texts, self.margin = words, frequency, texts, margin
        self._table: dict | None = None
        self._text = ""

    def __call__(self, query: str) -> str:
        tokens = self._pieces(query)
        if not tokens:
            return query  # nearly every question: nothing to read otherwise
        if self._table is None:
            self._table = sound_table(self._words())
            self._text = fold.__wrapped__("\n".join(self._texts()))  # once: not through fold's cache
        seen = fold(query)
        text = list(seen if len(seen) == len(query) else query)  # as the reports' words are written
        out = list(query)  # as asked, but for the characters read otherwise
        for start, end in tokens:
            lo, hi = next((m.span() for m in RUN.finditer("".join(text)) if m.start() <= start < m.end()),
                          (start, end))  # the stretch of Chinese the piece is in
            typed = likelihood("".join(text[lo:hi]))
            best = (self.margin, "", -1)  # (gain in log-probability, the character, where)
            for i, ch in self._readings(text, start, end):
                if self._written(text, i) or {text[i], ch} & question_characters():
                    continue
                trial = text[lo:i] + [ch] + text[i + 1:hi]
                gain = likelihood("".join(trial)) - typed
                if gain > best[0]:
                    best = (gain, ch, i)
            if best[2] >= 0:
                text[best[2]] = out[best[2]] = best[1]
        return "".join(out)

    def _pieces(self, query: str) -> list[tuple[int, int]]:
        """Spans of two Chinese characters or more that no word of the question covers, a word the
        reports use or one of the dictionary's: where a mistyped character is (扶务全, or 就夜 cut as
        就 and 夜)."""
        seen = fold(query)
        seen = seen if len(seen) == len(query) else query
        covered = [not CJK.fullmatch(ch) for ch in seen]
        for run in RUN.finditer(seen):  # every word jieba sees, 多少 and 什么 too (BM25 drops those)
            for word, start, end in _jieba().tokenize(run.group(), mode="search"):
                if len(word) > 1 and (is_word(word) or self._frequency(word)):
                    covered[run.start() + start:run.start() + end] = [True] * (end - start)
        return [(m.start(), m.end()) for m in re.finditer(r"0{2,}", "".join("1" if c else "0" for c in covered))]

    def _written(self, text: list[str], i: int) -> bool:
        """Do the reports write the character at `i` beside the one before it or after it, as the
        question does? Then it is no typo (王法慧, a name the question cuts otherwise: 王法 慧是)."""
        return any(RUN.fullmatch(pair) and pair in self._text
                   for pair in ("".join(text[max(0, i - 1):i + 1]), "".join(text[i:i + 2])) if len(pair) == 2)

    def _readings(self, text: list[str], start: int, end: int) -> set[tuple[int, str]]:
        """(position, character) of each one-character change within text[start:end] that makes a
        word of the reports of the same sound, of two to four characters, with its neighbours (in
        the text this view may read: a reader is never offered a word from a report kept from them)."""
        found = set()
        for a in range(start, end - 1):
            for b in range(a + 2, min(end, a + LONGEST) + 1):
                window = "".join(text[a:b])
                if not RUN.fullmatch(window):
                    continue
                for key in sounds_of(window):
                    for w in self._table.get(key, ()):
                        differ = [i for i in range(len(w)) if w[i] != window[i]]
                        if len(differ) == 1 and start <= a + differ[0] < end and is_word(w) and w in self._text:
                            found.add((a + differ[0], w[differ[0]]))
        return found
