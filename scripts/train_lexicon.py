"""Learn kb's English-to-report-terms lexicon (kb/weights/lexicon.json) from official translations.

    python scripts/train_lexicon.py --out kb/weights/lexicon.json

BM25 cannot match an English question against Chinese reports; kb adds, for each English word of a
question, the Chinese index terms it most often translates. Those pairs are learned here, by IBM
Model 1 (expectation-maximisation over which Chinese term each English word of a sentence
generated; Brown et al. 1993), from the 9,550 official Chinese-English sentence pairs of the
national reports 2008-2022 in ../shared/corpora/gov-reports-zh-en, less the held-out years
(make_training_data.HELDOUT_YEARS), which the ranker's English questions are made from. Chinese is
cut exactly as kb's BM25 cuts it (kb.lexical.tokenize), so every learned term is an index term.

EM starts from what the bundled model already knows rather than from uniform: t(term | word) begins
proportional to exp((cos(word, term) - 1) / T), the e5 similarity of the English word and the Chinese
term. Where the pairs cannot tell the terms of a sentence apart (a word in one or two sentences:
"aerospace" beside both 航空航天 and 海洋) the model's prior decides, so words met once can be learned
too; where the pairs can, EM moves away from it. T and the other settings were chosen on the ranker's
English questions of 2019 and checked on 2013's (both years are left out of the pairs here).
Two-word phrases are learned by a second EM over the same pairs with each sentence's phrases beside
its words (phrases met twice or more whose words keep company: normalised PMI >= 0.3); a phrase is
kept where its terms are not already its words' ("consumer prices" → 居民消费, "foreign trade" → 外贸,
"air quality" → 空气质量). Count and PMI were chosen on the 2019 questions among five settings
(docs/quality.md, twenty-second session) and checked on 2013's.
No randomness: the same pairs and model give the same file. CPU time: about three minutes.
"""
from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from make_training_data import HELDOUT_YEARS, SHARED  # noqa: E402

from kb.embedding import load_embedder, model_name  # noqa: E402
from kb.lexicon import english_words, phrase_table, stem_table  # noqa: E402
from kb.lexical import tokenize  # noqa: E402

NULL = ""  # the empty English word: what a Chinese term is generated from when no word stands for it


def read_sentences() -> list[tuple[list[str], list[str]]]:
    """Each training pair's English words in order, and its Chinese index terms (figures left out)."""
    rows = [json.loads(x) for x in (SHARED / "corpora" / "gov-reports-zh-en" / "pairs.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    out = []
    for r in rows:
        if r["year"] in HELDOUT_YEARS:
            continue
        en = english_words(r["en"])
        zh = sorted({t for t in tokenize(r["zh"]) if not any(ch.isdigit() for ch in t)})
        if en and zh:
            out.append((en, zh))
    return out


def read_pairs(sentences=None) -> list[tuple[list[str], list[str]]]:
    return [(sorted(set(en)), zh) for en, zh in sentences or read_sentences()]


def with_phrases(sentences, lexicon: dict[str, list[str]], min_count: int,
                 min_npmi: float) -> list[tuple[list[str], list[str]]]:
    """The pairs with each sentence's two-word phrases ("foreign trade") beside its words, for the
    phrases of two translated words met in `min_count` sentences or more whose words keep company far
    more than chance has them (normalised PMI, Bouma 2009, as gensim's Phrases scores them; "continue
    to" is common but its words are everywhere): EM then learns what a phrase translates as a whole
    (外贸), which its words' own terms (外资, 贸易) miss."""
    def grams(en):
        return {(a, b) for a, b in zip(en, en[1:]) if a in lexicon and b in lexicon}
    n = sum(len(en) for en, _ in sentences)
    words = Counter(w for en, _ in sentences for w in en)
    pairs = Counter(g for en, _ in sentences for g in zip(en, en[1:]))

    def npmi(a, b):
        p_ab = pairs[a, b] / n
        return np.log(p_ab / (words[a] / n * words[b] / n)) / -np.log(p_ab)
    kept = {g for g, c in pairs.items() if c >= min_count and g[0] in lexicon and g[1] in lexicon
            and npmi(*g) >= min_npmi}
    return [(sorted(set(en) | {f"{a} {b}" for a, b in grams(en) & kept}), zh) for en, zh in sentences]


def similarity(pairs: list[tuple[list[str], list[str]]]) -> Callable[[str, list[str]], np.ndarray]:
    """cos(English word, each Chinese term) under the bundled model (each embedded as a query)."""
    words = sorted({e for en, _ in pairs for e in en})
    terms = sorted({z for _, zh in pairs for z in zh})
    embedder = load_embedder()
    w_vec, t_vec = embedder.encode_queries(words), embedder.encode_queries(terms)
    w_row, t_row = {w: i for i, w in enumerate(words)}, {z: i for i, z in enumerate(terms)}
    return lambda word, zh: t_vec[[t_row[z] for z in zh]] @ w_vec[w_row[word]]


def ibm1(pairs: list[tuple[list[str], list[str]]], iterations: int,
         sim: Callable[[str, list[str]], np.ndarray] | None = None,
         temperature: float = 0.05) -> dict[str, dict[str, float]]:
    """t(zh term | English word) after `iterations` rounds of EM, from the model's prior `sim`
    (uniform without one)."""
    t: dict[str, dict[str, float]] = defaultdict(dict)
    for en, zh in pairs:
        t[NULL].update(dict.fromkeys(zh, 1.0))
        for e in en:
            if sim is None:
                t[e].update(dict.fromkeys(zh, 1.0))
            else:
                t[e].update(zip(zh, np.exp((sim(e, zh) - 1.0) / temperature).tolist()))
    for _ in range(iterations):
        counts: dict[str, Counter] = defaultdict(Counter)
        for en, zh in pairs:
            words = [NULL, *en]
            for z in zh:
                total = sum(t[e][z] for e in words)
                for e in words:
                    counts[e][z] += t[e][z] / total
        t = defaultdict(dict)
        for e, c in counts.items():
            norm = sum(c.values())
            t[e] = {z: v / norm for z, v in c.items()}
    return t


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--iterations", default=8, show_default=True)
@click.option("--temperature", default=0.05, show_default=True,
              help="of the model's prior EM starts from; 0: from uniform (as before the prior)")
@click.option("--min-count", default=1, show_default=True, help="sentences an English word must be in")
@click.option("--min-prob", default=0.2, show_default=True, help="t(term | word) a kept translation needs")
@click.option("--min-lift", default=2.0, show_default=True, help="t(term | word) over the term's share of sentences")
@click.option("--top", default=2, show_default=True, help="translations kept per word")
@click.option("--phrase-count", default=2, show_default=True,
              help="times a two-word phrase must be met to be learned (0: no phrases)")
@click.option("--phrase-npmi", default=0.3, show_default=True, help="normalised PMI a phrase's words need")
def main(out: Path, iterations: int, temperature: float, min_count: int, min_prob: float, min_lift: float,
         top: int, phrase_count: int, phrase_npmi: float):
    sentences = read_sentences()
    pairs = read_pairs(sentences)
    seen = Counter(e for en, _ in pairs for e in en)
    share = Counter(z for _, zh in pairs for z in zh)  # sentences each term is in

    def translations(t, e):
        best = sorted(t[e].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        # and far likelier after the word than in any sentence: "the" is often aligned to 发展, but
        # 发展 is in a quarter of all sentences anyway
        return [z for z, p in best if p >= min_prob and p / (share[z] / len(pairs)) >= min_lift]

    t = ibm1(pairs, iterations, similarity(pairs) if temperature > 0 else None, temperature)
    lexicon = {}
    for e in sorted(t):
        if e == NULL or seen[e] < min_count:
            continue
        terms = translations(t, e)
        if terms:
            lexicon[e] = terms
    phrases = {}
    if phrase_count:
        joint = with_phrases(sentences, lexicon, phrase_count, phrase_npmi)
        t2 = ibm1(joint, iterations, similarity(joint) if temperature > 0 else None, temperature)
        for e in sorted(t2):
            if " " not in e:
                continue
            a, b = e.split()
            terms = translations(t2, e)
            # a phrase is kept only where it says what its words do not
            if terms and not set(terms) <= set(lexicon.get(a, ())) | set(lexicon.get(b, ())):
                phrases[e] = terms
    # words seen often enough that had no confident translation ("the", "of", "we"): a question's
    # word that is neither translated nor one of these is one the lexicon never met
    untranslated = sorted(e for e in seen if e != NULL and seen[e] >= min_count and e not in lexicon)
    stems, untranslated_stems = stem_table(lexicon, untranslated)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"trained_on": {"pairs": len(pairs), "held_out_years": sorted(HELDOUT_YEARS),
                                              "iterations": iterations, "temperature": temperature,
                                              "prior": model_name() if temperature > 0 else None,
                                              "min_count": min_count,
                                              "min_prob": min_prob, "min_lift": min_lift, "top": top,
                                              "phrase_count": phrase_count, "phrase_npmi": phrase_npmi},
                               "lexicon": lexicon, "phrases": phrase_table(phrases), "untranslated": untranslated,
                               "stems": {"terms": stems, "untranslated": untranslated_stems}}, ensure_ascii=False, indent=0, sort_keys=False) + "\n",
                   encoding="utf-8")
    print(json.dumps({"pairs": len(pairs), "words": len(lexicon), "phrases": len(phrases)}))
    for e in ("gdp", "growth", "target", "grain", "parking", "pension", "employment", "unemployment", "pollution"):
        print(e, lexicon.get(e))


if __name__ == "__main__":
    main()
