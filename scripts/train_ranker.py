"""Learn kb's ranker (kb/weights/ranker.json) from training questions over indexes of training text.

    python scripts/make_training_data.py --out /tmp/kbtrain
    python scripts/train_ranker.py prepare --work /tmp/rk    # copies the corpora, builds the indexes
    python scripts/train_ranker.py fit --data /tmp/kbtrain --work /tmp/rk --out kb/weights/ranker.json
    python scripts/train_ranker.py score --data /tmp/kbtrain --work /tmp/rk [--no-expansion]   # no refit
    python scripts/train_ranker.py lambdarank --data /tmp/kbtrain --work /tmp/rk   # beside LightGBM (ablation)

The indexes are built with the model kb ships, with its adapter (on by default), so the ranker learns
from the scores it will see beside it. A ranker learned on questions the adapter was trained on
learns to trust the dense side too much (its scores are better there than on new questions), so
every question here is one the adapter never saw (none from any evaluation set either):
- gov: the gov-figure questions make_training_data.py holds out of the adapter's training (1 report
  in 8), over the national (2008-2025) and 2025 provincial reports of ../shared/corpora/gov-reports,
  each searched within its report, as a reader who has picked a report does;
- reader: 93 questions written by hand as readers ask them (scripts/training/reader-questions.jsonl:
  "烂尾楼交付得怎么样了", "今年家电以旧换新准备搞多少台"), about 2025-henan, 2025-anhui, 2022-national,
  2025-liaoning and 2025-shaanxi, five reports the adapter never trained on, each searched within its
  report; the generated questions repeat the report's words, these mostly do not;
- en-short: short English questions and keyword queries (make_training_data.english_question) made
  from the official English sentences of the zh-en years the adapter never saw, searched within
  that year's report; gold: the paragraph holding the Chinese sentence;
- cmrc: CMRC 2018 *trial* questions over its 256 paragraphs, searched across all of them (trial
  chose between adapter runs; it was never trained on);
- archive: questions naming a year, over the whole archive of national reports 1954-2025 (idx-archive):
  a sentence of a report's plan for its own year Y that sets an indicator's figure ("国内生产总值增长8%
  左右") becomes "Y年国内生产总值增长目标是多少" (gold: its paragraph), and a sentence of the review of
  year Y in report Y+1 that gives one ("国内生产总值…比上年增长9.9%") becomes "Y年国内生产总值实际增长了
  多少"; the same indicator in the other part of the other report is the hard negative the ranker must
  learn to put below (see archive_questions).
- sibling (only with --siblings; not in the shipped ranker): CMRC trial's paragraphs cut into two halves of
  one title, the index `train_reranker.py weigh` builds (see sibling_questions). Fit with it, the ranker
  gained DRCD and lost report questions (docs/quality.md, sixteenth session).
The ranker's own held-out split: 1 in 3 of those reports (by a hash; the reader questions of 2025-liaoning and 2025-shaanxi), the zh-en year 2013, 1 in
4 CMRC trial paragraphs, and the archive questions about years divisible by 4. The fit is listwise (the softmax probability of the right chunks among all of a
question's candidates, fit_listwise), so only the order it gives is learned. CPU time on 2 cores:
prepare ~10 min (embedding), fit ~30 s.
"""
from __future__ import annotations

import csv
import hashlib
import json
import random
import re
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
from kb.search import CANDIDATES_PER_RESULT, candidates, spoken_years  # noqa: E402

RANKER_HELDOUT_YEAR = 2013  # of make_training_data.HELDOUT_YEARS; the other trains the ranker
# questions written as readers ask them, about five reports the adapter never trained on
READER_QUESTIONS = Path(__file__).parent / "training" / "reader-questions.jsonl"


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
    archive = work / "archive"
    archive.mkdir(exist_ok=True)
    for r in rows:
        if r["file"].endswith("-national.txt"):
            shutil.copy(src / r["file"], archive / r["file"])
    for docs, name in ((gov, "idx-gov"), (SHARED / "corpora" / "cmrc2018" / "trial" / "corpus.jsonl", "idx-cmrc"),
                       (archive, "idx-archive")):
        print(json.dumps(build(docs, work / name).to_dict(), ensure_ascii=False)[:300])


INDICATORS = ("国内生产总值", "国民生产总值", "居民消费价格", "城镇新增就业", "粮食产量", "财政收入", "进出口",
              "社会消费品零售总额", "固定资产投资", "工业增加值", "城镇登记失业率", "城镇调查失业率", "财政赤字",
              "工农业总产值", "国民收入", "工业总产值", "农业总产值", "单位国内生产总值能耗", "外贸进出口")
TARGET_FORMS = ("{y}年{i}增长目标是多少", "{y}年{i}预期增长多少", "{y}年{i}的目标", "{y}年{i}计划增长多少",
                "{y}年{i}预期目标")
OUTCOME_FORMS = ("{y}年{i}实际增长了多少", "{y}年{i}增长了多少", "{y}年{i}完成情况", "{y}年{i}比上年增长多少",
                 "{y}年{i}实际是多少")
_FIG = re.compile(r"[\d０-９]+(?:[.．][\d０-９]+)?\s*[%％]|百分之[零〇一二三四五六七八九十点]+|[\d０-９]+(?:[.．][\d０-９]+)?万人|"
                  r"[\d０-９]+(?:[.．][\d０-９]+)?万亿元|[\d０-９]+(?:[.．][\d０-９]+)?亿元")


def indicator_sentences(doc, indicators: tuple[str, ...] = INDICATORS):
    """(paragraph, "target" or "outcome", indicator, sentence) for each sentence of a report's plan (its
    part about its own year) or review (about the year before) that gives a figure for an indicator (a
    target's also says 目标, 预期, 左右…). The longest indicator found wins (单位国内生产总值能耗, not
    国内生产总值)."""
    from kb.timeframe import paragraph_years

    if not doc.year:
        return
    by_indicator = sorted(indicators, key=len, reverse=True)
    years = paragraph_years(doc)
    for para in doc.paragraphs:
        span = years[para.number]
        kind = ("target" if span == (doc.year, doc.year) else
                "outcome" if span == (doc.year - 1, doc.year - 1) else None)
        if para.heading or kind is None:
            continue
        for sentence in re.split(r"(?<=[。；])", para.text):
            ind = next((i for i in by_indicator if i in sentence), None)
            if not ind or not _FIG.search(sentence[sentence.index(ind):]):
                continue
            if kind == "target" and not re.search(r"目标|预期|计划|控制在|左右|以上|以内", sentence):
                continue
            yield para, kind, ind, sentence


def archive_questions(index, rng: random.Random) -> list[dict]:
    """Questions naming a year over the archive of yearly reports: a target of year Y from the plan
    of report Y (its part about Y), an outcome of year Y from the review in report Y+1 (its part
    about Y). One question per report, part and indicator."""
    out, seen = [], set()
    for doc in index.documents.values():
        for para, kind, ind, _ in indicator_sentences(doc):
            year = doc.year if kind == "target" else doc.year - 1
            key = (doc.doc_id, kind, ind)
            if key in seen:
                continue
            seen.add(key)
            form = rng.choice(TARGET_FORMS if kind == "target" else OUTCOME_FORMS)
            out.append({"src": "archive", "split": "heldout" if year % 4 == 0 else "train",
                        "q": form.format(y=year, i=ind), "index": "archive", "docs": (),
                        "gold": {(doc.doc_id, para.number)}})
    return out


def _questions(data: Path, gov, cmrc, rng: random.Random, per_source: int, archive=None,
               siblings: Path | None = None) -> list[dict]:
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
    for line in READER_QUESTIONS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        doc = gov.documents[row["doc"]]
        gold = {(doc.doc_id, para.number) for para in doc.paragraphs if not para.heading and row["gold"] in para.text}
        out.append({"src": "reader", "split": "heldout" if ranker_held_out(doc.doc_id, 3) else "train",
                    "q": row["q"], "index": "gov", "docs": (doc.doc_id,), "gold": gold})
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
    if archive is not None:
        out += archive_questions(archive, rng)
    if siblings is not None:
        out += sibling_questions(siblings)
    rng.shuffle(out)
    kept, count = [], {}
    for q in out:
        key = (q["src"], q["split"])
        if count.get(key, 0) < per_source:
            count[key] = count.get(key, 0) + 1
            kept.append(q)
    print(json.dumps({f"{s}/{p}": n for (s, p), n in sorted(count.items())}))
    return kept


def sibling_questions(work: Path) -> list[dict]:
    """CMRC trial's paragraphs cut into two halves of one title (train_reranker.py's sibling_halves, its
    index built by `train_reranker.py weigh` in `work`): DRCD's shape, sibling paragraphs of one article,
    which the other sources lack. Held out as the cmrc source is, by paragraph."""
    from train_reranker import sibling_halves

    _, questions = sibling_halves(SHARED / "corpora" / "cmrc2018" / "trial", work / "siblings")
    return [dict(q, index="siblings", split="heldout" if ranker_held_out(next(iter(q["gold"]))[:-1], 4) else "train")
            for q in questions]


def _indexes(work: Path, siblings: bool = False) -> dict:
    names = ("gov", "cmrc", "archive") + (("siblings",) if siblings else ())
    if siblings and not (work / "idx-siblings").is_dir():
        raise click.UsageError(f"no {work / 'idx-siblings'}: run `train_reranker.py weigh --work {work}` first")
    return {name: store.load(work / f"idx-{name}") for name in names}


def _ranker_weights(path: Path) -> np.ndarray:
    """A ranker JSON's weights in FEATURES' order (a feature it lacks: 0)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    by_name = dict(zip(data["features"], data["weights"]))
    return np.array([by_name.get(f, 0.0) for f in FEATURES])


def _featurise_all(questions: list[dict], indexes: dict, embedder) -> list[dict]:
    items = []
    with click.progressbar(questions, label="features") as bar:
        for q in bar:
            it = _featurise(q, indexes[q["index"]], embedder)
            if it is not None:
                it.update(src=q["src"], split=q["split"])
                items.append(it)
    return items


def _report_by_source(items: list[dict], score_fns: dict) -> dict:
    report = {}
    for split in ("train", "heldout"):
        for src in ("gov", "reader", "en-short", "cmrc", "archive", "sibling"):
            sub = [i for i in items if i["split"] == split and i["src"] == src]
            if sub:
                report[f"{src}/{split}"] = _report(sub, score_fns)
    return report


def _featurise(q: dict, index, embedder) -> dict | None:
    mask = index.doc_mask(set(q["docs"])) if q["docs"] else None
    qv = np.ascontiguousarray(embedder.encode_queries([q["q"]]), np.float32)
    want = max(Fusion().candidates, 10 * CANDIDATES_PER_RESULT)
    dense, lexical, coverage = candidates(index, qv, index.lexical.scores(q["q"], mask), want, mask,
                                          also=spoken_years(index, q["q"]))
    ids, x = features(index, q["q"], qv, dense, lexical, coverage, mask)
    if not len(ids):
        return None
    chunks = [index.chunks[int(i)] for i in ids]
    gold = q["gold"]
    y = np.array([(c.doc_id, c.paragraph) in gold or c.doc_id in gold for c in chunks], bool)
    rrf = fuse(dense, lexical, Fusion(method="rrf"), coverage, q["q"])
    para = [c.doc_id if q["index"] in ("cmrc", "siblings") else (c.doc_id, c.paragraph) for c in chunks]
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


def fit_listwise(items: list[dict], l2: float, start: np.ndarray | None = None,
                 free: np.ndarray | None = None) -> np.ndarray:
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

    if start is not None and free is not None:  # a shipped ranker: learn only the `free` weights
        def part(v):
            w = start.copy()
            w[free] = v
            value, grad = loss(w, start)
            return value, grad[free]
        w = start.copy()
        w[free] = minimize(part, start[free], jac=True, method="L-BFGS-B").x
        return w
    if start is not None:  # a shipped ranker: move from it only as far as the data asks
        return minimize(loss, start, args=(start,), jac=True, method="L-BFGS-B").x
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
@click.option("--start", type=click.Path(exists=True, path_type=Path), default=None,
              help="A ranker JSON to start from and pull back to (its features by name; new ones start at 0), "
                   "instead of the old hybrid.")
@click.option("--learn", default="", help="With --start: only these features' weights are learned "
              "(comma-separated); the others keep the start's.")
@click.option("--siblings", is_flag=True, help="Also CMRC trial's paragraphs cut in two halves of one title "
              "(the index `train_reranker.py weigh` builds in --work): sibling paragraphs, as DRCD's.")
def fit(data: Path, work: Path, out: Path, per_source: int, l2: float, seed: int, start: Path | None, learn: str,
        siblings: bool):
    rng = random.Random(seed)
    indexes = _indexes(work, siblings)
    embedder = load_embedder(indexes["gov"].model_name)
    questions = _questions(data, indexes["gov"], indexes["cmrc"], rng, per_source, indexes["archive"],
                           work if siblings else None)
    items = _featurise_all(questions, indexes, embedder)
    w0 = _ranker_weights(start) if start is not None else None
    free = np.array([f in learn.split(",") for f in FEATURES]) if learn and w0 is not None else None
    w = fit_listwise(items, l2, w0, free)
    fns = {"dense": lambda it: it["dense"], "bm25": lambda it: it["bm25"], "rrf (old hybrid)": lambda it: it["rrf"],
           "learned": lambda it: it["x"] @ w}
    report = _report_by_source(items, fns)
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps([round(float(v), 6) for v in w]).encode()).hexdigest()[:12]
    out.write_text(json.dumps({
        "features": list(FEATURES), "weights": [round(float(v), 6) for v in w], "bias": 0.0,
        "id": f"ranker-{digest}", "trained_on": {"questions": sum(i["split"] == "train" for i in items),
                                                 "loss": "listwise softmax", "l2": l2,
                                                 "model": indexes["gov"].model_name, "seed": seed,
                                                 "start": json.loads(start.read_text(encoding="utf-8"))["id"]
                                                 if start else "old hybrid (RRF)",
                                                 "learned": learn.split(",") if free is not None else "all"},
        "scores": report}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(dict(zip(FEATURES, np.round(w, 3).tolist()))))
    print(json.dumps(report, indent=1))


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--ranker", type=click.Path(exists=True, path_type=Path), default=None,
              help="A ranker JSON [default: the shipped one].")
@click.option("--no-expansion", is_flag=True, help="English questions without the learned lexicon (an ablation).")
@click.option("--per-source", default=1500, show_default=True)
@click.option("--seed", default=13, show_default=True)
@click.option("--siblings", is_flag=True, help="Also the sibling halves of CMRC trial (as fit's --siblings).")
def score(data: Path, work: Path, ranker: Path | None, no_expansion: bool, per_source: int, seed: int, siblings: bool):
    """R@1 / MRR@10 of a ranker on the training side's questions (train and held-out), refitting nothing."""
    from kb import lexicon
    from kb.ranker import RANKER_FILE

    if no_expansion:  # BM25 and the ranker's features both read English through lexicon.expand
        lexicon.expand = lambda query: []
    w = _ranker_weights(ranker or RANKER_FILE)
    indexes = _indexes(work, siblings)
    embedder = load_embedder(indexes["gov"].model_name)
    questions = _questions(data, indexes["gov"], indexes["cmrc"], random.Random(seed), per_source, indexes["archive"],
                           work if siblings else None)
    items = _featurise_all(questions, indexes, embedder)
    report = _report_by_source(items, {"ranker": lambda it: it["x"] @ w})
    print(json.dumps({name: r["ranker"] for name, r in report.items()}, indent=1))


@cli.command("archive-ranks")
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--save", type=click.Path(path_type=Path), required=True,
              help="Where to write this commit's archive questions (JSON), for a run at another commit.")
@click.option("--questions", "others", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Archive questions another commit saved: scored here too.")
@click.option("--seed", default=13, show_default=True)
def archive_ranks(work: Path, save: Path, others: tuple[Path, ...], seed: int):
    """Each archive question's rank (first right paragraph; null past 10) under this commit, a JSON line each.

    The archive questions are drawn by the years each paragraph speaks about (kb/timeframe.py), so a change
    there changes the questions as well as the ranking: run this at both commits, each given the other's
    saved questions, and compare the two on the union."""
    from kb.ranker import RANKER_FILE

    index = store.load(work / "idx-archive")
    mine = archive_questions(index, random.Random(seed))
    save.write_text(json.dumps([dict(q, gold=sorted(q["gold"])) for q in mine], ensure_ascii=False), encoding="utf-8")
    union = {}
    for q in mine + [q for path in others for q in json.loads(path.read_text(encoding="utf-8"))]:
        gold = tuple(sorted(tuple(g) for g in q["gold"]))
        union[q["q"], gold] = dict(q, gold=set(gold))
    w = _ranker_weights(RANKER_FILE)
    embedder = load_embedder(index.model_name)
    for (text, gold), q in sorted(union.items()):
        item = _featurise(q, index, embedder)
        rank = _rank_of_gold(item["x"] @ w, item) if item is not None else None
        print(json.dumps({"q": text, "gold": gold, "split": q["split"], "rank": rank}, ensure_ascii=False))


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--per-source", default=1500, show_default=True)
@click.option("--seed", default=13, show_default=True)
def lambdarank(data: Path, work: Path, per_source: int, seed: int):
    """The shipped linear ranker beside LightGBM lambdarank forests fit on the same training questions and
    features (an ablation: trees learn interactions a linear score cannot, and overfit the few hundred
    reader and archive questions). Needs `pip install lightgbm`; nothing here is shipped."""
    try:
        import lightgbm as lgb
    except ImportError:
        raise click.ClickException("this comparison needs lightgbm: pip install lightgbm") from None
    from kb.ranker import RANKER_FILE

    w = _ranker_weights(RANKER_FILE)
    indexes = _indexes(work)
    embedder = load_embedder(indexes["gov"].model_name)
    questions = _questions(data, indexes["gov"], indexes["cmrc"], random.Random(seed), per_source, indexes["archive"])
    items = _featurise_all(questions, indexes, embedder)
    train = [it for it in items if it["split"] == "train" and it["y"].any()]
    x, y = np.vstack([it["x"] for it in train]), np.concatenate([it["y"] for it in train]).astype(int)
    fns = {"linear (shipped)": lambda it: it["x"] @ w}
    for leaves, trees, rate in ((7, 100, 0.05), (15, 200, 0.05), (31, 300, 0.03)):
        model = lgb.LGBMRanker(objective="lambdarank", n_estimators=trees, learning_rate=rate, num_leaves=leaves,
                               subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed, verbose=-1,
                               n_jobs=1, deterministic=True, force_row_wise=True)
        model.fit(x, y, group=[len(it["y"]) for it in train])
        fns[f"lambdarank {leaves} leaves x {trees}"] = lambda it, m=model: m.predict(it["x"])
    for name, by_fn in _report_by_source(items, fns).items():
        n = next(iter(by_fn.values()))["n"]
        print(f"{name:18} " + "  ".join(f"{fn}: {r['R@1']:.3f}" for fn, r in by_fn.items()) + f"  (n={n})")


if __name__ == "__main__":
    cli()
