"""How kb reads a mistyped character (kb/spelling.py), measured on the ranker's training questions.

    python scripts/check_spelling.py --data /tmp/kbtrain --work /tmp/rk [--per-source 300]

Each Chinese training question of scripts/train_ranker.py (gov, reader, cmrc trial, archive; both
of its splits) is asked as written and with one character of one of its words swapped for another
of the same sound (seeded; the new character is one the reports use, as a pinyin keyboard offers
common characters first). Reported per source: how often a question as written is changed (it
should not be), how often the mistyped one is read back as written, and R@1 of the mistyped
questions with and without the reading (`search(..., spell=False)`, at kb.spelling.MARGIN); the
changes and read-backs at each price of a typo in `--margins`. A swap that makes another
real word (公式 for 公司) is counted apart: the dictionary cannot tell it from a word the reader
meant, so it is left as typed. No evaluation set is read.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).parent))
from train_ranker import _indexes, _questions  # noqa: E402

from kb.embedding import load_embedder  # noqa: E402
from kb.fusion import is_english  # noqa: E402
from kb.lexical import _jieba, tokens_with_spans  # noqa: E402
from kb.search import make_filters, search  # noqa: E402
from kb.spelling import CJK, MARGIN, homophones  # noqa: E402


def mistyped(q: str, index, rng: random.Random) -> tuple[str, bool] | None:
    """`q` with one character of one of its words (known to the index) swapped for one of the same
    sound that the index uses; and whether the swap makes another dictionary word."""
    words = [(w, s, e) for w, s, e in tokens_with_spans(q) if len(w) >= 2 and CJK.fullmatch(w[0])
             and all(CJK.fullmatch(c) for c in w) and index.lexical.frequency(w)]
    if not words:
        return None
    w, s, e = rng.choice(words)
    i = rng.randrange(s, e)
    used = [h for h in sorted(homophones(q[i])) if index.lexical.frequency(h)]
    if not used:
        return None
    h = rng.choice(used)
    typed = q[:i] + h + q[i + 1:]
    word = typed[s:e]
    return typed, (_jieba().dt.FREQ.get(word) or 0) > 0


def _right(results, gold) -> bool:
    return bool(results) and ((results[0].doc_id, results[0].paragraph) in gold or results[0].doc_id in gold)


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--per-source", default=300, show_default=True)
@click.option("--seed", default=13, show_default=True)
@click.option("--margins", default="0,2,3,4,5,6,8", show_default=True,
              help="the prices of a typo (kb.spelling.MARGIN) to count changes and read-backs at")
def main(data: Path, work: Path, per_source: int, seed: int, margins: str):
    prices = [float(m) for m in margins.split(",")]
    indexes = _indexes(work)
    embedder = load_embedder(indexes["gov"].model_name)
    rng = random.Random(seed)
    questions = [q for q in _questions(data, indexes["gov"], indexes["cmrc"], random.Random(seed), per_source,
                                       indexes["archive"]) if not is_english(q["q"])]
    report: dict[str, dict] = {}
    with click.progressbar(questions, label="questions") as bar:
        for q in bar:
            index = indexes[q["index"]]
            r = report.setdefault(q["src"], {"asked": 0, "changed": {m: 0 for m in prices}, "mistyped": 0,
                                             "read back": {m: 0 for m in prices}, "R@1 as typed": 0, "R@1 read": 0,
                                             "real-word typos": 0})
            r["asked"] += 1
            made = mistyped(q["q"], index, rng)
            for m in prices:
                index.speller.margin = m
                r["changed"][m] += index.speller(q["q"]) != q["q"]
                if made is not None and not made[1]:
                    r["read back"][m] += index.speller(made[0]) == q["q"]
            index.speller.margin = MARGIN
            if made is None:
                continue
            typed, real_word = made
            if real_word:
                r["real-word typos"] += 1
                continue
            filters = make_filters(list(q["docs"]), None, None) if q["docs"] else make_filters(None, None, None)
            read = search(index, embedder, typed, 1, filters=filters)
            raw = search(index, embedder, typed, 1, filters=filters, spell=False)
            r["mistyped"] += 1
            r["R@1 read"] += _right(read, q["gold"])
            r["R@1 as typed"] += _right(raw, q["gold"])
    for r in report.values():
        n = r["mistyped"] or 1
        r["read back"] = {m: round(v / n, 3) for m, v in r["read back"].items()}
        for key in ("R@1 as typed", "R@1 read"):
            r[key] = round(r[key] / n, 3)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
