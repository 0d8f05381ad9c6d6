"""Learn kb's ranker (kb/weights/ranker.json) from training questions over indexes of training text.

    python scripts/make_training_data.py --out /tmp/kbtrain
    python scripts/train_ranker.py prepare --work /tmp/rk    # copies the corpora, builds the indexes
    python scripts/train_ranker.py fit --data /tmp/kbtrain --work /tmp/rk --out kb/weights/ranker.json

The indexes are built with the model kb ships, with its adapter (on by default), so the ranker learns
from the scores it will see beside it. A ranker learned on questions the adapter was trained on
learns to trust the dense side too much (its scores are better there than on new questions), so
every question here is one the adapter never saw (none from any evaluation set either):
- gov: the gov-figure questions make_training_data.py holds out of the adapter's training (1 report
  in 8), over the national (2008-2025) and 2025 provincial reports of ../shared/corpora/gov-reports,
  each searched within its report, as a reader who has picked a report does;
- en-short: short English questions and keyword queries (make_training_data.english_question) made
  from the official English sentences of the zh-en years the adapter never saw, searched within
  that year's report; gold: the paragraph holding the Chinese sentence;
- cmrc: CMRC 2018 *trial* questions over its 256 paragraphs, searched across all of them (trial
  chose between adapter runs; it was never trained on).
The ranker's own held-out split: 1 in 3 of those reports (by a hash), the zh-en year 2013, and 1 in
4 CMRC trial paragraphs. The fit is a pairwise logistic regression (right chunk minus a wrong one,
both from the question's candidates), so only the order it gives is learned. CPU time on 2 cores:
prepare ~10 min (embedding), fit ~2 min.
"""
from __future__ import annotations

import csv
import hashlib
import json
import random
import shutil
import sys
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from make_training_data import HELDOUT_YEARS, SHARED, english_question  # noqa: E402

from kb import store  # noqa: E402
from kb.embedding import load_embedder  # noqa: E402
from kb.fusion import Fusion, fuse  # noqa: E402
from kb.ranker import FEATURES, RRF_PRIOR, features  # noqa: E402
from kb.search import CANDIDATES_PER_RESULT, candidates  # noqa: E402

RANKER_HELDOUT_YEAR = 2013  # of make_training_data.HELDOUT_YEARS; the other trains the ranker


def ranker_held_out(key: str, every: int) -> bool:
    return int(hashlib.sha1(f"ranker:{key}".encode()).hexdigest(), 16) % every == 0


@click.group()
def cli():
    pass


@cli.command()
@click.option("--work", type=click.Path(path_type=Path), required=True)
def prepare(work: Path):
    """Copy the training corpora into `work` and build an index of each with kb."""
    from kb.build import build

    gov = work / "gov"
    gov.mkdir(parents=True, exist_ok=True)
    src = SHARED / "corpora" / "gov-reports"
    rows = list(csv.DictReader(open(src / "manifest.csv", encoding="utf-8")))
    keep = [r for r in rows if int(r["year"]) >= 2008]
    with open(gov / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in keep:
            w.writerow(r)
            shutil.copy(src / r["file"], gov / r["file"])
    for docs, name in ((gov, "idx-gov"), (SHARED / "corpora" / "cmrc2018" / "trial" / "corpus.jsonl", "idx-cmrc")):
        print(json.dumps(build(docs, work / name).to_dict(), ensure_ascii=False)[:300])


def _questions(data: Path, gov, cmrc, rng: random.Random, per_source: int) -> list[dict]:
    """{"src", "split", "q", "index", "docs" (search within; () = all), "gold" (doc, paragraph) set
    or doc ids}."""
    out = []
    by_text = {c.embed_text: c for c in gov.chunks}
    # not gov-lead: its question *is* the section heading, which would teach the ranker
    # that a question always repeats the heading of its answer
    for line in (data / "heldout.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        c = by_text.get(row["pos"]) if row["src"] == "gov-figure" else None
        if c is not None:
            out.append({"src": "gov", "split": "heldout" if ranker_held_out(c.doc_id, 3) else "train",
                        "q": row["q"], "index": "gov", "docs": (c.doc_id,), "gold": {(c.doc_id, c.paragraph)}})
    pairs = [json.loads(x) for x in (SHARED / "corpora" / "gov-reports-zh-en" / "pairs.jsonl")
             .read_text(encoding="utf-8").splitlines()]
    for p in pairs:
        doc = gov.documents.get(f"{p['year']}-national")
        if doc is None or p["year"] not in HELDOUT_YEARS or len(p["zh"]) < 12:
            continue
        made = english_question(p["en"], p["year"], rng)
        gold = {(doc.doc_id, para.number) for para in doc.paragraphs if not para.heading and p["zh"] in para.text}
        if made and gold:
            out.append({"src": "en-short", "split": "heldout" if p["year"] == RANKER_HELDOUT_YEAR else "train",
                        "q": made[0], "index": "gov", "docs": (doc.doc_id,), "gold": gold})
    for line in (SHARED / "corpora" / "cmrc2018" / "trial" / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["q"].strip() and all(g in cmrc.documents for g in row["gold_ids"]):
            split = "heldout" if ranker_held_out(row["gold_ids"][0], 4) else "train"
            out.append({"src": "cmrc", "split": split, "q": row["q"], "index": "cmrc", "docs": (),
                        "gold": set(row["gold_ids"])})
    rng.shuffle(out)
    kept, count = [], {}
    for q in out:
        key = (q["src"], q["split"])
        if count.get(key, 0) < per_source:
            count[key] = count.get(key, 0) + 1
            kept.append(q)
    print(json.dumps({f"{s}/{p}": n for (s, p), n in sorted(count.items())}))
    return kept


def _featurise(q: dict, index, embedder) -> dict | None:
    mask = index.doc_mask(set(q["docs"])) if q["docs"] else None
    qv = np.ascontiguousarray(embedder.encode_queries([q["q"]]), np.float32)
    want = max(Fusion().candidates, 10 * CANDIDATES_PER_RESULT)
    dense, lexical, coverage = candidates(index, qv, index.lexical.scores(q["q"], mask), want, mask)
    ids, x = features(index, q["q"], qv, dense, lexical, coverage, mask)
    if not len(ids):
        return None
    chunks = [index.chunks[int(i)] for i in ids]
    gold = q["gold"]
    y = np.array([(c.doc_id, c.paragraph) in gold or c.doc_id in gold for c in chunks], bool)
    rrf = fuse(dense, lexical, Fusion(method="rrf"), coverage, q["q"])
    para = [(c.doc_id, c.paragraph) if q["index"] == "gov" else c.doc_id for c in chunks]
    return {"x": x, "y": y, "para": para, "rrf": np.array([rrf.get(int(i), 0.0) for i in ids]),
            "dense": x[:, FEATURES.index("dense")], "bm25": x[:, FEATURES.index("bm25")]}


def _rank_of_gold(scores: np.ndarray, item: dict) -> int | None:
    """Rank of the first right paragraph once chunks are grouped by paragraph (as search shows them)."""
    seen, rank = set(), 0
    for j in np.argsort(-scores, kind="stable"):
        if item["para"][j] in seen:
            continue
        seen.add(item["para"][j])
        rank += 1
        if item["y"][j]:
            return rank
        if rank >= 10:
            return None
    return None


def _report(items: list[dict], score_fns: dict) -> dict:
    out = {}
    for name, fn in score_fns.items():
        ranks = [_rank_of_gold(fn(it), it) for it in items]
        n = len(ranks)
        out[name] = {"R@1": round(sum(r == 1 for r in ranks) / n, 3),
                     "MRR@10": round(sum(1 / r for r in ranks if r) / n, 3), "n": n}
    return out


def fit_listwise(items: list[dict], l2: float) -> np.ndarray:
    """Weights that maximise, over the training questions, the softmax probability of the right
    chunks among all of a question's candidates (a listwise loss: it rewards putting a right chunk
    first, where a pairwise loss over a few hard negatives ranked English questions below dense
    alone). The weights start from the old hybrid (kb.ranker.RRF_PRIOR, at the scale that fits the
    training questions best) and the weight decay pulls them back to it, not to zero."""
    from scipy.optimize import minimize

    data = [(it["x"].astype(np.float64), it["y"]) for it in items
            if it["split"] == "train" and it["y"].any() and not it["y"].all()]

    def loss(w, w0):
        total, grad = 0.0, np.zeros_like(w)
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            right = max(p[y].sum(), 1e-300)
            total -= np.log(right)
            grad -= x[y].T @ p[y] / right - x.T @ p
        d = w - w0
        return total / len(data) + l2 * d @ d, grad / len(data) + 2 * l2 * d

    prior = np.array([RRF_PRIOR.get(f, 0.0) for f in FEATURES])
    w0 = min((prior * a for a in (1, 3, 10, 30, 100, 300)), key=lambda w: loss(w, w)[0])
    return minimize(loss, w0, args=(w0,), jac=True, method="L-BFGS-B").x


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--per-source", default=1500, show_default=True)
@click.option("--l2", default=0.0003, show_default=True, help="weight decay of the listwise fit")
@click.option("--seed", default=13, show_default=True)
def fit(data: Path, work: Path, out: Path, per_source: int, l2: float, seed: int):
    rng = random.Random(seed)
    indexes = {"gov": store.load(work / "idx-gov"), "cmrc": store.load(work / "idx-cmrc")}
    embedder = load_embedder(indexes["gov"].model_name)
    questions = _questions(data, indexes["gov"], indexes["cmrc"], rng, per_source)
    items = []
    with click.progressbar(questions, label="features") as bar:
        for q in bar:
            it = _featurise(q, indexes[q["index"]], embedder)
            if it is not None:
                it.update(src=q["src"], split=q["split"])
                items.append(it)
    w = fit_listwise(items, l2)
    fns = {"dense": lambda it: it["dense"], "bm25": lambda it: it["bm25"], "rrf (old hybrid)": lambda it: it["rrf"],
           "learned": lambda it: it["x"] @ w}
    report = {}
    for split in ("train", "heldout"):
        for src in ("gov", "en-short", "cmrc"):
            sub = [i for i in items if i["split"] == split and i["src"] == src]
            if sub:
                report[f"{src}/{split}"] = _report(sub, fns)
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps([round(float(v), 6) for v in w]).encode()).hexdigest()[:12]
    out.write_text(json.dumps({
        "features": list(FEATURES), "weights": [round(float(v), 6) for v in w], "bias": 0.0,
        "id": f"ranker-{digest}", "trained_on": {"questions": sum(i["split"] == "train" for i in items),
                                                 "loss": "listwise softmax", "l2": l2,
                                                 "model": indexes["gov"].model_name, "seed": seed},
        "scores": report}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(dict(zip(FEATURES, np.round(w, 3).tolist()))))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    cli()
