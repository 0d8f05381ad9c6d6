"""When a question that names no report is answered per report: the rule, measured and chosen.

A question every report answers ("今年城镇新增就业目标是多少", "如何推进乡村振兴") asked of a library
should give each report's answer; a question only one report answers ("浑河左岸景观带有什么进展")
should give the most relevant paragraphs. kb tells them apart by how far the evidence spreads
over the reports (kb/grouping.py:spread): the distinct reports among the first chunks of the ranking,
and the share of reports whose best BM25 score is near the best report's. This script makes
labelled questions from a library index, fits a logistic regression over those two figures (and
the depth of the ranking to look at) on a training library, writes it to
kb/weights/per-report.json, and reports on held-out libraries.

    python scripts/tune_per_report.py --train /tmp/idx-prov2025 --heldout /tmp/idx-2026 --write

Questions are made from the reports' own words, labelled by how many reports contain the topic:
- per report: target indicators that at least a third of the reports set ("X增长N%" in a
  主要预期目标 sentence → "今年X增长目标是多少"), and words found in at least 80% of the reports;
- one report: words (3+ characters, not a place name) found in one report only, at least three times.
No evaluation set is used here; seed_dev and the compare sets are reported beside, never tuned on.
"""
from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import store  # noqa: E402
from kb.embedding import load_embedder  # noqa: E402
from kb.regions import divisions  # noqa: E402
from kb.scope import GROUP_WORDS  # noqa: E402
from kb.scope import Filters, chunk_mask  # noqa: E402
from kb import grouping  # noqa: E402
from kb.grouping import spread  # noqa: E402
from kb.search import ranked_order, search  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "kb" / "weights" / "per-report.json"
DEPTHS = (10, 20, 30, 50)
INDICATOR = re.compile(r"([\u4e00-\u9fff]{2,10}?)(?:增长|增速|下降|涨幅|控制在|达到)(?:[^，；。]{0,6}?)\d")
TARGET_SENTENCE = re.compile(r"预期目标|主要目标")
INDICATOR_TEMPLATES = ("今年{w}增长目标是多少", "{w}预期增长多少", "{w}的目标")
# the same forms for both kinds of word, so that the form says nothing about the answer
TOPIC_TEMPLATES = ("{w}", "{w}有哪些举措", "关于{w}有什么安排", "{w}进展如何")


def _words(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text) if len(w) >= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", w)]


def doc_words(index) -> dict[str, tuple[set[str], Counter]]:
    """Per report: the indicators its target sentences set, and its words with their counts."""
    out = {}
    for d in index.documents.values():
        indicators, counts = set(), Counter()
        for p in d.paragraphs:
            for sentence in re.split(r"(?<=。)", p.text):
                if TARGET_SENTENCE.search(sentence):
                    indicators |= {m.group(1) for m in INDICATOR.finditer(sentence)}
            counts.update(_words(p.text))
        out[d.doc_id] = (indicators, counts)
    return out


def make_questions(words: dict, doc_ids: list[str], seed: int = 0, per_kind: int = 60) -> list[tuple[str, bool]]:
    """(question, answered per report?) pairs made from these reports' own words."""
    rng = random.Random(seed)
    places = set(divisions()[0]) | set(divisions()[1])
    indicator_docs, word_docs = Counter(), Counter()
    for d in doc_ids:
        indicator_docs.update(words[d][0])
        word_docs.update(words[d][1].keys())
    n = len(doc_ids)
    common_ind = sorted(w for w, c in indicator_docs.items() if c >= max(2, n / 3))
    common = sorted(w for w, c in word_docs.items() if c >= max(2, 0.8 * n) and len(w) >= 4)
    unique = sorted(w for w, c in word_docs.items() if c == 1 and w not in places
                    and not any(p in w for p in places if len(p) >= 2)
                    and any(words[d][1][w] >= 3 for d in doc_ids))
    rng.shuffle(common), rng.shuffle(unique), rng.shuffle(common_ind)
    out = [(rng.choice(INDICATOR_TEMPLATES).format(w=w), True) for w in common_ind[:per_kind // 3]]
    out += [(rng.choice(TOPIC_TEMPLATES).format(w=w), True) for w in common[:per_kind - len(out)]]
    out += [(rng.choice(TOPIC_TEMPLATES).format(w=w), False) for w in unique[:len(out)]]
    return out


def features(index, embedder, questions: list[str], doc_ids=None) -> list[dict[int, tuple[float, float]]]:
    """For each question asked of these reports, `spread`'s two figures at each depth tried."""
    filters = Filters(doc=tuple(doc_ids)) if doc_ids else Filters()
    mask = chunk_mask(index, filters)
    out = []
    for q in questions:
        order, lexical = ranked_order(index, embedder, q, filters)
        out.append({n: spread(index, order, lexical, n, mask) for n in DEPTHS})
    return out


def libraries(index, embedder, sizes: list[int], seed: int, whole: bool = True):
    """Questions and their figures from the whole library and from libraries of `sizes` reports
    drawn from it (four draws of 15 + 15 questions each): a small library is where the figures
    change most (two reports are already "many" of two)."""
    words = doc_words(index)
    rng = random.Random(seed)
    everything = len(index.documents)
    qs, feats = [], []
    for size in sorted({*sizes, everything} if whole else set(sizes), reverse=True):
        if size > everything:
            continue
        for draw in range(1 if size == everything else 4):
            ids = sorted(rng.sample(list(index.documents), size))
            made = make_questions(words, ids, seed=seed * 100 + draw, per_kind=60 if size == everything else 15)
            qs += made
            feats += features(index, embedder, [q for q, _ in made], None if size == everything else ids)
    return qs, feats


def fit(labels, feats, depth):
    from sklearn.linear_model import LogisticRegression

    x = np.array([f[depth] for f in feats])
    return LogisticRegression(C=10.0, class_weight="balanced").fit(x, labels)


def accuracy(model, labels, feats, depth) -> tuple[float, int, int]:
    """Balanced accuracy, per-report questions right, one-report questions right."""
    said = model.predict(np.array([f[depth] for f in feats]))
    pos = sum(1 for s, y in zip(said, labels) if y and s)
    neg = sum(1 for s, y in zip(said, labels) if not y and not s)
    n_pos = sum(labels)
    return (pos / max(1, n_pos) + neg / max(1, len(labels) - n_pos)) / 2, pos, neg


@click.command()
@click.option("--train", "train_dir", type=click.Path(path_type=Path), required=True,
              help="Index of the training library (e.g. the 2025 provincial reports and the national one).")
@click.option("--heldout", "heldout_dir", type=click.Path(path_type=Path), multiple=True,
              help="Index of a library to report on (questions made the same way, never tuned on).")
@click.option("--extra", type=(click.Path(exists=True, path_type=Path), click.Path(path_type=Path)), multiple=True,
              help="A question file (jsonl with q or question) and the index to ask it of: how many are "
                   "answered per report (reported, never tuned on).")
@click.option("--write", is_flag=True, help="Write the fitted rule to kb/weights/per-report.json "
              "(--extra questions are asked with the rule written, or the shipped one without --write).")
@click.option("--sizes", default="2,3,5,10", show_default=True,
              help="Also report on libraries of this many reports drawn from each held-out library.")
@click.option("--show", is_flag=True, help="Print each training question with its figures.")
def main(train_dir, heldout_dir, extra, write, sizes, show):
    sizes = [int(x) for x in sizes.split(",") if x.strip()]
    index = store.load(train_dir)
    embedder = load_embedder(index.model_name)
    qs, feats = libraries(index, embedder, sizes, seed=0)
    labels = [y for _, y in qs]
    click.echo(f"training library {train_dir}: {len(index.documents)} reports and libraries of {sizes} drawn "
               f"from it; {sum(labels)} per-report and {len(labels) - sum(labels)} one-report questions")
    scored = []
    for n in DEPTHS:
        model = fit(labels, feats, n)
        scored.append((accuracy(model, labels, feats, n)[0], -n, model))
        click.echo(f"  depth {n}: balanced accuracy {scored[-1][0]:.3f}")
    score, depth, model = max(scored, key=lambda t: t[:2])
    depth = -depth
    weights, bias = [round(float(w), 4) for w in model.coef_[0]], round(float(model.intercept_[0]), 4)
    click.echo(f"chosen: depth {depth}, weights {weights}, bias {bias}; training balanced accuracy {score:.3f}")
    if show:
        for (q, y), f in zip(qs, feats):
            click.echo(f"  {'P' if y else '1'} {f[depth][0]:.2f} {f[depth][1]:.2f} {q}")
    for held in heldout_dir:
        hindex = store.load(held)
        for size in sorted({*sizes, len(hindex.documents)}, reverse=True):
            hq, hf = libraries(hindex, embedder, [size], seed=1, whole=size == len(hindex.documents))
            hl = [y for _, y in hq]
            acc, pos, neg = accuracy(model, hl, hf, depth)
            click.echo(f"held-out {held}, libraries of {size} reports: per report {pos}/{sum(hl)}, "
                       f"one report {neg}/{len(hl) - sum(hl)}, balanced accuracy {acc:.3f}")
    if write:
        OUT.write_text(json.dumps({"depth": depth, "weights": weights, "bias": bias,
                                   "features": ["distinct reports in the first chunks", "reports near the best BM25", "1 / reports searched"],
                                   "balanced_accuracy_train": round(score, 4),
                                   "made_by": "scripts/tune_per_report.py",
                                   "trained_on": f"{len(labels)} questions made from {len(index.documents)} reports "
                                                 f"({', '.join(sorted(index.documents)[:3])}, ...)"},
                                  indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"wrote {OUT}")
        grouping._per_report_rule.cache_clear()
    for path, idx in extra:
        eindex = store.load(idx)
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = [GROUP_WORDS.sub("", q.get("q") or q.get("question")) for q in items]
        said = [search(eindex, embedder, t, per_document=None).per_document for t in texts]
        click.echo(f"{path.name} asked of {idx} (group words taken out): per report {sum(said)}/{len(texts)}")
        if show:
            for t, s in zip(texts, said):
                click.echo(f"  {'per report' if s else 'paragraphs'}: {t}")


if __name__ == "__main__":
    main()
