"""Does the dictionary stand in for the lexicon where the lexicon never met a word? Measured on the
ranker's English training questions (kb/lexicon.py's back-off to CC-CEDICT).

    python scripts/check_dictionary.py --data /tmp/kbtrain --work /tmp/rk

The short English questions of scripts/train_ranker.py (made from the official English sentences of
2013 and 2019, years the lexicon never read) use words the lexicon knows. Here, in each question one
of its words that the lexicon translates (seeded choice) is made unknown to it, as "subway" is, and
the question is searched within its report three ways: with the lexicon as it is, with the word
unknown and nothing in its place (what kb did before the back-off), and with the word unknown and
the dictionary's words in its place. R@1 of each, and how often the dictionary gave a word the
lexicon gives too. Then the questions with a word the British spell otherwise ("realize") are asked in British
spelling ("realise", `breame`), with and without reading it as the translations spell it. No evaluation set is
read.
"""
from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).parent))
from train_ranker import _indexes, _questions  # noqa: E402

from kb import lexicon  # noqa: E402
from kb.embedding import load_embedder  # noqa: E402
from kb.fusion import is_english  # noqa: E402
from kb.search import make_filters, search  # noqa: E402

STOP = {"the", "a", "an", "of", "in", "and", "to", "for", "what", "how", "many", "much", "is", "was", "were",
        "did", "does", "do", "this", "last", "year", "which", "will", "be", "by", "on", "with", "its", "are"}


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--per-source", default=1500, show_default=True)
@click.option("--seed", default=13, show_default=True)
def main(data: Path, work: Path, per_source: int, seed: int):
    indexes = _indexes(work)
    embedder = load_embedder(indexes["gov"].model_name)
    rng = random.Random(seed)
    questions = [q for q in _questions(data, indexes["gov"], indexes["cmrc"], random.Random(seed), per_source,
                                       indexes["archive"]) if q["src"] == "en-short" and is_english(q["q"])]
    translate = lexicon._translate
    masked: dict = {"word": None, "backoff": True}

    def without(word):  # the lexicon, but for the masked word: unknown, or the dictionary's
        if word == masked["word"]:
            return (lexicon.dictionary_terms(word) or None) if masked["backoff"] else None
        return translate(word)

    counts = {"questions": 0, "R@1 lexicon": 0, "R@1 unknown": 0, "R@1 dictionary": 0, "dictionary gave a term": 0,
              "a term the lexicon gives": 0}
    lexicon._translate = without
    try:
        with click.progressbar(questions, label="questions") as bar:
            for q in bar:
                words = [w for w in lexicon.english_words(q["q"]) if w not in STOP and translate(w)]
                if not words:
                    continue
                word = rng.choice(words)

                def right(hidden, backoff):
                    masked.update(word=word if hidden else None, backoff=backoff)
                    return first_is_right(q, q["q"], indexes, embedder)

                counts["questions"] += 1
                counts["R@1 lexicon"] += right(False, False)
                counts["R@1 unknown"] += right(True, False)
                counts["R@1 dictionary"] += right(True, True)
                given = lexicon.dictionary_terms(word)
                counts["dictionary gave a term"] += bool(given)
                counts["a term the lexicon gives"] += bool(set(given) & set(translate(word)))
    finally:
        lexicon._translate = translate
    n = counts["questions"] or 1
    print(json.dumps({k: (v if k == "questions" else round(v / n, 3)) for k, v in counts.items()}, indent=1))
    print(json.dumps(phrases(questions, indexes, embedder, random.Random(seed)), indent=1))
    print(json.dumps(british(questions, indexes, embedder), indent=1))


def first_is_right(q: dict, text: str, indexes: dict, embedder) -> bool:
    """Is the first answer to `text`, searched within the question's report, its gold paragraph?"""
    top = search(indexes[q["index"]], embedder, text, 1, filters=make_filters(list(q["docs"]), None, None))
    return bool(top) and (top[0].doc_id, top[0].paragraph) in q["gold"]


def phrases(questions: list[dict], indexes: dict, embedder, rng: random.Random) -> dict:
    """R@1 of the questions with a pair of words the dictionary glosses as one ("interest rates" →
    利率) and the lexicon learned no phrase for, as asked; with one of the two words unknown and
    nothing in its phrase's place; with it unknown and the dictionary's phrase there (_new_phrase)."""
    learned, phrase = lexicon._learned, lexicon.dictionary_phrase
    state: dict = {"word": None, "phrase": True}
    lexicon._learned = lambda w: None if w == state["word"] else learned(w)
    lexicon.dictionary_phrase = lambda a, b: phrase(a, b) if state["phrase"] else []
    counts = {"questions": 0, "R@1 lexicon": 0, "R@1 unknown": 0, "R@1 dictionary phrase": 0}
    try:
        for q in questions:
            words = lexicon.english_words(q["q"])
            pairs = [(a, b) for a, b in zip(words, words[1:])
                     if phrase(a, b) and not lexicon._phrase(a, b) and learned(a) and learned(b)]
            if not pairs:
                continue
            word = rng.choice(rng.choice(pairs))
            counts["questions"] += 1
            for key, hidden, with_phrase in (("R@1 lexicon", None, True), ("R@1 unknown", word, False),
                                             ("R@1 dictionary phrase", word, True)):
                state.update(word=hidden, phrase=with_phrase)
                counts[key] += first_is_right(q, q["q"], indexes, embedder)
    finally:
        lexicon._learned, lexicon.dictionary_phrase = learned, phrase
    n = counts["questions"] or 1
    return {k: (v if k == "questions" else round(v / n, 3)) for k, v in counts.items()}


def british(questions: list[dict], indexes: dict, embedder) -> dict:
    """R@1 of the questions that have a word the British spell otherwise: as made (American, as the
    translations spell), in British spelling, and in British spelling without kb reading it as American."""
    from breame.spelling import get_british_spelling

    def spelt(text):
        return re.sub(r"[a-z]+", lambda m: get_british_spelling(m.group()), text)

    def right(q, text):
        return first_is_right(q, text, indexes, embedder)

    asked = [(q, spelt(q["q"])) for q in questions if spelt(q["q"]) != q["q"]]
    n = len(asked) or 1
    out = {"questions with a British spelling": len(asked),
           "R@1 American": round(sum(right(q, q["q"]) for q, _ in asked) / n, 3),
           "R@1 British": round(sum(right(q, b) for q, b in asked) / n, 3)}
    translate = lexicon._translate
    lexicon._translate = lambda w: lexicon._learned(w) if lexicon._learned(w) is not None else (
        lexicon.dictionary_terms(w) or None)
    try:
        out["R@1 British, read as written"] = round(sum(right(q, b) for q, b in asked) / n, 3)
    finally:
        lexicon._translate = translate
    return out


if __name__ == "__main__":
    main()
