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
No randomness: the same pairs and model give the same file. CPU time: about a minute and a half.
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
from kb.lexicon import english_words, stem_table  # noqa: E402
from kb.lexical import tokenize  # noqa: E402

NULL = ""  # the empty English word: what a Chinese term is generated from when no word stands for it


def read_pairs() -> list[tuple[list[str], list[str]]]:
    rows = [json.loads(x) for x in (SHARED / "corpora" / "gov-reports-zh-en" / "pairs.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    out = []
    for r in rows:
        if r["year"] in HELDOUT_YEARS:
            continue
        en = sorted(set(english_words(r["en"])))
        zh = sorted({t for t in tokenize(r["zh"]) if not any(ch.isdigit() for ch in t)})
        if en and zh:
            out.append((en, zh))
    return out


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
def main(out: Path, iterations: int, temperature: float, min_count: int, min_prob: float, min_lift: float,
         top: int):
    pairs = read_pairs()
    seen = Counter(e for en, _ in pairs for e in en)
    t = ibm1(pairs, iterations, similarity(pairs) if temperature > 0 else None, temperature)
    share = Counter(z for _, zh in pairs for z in zh)  # sentences each term is in
    lexicon = {}
    for e in sorted(t):
        if e == NULL or seen[e] < min_count:
            continue
        best = sorted(t[e].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        # and far likelier after the word than in any sentence: "the" is often aligned to 发展, but
        # 发展 is in a quarter of all sentences anyway
        terms = [z for z, p in best if p >= min_prob and p / (share[z] / len(pairs)) >= min_lift]
        if terms:
            lexicon[e] = terms
    # words seen often enough that had no confident translation ("the", "of", "we"): a question's
    # word that is neither translated nor one of these is one the lexicon never met
    untranslated = sorted(e for e in seen if e != NULL and seen[e] >= min_count and e not in lexicon)
    stems, untranslated_stems = stem_table(lexicon, untranslated)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"trained_on": {"pairs": len(pairs), "held_out_years": sorted(HELDOUT_YEARS),
                                              "iterations": iterations, "temperature": temperature,
                                              "prior": model_name() if temperature > 0 else None,
                                              "min_count": min_count,
                                              "min_prob": min_prob, "min_lift": min_lift, "top": top},
                               "lexicon": lexicon, "untranslated": untranslated,
                               "stems": {"terms": stems, "untranslated": untranslated_stems}}, ensure_ascii=False, indent=0, sort_keys=False) + "\n",
                   encoding="utf-8")
    print(json.dumps({"pairs": len(pairs), "words": len(lexicon)}))
    for e in ("gdp", "growth", "target", "grain", "parking", "pension", "employment", "unemployment", "pollution"):
        print(e, lexicon.get(e))


if __name__ == "__main__":
    main()
